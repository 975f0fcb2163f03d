#!/usr/bin/env python
"""Speed of TTS training and decoding, each against a baseline measured in the same run.

1. Training throughput (target frames per second, forward + backward + Adam step) on a fixed
   batch shaped like espeak_emo's (``--batch`` utterances of ~``--frames`` frames, ~40 tokens),
   model from ``conf/tts/<model>.yaml``:
   - baseline: the textbook Tacotron 2 decoder loop (attention LSTM with context feedback,
     location convolution, decoder LSTM and output projections all run step by step, as in
     most implementations);
   - "fused, feedback": this package with ``context_feedback: true`` (Tacotron 2 proper): only
     the attention LSTM + attention run step by step (location filters merged into one
     matmul), the decoder LSTM and projections run once over the sequence. Same weights as
     the baseline; the benchmark checks their outputs agree;
   - "as configured": the conf's model (the demo confs use ``context_feedback: false``: the
     attention LSTM runs fused too, only the attention itself is stepped).
2. Padding fraction (share of computed frames that are padding) of the length-bucketed sampler
   vs random batching under the same ``batch_frames`` bound, on a realistic length
   distribution (the train split's utt2num_frames if ``--dump`` is given, else a synthetic mix of
   five speaking rates).
3. Decoding real-time factor (wall seconds per second of audio, lower is faster) of
   step-by-step inference, one utterance at a time.

Every model here is built with ``alignment: attention`` whatever the conf says (the CPU confs
learn durations instead, whose decoder has no step-by-step attention to fuse: its teacher-forced
pass is two fused LSTM calls by construction).

Timings are the best of ``--repeat`` runs, as the machine may be shared.

Usage:  python benchmarks/bench_train.py [--model gst] [--threads 2] [--batch 22] [--frames 180]
                                         [--dump dump/espeak_emo/mel80] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from pytorch_backend.config import TTS_SCHEMA, load_checked
from pytorch_backend.data.sampler import BucketBatchSampler, padding_fraction, random_batches
from pytorch_backend.io.kaldi_map import read_kv
from pytorch_backend.tts import build_model
from pytorch_backend.tts.layers.masks import length_mask

REPO = Path(__file__).resolve().parent.parent


ATTENTION = {"alignment": "attention", "duration_model": None}  # what this benchmark times (see the docstring)


def textbook_decoder_forward(dec, memory, memory_mask, mels, cond=None, feedback=None):
    """Baseline teacher-forced decoder: every module called once per decoder step.

    ``cond`` (speaker/emotion/style vector) enters as in the package's decoder: added to the
    prenet output or concatenated to the decoder LSTM input, per the decoder's ``cond_mode``;
    ``feedback`` (scheduled sampling's mixed inputs) replaces the teacher-forcing inputs."""
    b, t, _ = mels.shape
    if feedback is None:
        last = mels[:, dec.r - 1::dec.r]
        inputs = torch.cat([mels.new_zeros(b, 1, dec.n_mels), last[:, :-1]], 1)
    else:
        inputs = feedback
    att = dec.attention
    pm = att.memory(memory)
    n = memory.size(1)
    h = memory.new_zeros(b, dec.attn_cell.hidden)
    c = torch.zeros_like(h)
    ctx = memory.new_zeros(b, dec.memory_dim)
    w = memory.new_zeros(b, n)
    cum = torch.zeros_like(w)
    state = None
    mels_out, stops, aligns = [], [], []
    for g in range(inputs.size(1)):
        p = dec._prenet(inputs[:, g], cond)
        h, c = dec.attn_cell(dec.attn_cell.input_gates(p), ctx, h, c)
        loc = att.loc_proj(att.loc_conv(torch.stack([w, cum], 1)).transpose(1, 2))
        e = att.score(torch.tanh(att.query(h).unsqueeze(1) + pm + loc)).squeeze(-1)
        w = F.softmax(e.masked_fill(~memory_mask, float("-inf")), -1)
        cum = cum + w
        ctx = torch.bmm(w.unsqueeze(1), memory).squeeze(1)
        out, state = dec.dec_rnn(dec._dec_input(h, ctx, cond).unsqueeze(1), state)
        mel, stop = dec._project(out[:, 0], ctx)
        mels_out.append(mel)
        stops.append(stop)
        aligns.append(w)
    return torch.stack(mels_out, 1).reshape(b, t, dec.n_mels), torch.stack(stops, 1), torch.stack(aligns, 1)


def fixed_batch(batch: int, frames: int, tokens: int, r: int, n_mels: int, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    mel_lens = torch.randint(int(frames * 0.9), frames + 1, (batch,), generator=g)
    mel_lens[0] = frames
    token_lens = torch.randint(int(tokens * 0.8), tokens + 1, (batch,), generator=g)
    token_lens[0] = tokens
    t = -(-frames // r) * r
    mels = torch.randn(batch, t, n_mels, generator=g) * length_mask(mel_lens, t).unsqueeze(-1)
    toks = torch.randint(2, 50, (batch, tokens), generator=g) * length_mask(token_lens, tokens)
    return {"tokens": toks, "token_lens": token_lens, "mels": mels, "mel_lens": mel_lens,
            "speakers": torch.randint(0, 4, (batch,), generator=g), "emotions": torch.randint(0, 5, (batch,), generator=g)}


def time_training(model, batch, device, steps: int, repeat: int, textbook: bool) -> float:
    """Best frames/s over ``repeat`` runs of ``steps`` training steps."""
    model.to(device).train()
    batch = {k: v.to(device) for k, v in batch.items()}
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    original = model.decoder.forward
    if textbook:
        model.decoder.forward = lambda m, mask, mels, cond=None, feedback=None: textbook_decoder_forward(
            model.decoder, m, mask, mels, cond, feedback)
    try:
        best = float("inf")
        for rep in range(repeat + 1):  # the first run warms up
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(steps):
                out = model(batch["tokens"], batch["token_lens"], batch["mels"], batch["mel_lens"],
                            batch["speakers"], batch["emotions"])
                loss = model.compute_loss(out, batch)["loss"]
                opt.zero_grad()
                loss.backward()
                opt.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            if rep:
                best = min(best, (time.perf_counter() - t0) / steps)
    finally:
        model.decoder.forward = original
    return float(batch["mel_lens"].sum()) / best


def check_equivalence(model, batch) -> float:
    """Max |difference| between the two decoder implementations (eval mode, no prenet dropout)."""
    model.eval()
    p = model.decoder.prenet.dropout
    model.decoder.prenet.dropout = 0.0
    with torch.no_grad():
        memory = model.encode(batch["tokens"], batch["token_lens"], batch["speakers"], batch["emotions"],
                              batch["mels"], batch["mel_lens"])
        mask = length_mask(batch["token_lens"], batch["tokens"].size(1))
        cond = model._decoder_condition(model.emotion_weights_of(batch["tokens"].size(0), batch["tokens"].device,
                                                                 batch["emotions"]))
        a = model.decoder(memory, mask, batch["mels"], cond)
        b = textbook_decoder_forward(model.decoder, memory, mask, batch["mels"], cond)
    model.decoder.prenet.dropout = p
    return max(float((x - y).abs().max()) for x, y in zip(a, b))


def realistic_lengths(dump: str | None) -> tuple[list[int], str]:
    if dump:
        path = Path(dump) / "train" / "utt2num_frames"
        return [int(v) for v in read_kv(path).values()], str(path)
    rng = np.random.default_rng(0)
    rates = rng.choice([0.68, 0.9, 1.0, 1.15, 1.35], size=810)
    return [int(x) for x in rng.normal(185, 30, size=810).clip(90, 300) / rates], "synthetic (5 speaking rates)"


def time_decoding(model, device, utts: int, tokens: int, repeat: int, hop: int, fs: int) -> float:
    model.to(device).eval()
    style = None
    if hasattr(model, "style_embedding"):
        with torch.no_grad():
            style = model.style_embedding(torch.randn(1, 150, model.n_mels, device=device),
                                          torch.tensor([150], device=device))[0]
    best = float("inf")
    for _ in range(repeat):
        frames = 0
        t0 = time.perf_counter()
        for i in range(utts):
            torch.manual_seed(i)
            toks = torch.randint(2, 50, (tokens,))
            # an untrained stop token never fires: cap at ~5 frames per token (real utterances)
            res = model.inference(toks, speaker=0, emotion=0, style=style, threshold=1.1, maxlenratio=5.0)
            frames += res["mel"].shape[0]
        best = min(best, (time.perf_counter() - t0) / (frames * hop / fs))
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="gst", help="conf/tts/<model>.yaml")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=22, help="utterances per batch (~4000 frames)")
    p.add_argument("--frames", type=int, default=180)
    p.add_argument("--tokens", type=int, default=40)
    p.add_argument("--steps", type=int, default=3, help="training steps per timing")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dump", default=None, help="dump/<corpus>/<feats> for real lengths")
    p.add_argument("--decode-utts", type=int, default=5)
    p.add_argument("--device", default=None, help="cpu | cuda (default: both when CUDA is present)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    conf_path = REPO / "conf" / "tts" / f"{args.model}.yaml"
    conf = load_checked(conf_path, TTS_SCHEMA)
    n_mels = 80
    devices = [torch.device(args.device)] if args.device else (
        [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else []))

    model_conf = dict(conf["model_conf"], **ATTENTION)
    torch.manual_seed(0)
    model = build_model(conf["model"], model_conf, 56, 5, 5, n_mels, conf_path)
    torch.manual_seed(0)
    feedback = build_model(conf["model"], dict(model_conf, context_feedback=True), 56, 5, 5, n_mels, conf_path)
    batch = fixed_batch(args.batch, args.frames, args.tokens, model.r, n_mels)
    diff = check_equivalence(feedback, batch)
    rows = []
    print(f"model {args.model} ({sum(p.numel() for p in model.parameters()):,} params), r={model.r}, "
          f"batch {args.batch} x ~{args.frames} frames, {args.threads} threads; fused and textbook "
          f"decoders agree to {diff:.1e}")
    for device in devices:
        base = time_training(feedback, batch, device, args.steps, args.repeat, textbook=True)
        fused = time_training(feedback, batch, device, args.steps, args.repeat, textbook=False)
        ours = time_training(model, batch, device, args.steps, args.repeat, textbook=False)
        rows.append((f"train frames/s ({device.type}), fused, feedback", f"{base:,.0f}", f"{fused:,.0f}",
                     f"{fused / base:.2f}x"))
        rows.append((f"train frames/s ({device.type}), as configured", f"{base:,.0f}", f"{ours:,.0f}",
                     f"{ours / base:.2f}x"))

    lengths, source = realistic_lengths(args.dump)
    bf, mbs = conf["train"]["batch_frames"], conf["train"]["max_batch_size"]
    rand = padding_fraction(random_batches(lengths, bf, mbs, seed=1), lengths)
    bucket = BucketBatchSampler(lengths, bf, mbs, seed=1).padding_fraction()
    rows.append((f"padding fraction ({len(lengths)} utts)", f"{rand:.3f}", f"{bucket:.3f}",
                 f"{(1 - bucket) / (1 - rand):.2f}x useful"))

    for device in devices:
        rtf = time_decoding(model, device, args.decode_utts, args.tokens, args.repeat, 256, 22050)
        rows.append((f"decode RTF ({device.type})", "-", f"{rtf:.3f}", f"{1 / rtf:.1f}x real time"))

    print(f"lengths: {source}; batch_frames {bf}")
    header = ("measure", "baseline", "emotts", "ratio")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(4)]
    for row in [header] + rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)))


if __name__ == "__main__":
    main()
