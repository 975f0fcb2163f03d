#!/usr/bin/env python
"""Synthesis speed: lines per second of 100 sentences, batched vs one at a time, same run.

For each model (default: fastspeech2 and gst, the confs of conf/tts/, random weights: speed
does not depend on training), the sentences of the embedded corpus go through the real text
frontend (char tokens by default, ``--token-type phn`` for eSpeak phonemes) and then:

- one at a time: ``torch.manual_seed(seed_k)`` + ``model.inference`` per sentence (what decoding
  a split does);
- batched: ``model.inference_batch`` on length-sorted padded batches of ``--batch-size``, each
  sentence with the same seed (the path of ``emotts synthesize`` and the Python API).

Random Tacotron weights would never fire the stop token, so both paths decode with the stop
threshold off and ``maxlenratio`` set to the corpus's frames per token (``--frames-per-token``,
about 5.4 mel frames per character token in espeak_emo): every sentence stops at its own
length, in the batch too. FastSpeech 2's duration predictor is biased to the same rate (random
weights would give about one frame per token). Reported: lines/s of each path, their ratio, and the largest
difference between a sentence's batched and unbatched mel (they must match). Each timing is
the best of ``--repeat`` runs. ``--vocoder`` adds Griffin-Lim (batched in both paths equally).

Usage:
    python benchmarks/bench_synthesize.py [--threads 1] [--lines 100] [--batch-size 16]
        [--models fastspeech2,gst] [--device cpu] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def frontend_of(token_type: str, sentences: list[str]):
    """A frontend and token list built from the sentences themselves (as make_tokens would)."""
    from pytorch_backend.text import Frontend, build_tokenizer
    from pytorch_backend.text.token_list import TokenList

    tokenizer = build_tokenizer(token_type, "en")
    token_list = TokenList.build(t for s in sentences for t in tokenizer.tokenize(s))
    return Frontend(tokenizer, token_list)


def build(name: str, num_tokens: int, device):
    from pytorch_backend.config import TTS_SCHEMA, load_checked
    from pytorch_backend.tts import build_model

    conf = load_checked(REPO / "conf" / "tts" / f"{name}.yaml", TTS_SCHEMA)
    torch.manual_seed(0)
    model = build_model(conf["model"], conf["model_conf"], num_tokens, 5, 5, 80, f"conf/tts/{name}.yaml")
    return model.to(device).eval(), conf


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="fastspeech2,gst")
    p.add_argument("--lines", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--frames-per-token", type=float, default=5.4)
    p.add_argument("--token-type", default="char", choices=["char", "phn"])
    p.add_argument("--vocoder", action="store_true", help="also time Griffin-Lim on the mels")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    from local.espeak_emo.sentences import SENTENCES

    sentences = [SENTENCES[i % len(SENTENCES)] for i in range(args.lines)]
    frontend = frontend_of(args.token_type, sentences)
    tokens = [torch.tensor(frontend.encode(s, add_eos=True)) for s in sentences]
    speakers = [i % 5 for i in range(len(tokens))]
    weights = torch.eye(5)[[i % 5 for i in range(len(tokens))]]
    seeds = list(range(len(tokens)))
    rows = []
    print(f"{len(tokens)} lines, {sum(len(t) for t in tokens) / len(tokens):.1f} {args.token_type} tokens on "
          f"average; {args.threads} thread(s), device {device}, batch size {args.batch_size}")
    for name in args.models.split(","):
        model, conf = build(name, len(frontend.token_list), device)
        r = getattr(model, "r", 1)
        maxlen = args.frames_per_token
        if name == "fastspeech2":  # random durations would be ~1 frame: predict the corpus's rate
            with torch.no_grad():
                model.duration_predictor.out.weight.mul_(0.1)
                model.duration_predictor.out.bias.fill_(float(np.log1p(args.frames_per_token)))
        styles = torch.randn(len(tokens), model.style_dim) * 0.3 if model.uses_style() else None
        w = weights if model.uses_labels() else None
        common = {"threshold": 1.01, "maxlenratio": maxlen, "minlenratio": 0.0}
        if name == "fastspeech2":
            common = {"maxlenratio": None}

        def one_at_a_time():
            out = []
            with torch.no_grad():
                for i, t in enumerate(tokens):
                    torch.manual_seed(seeds[i])
                    res = model.inference(t.to(device), speaker=speakers[i],
                                          emotion_weights=None if w is None else w[i].to(device),
                                          style=None if styles is None else styles[i].to(device), **common)
                    out.append(res["mel"].float().cpu())
            return out

        def batched():
            out: list = [None] * len(tokens)
            order = sorted(range(len(tokens)), key=lambda i: len(tokens[i]))
            for start in range(0, len(order), args.batch_size):
                idx = order[start:start + args.batch_size]
                res = model.inference_batch([tokens[i] for i in idx], [speakers[i] for i in idx],
                                            None if w is None else w[idx].to(device),
                                            None if styles is None else styles[idx].to(device),
                                            seeds=[seeds[i] for i in idx], **common)
                for i, x in zip(idx, res):
                    out[i] = x["mel"].float().cpu()
            return out

        batched()  # warm-up (allocations, lazy initialization)
        t_one, mels_one = best_time(one_at_a_time, args.repeat)
        t_batch, mels_batch = best_time(batched, args.repeat)
        same_len = all(a.shape == b.shape for a, b in zip(mels_one, mels_batch))
        diff = max(float((a - b).abs().max()) for a, b in zip(mels_one, mels_batch)) if same_len else float("nan")
        frames = sum(m.shape[0] for m in mels_one)
        row = {"model": name, "lines": len(tokens), "frames": frames, "r": r,
               "one_at_a_time_lines_per_s": round(len(tokens) / t_one, 2),
               "batched_lines_per_s": round(len(tokens) / t_batch, 2), "ratio": round(t_one / t_batch, 2),
               "max_abs_diff": diff, "same_lengths": same_len,
               "params_M": round(sum(p.numel() for p in model.parameters()) / 1e6, 2)}
        if args.vocoder:
            from pytorch_backend.config import FEATS_SCHEMA, defaults_of
            from pytorch_backend.vocoders.griffin_lim import GriffinLim

            gl = GriffinLim(defaults_of(FEATS_SCHEMA), n_iter=32)
            t_voc, _ = best_time(lambda: gl([m.numpy() - 5.0 for m in mels_batch]), 1)
            row["griffin_lim_lines_per_s"] = round(len(tokens) / t_voc, 2)
            row["end_to_end_ratio"] = round((t_one + t_voc) / (t_batch + t_voc), 2)
        rows.append(row)
        print(f"{name:12s} one at a time {row['one_at_a_time_lines_per_s']:8.2f} lines/s | batched "
              f"{row['batched_lines_per_s']:8.2f} lines/s | {row['ratio']:.2f}x | max |diff| {diff:.2e}"
              + (f" | with Griffin-Lim {row['end_to_end_ratio']:.2f}x" if args.vocoder else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
