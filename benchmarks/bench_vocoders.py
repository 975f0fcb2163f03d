#!/usr/bin/env python
"""Generation speed of every vocoder conf, next to Griffin-Lim measured in the same run.

For each conf/vocoder/*.yaml (small and paper-sized), a generator is built from its ``train``
section with random weights (speed does not depend on training; weight norm is folded away
as at synthesis) and asked to vocode the same log-mels: real ones from a dumped feats.scp
when ``--feats-scp`` is given, else smooth random ones. Reported: the real-time factor
(wall seconds per second of audio, lower is faster; < 1 is faster than real time) and the
ratio to Griffin-Lim's RTF (conf/vocoder/griffin_lim.yaml). Each timing is the best of
``--repeat`` runs, as the machine may be shared. Autoregressive WaveNet is timed on a short
excerpt (``--ar-seconds``), its cost being linear in the number of samples.

Usage:
    python benchmarks/bench_vocoders.py [--threads 2] [--utts 4] [--seconds 2.0] [--device cpu]
        [--feats-scp dump/espeak_emo/mel80/eval/feats.scp] [--only hifigan,melgan] [--json out.json]
GPU figures: ``--device cuda`` (also run automatically after the CPU table when CUDA is present).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from pytorch_backend.config import FEATS_SCHEMA, VOCODER_SCHEMA, defaults_of, load_checked
from pytorch_backend.vocoders import VOCODERS, NeuralVocoder, build_vocoder
from pytorch_backend.vocoders.train import resolve_train_conf

REPO = Path(__file__).resolve().parent.parent


def test_mels(args, feats) -> list[np.ndarray]:
    if args.feats_scp:
        from pytorch_backend.vocoders.synth import load_feats_scp

        mats = [m for _, m in load_feats_scp(args.feats_scp, feats["n_mels"])]
        return mats[:args.utts]
    rng = np.random.default_rng(0)
    frames = int(args.seconds * feats["fs"] / feats["hop_length"])
    out = []
    for _ in range(args.utts):
        base = rng.normal(-5.0, 2.0, size=(1, feats["n_mels"]))
        walk = np.cumsum(rng.normal(0, 0.3, size=(frames, feats["n_mels"])), axis=0)
        out.append((base + 0.2 * walk).astype(np.float32))
    return out


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def build(name: str, feats: dict, device: str):
    path = REPO / "conf" / "vocoder" / f"{name}.yaml"
    voc = load_checked(path, VOCODER_SCHEMA)
    reg = voc["name"] or name
    cls = VOCODERS[reg]
    conf = {k: v for k, v in voc["conf"].items() if k not in ("device",)}
    if not issubclass(cls, NeuralVocoder):
        return build_vocoder(reg, {**conf, "device": device}, feats, source=path), None
    train = resolve_train_conf(cls, voc["train"], path)
    torch.manual_seed(0)
    gen = cls.build_generator(train["generator"], feats)
    params = sum(p.numel() for p in gen.parameters())
    return cls.from_generator(gen, feats, device=device, batch_size=int(conf.get("batch_size", 1))), params


def run(args, device: str) -> list[dict]:
    feats = defaults_of(FEATS_SCHEMA)
    mels = test_mels(args, feats)
    names = sorted(p.stem for p in (REPO / "conf" / "vocoder").glob("*.yaml"))
    if args.only:
        keep = set(args.only.split(",")) | {"griffin_lim"}
        names = [n for n in names if n in keep]
    names.remove("griffin_lim")
    names.insert(0, "griffin_lim")
    rows, gl_rtf = [], None
    for name in names:
        vocoder, params = build(name, feats, device)
        reg = type(vocoder).__name__
        inputs = mels
        if getattr(vocoder, "name", "") == "wavenet":
            frames = max(1, int(args.ar_seconds * feats["fs"] / feats["hop_length"]))
            inputs = [m[:frames] for m in mels[:1]]
        audio = sum(len(m) for m in inputs) * feats["hop_length"] / feats["fs"]

        def go():
            with torch.inference_mode():
                vocoder(inputs)
            if device == "cuda":
                torch.cuda.synchronize()

        go()  # warm-up (allocations, kernel selection)
        rtf = best_time(go, args.repeat if getattr(vocoder, "name", "") != "wavenet" else 1) / audio
        if name == "griffin_lim":
            gl_rtf = rtf
        row = {"conf": name, "class": reg, "device": device, "params": params, "audio_seconds": round(audio, 2),
               "rtf": round(rtf, 5), "vs_griffin_lim": round(rtf / gl_rtf, 3)}
        rows.append(row)
        print(f"{name:26s} {reg:18s} {device:5s} params {str(params or '-'):>10s}  audio {audio:6.2f} s  "
              f"RTF {rtf:8.4f}  x Griffin-Lim {rtf / gl_rtf:7.3f}", flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--utts", type=int, default=4)
    p.add_argument("--seconds", type=float, default=2.0, help="length of each random test utterance")
    p.add_argument("--ar-seconds", type=float, default=0.25, help="audio generated by autoregressive WaveNet")
    p.add_argument("--feats-scp", default=None, help="vocode these real log-mels instead of random ones")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--only", default=None, help="comma-separated conf names (Griffin-Lim always runs)")
    p.add_argument("--json", default=None, help="also write the rows here")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s)")
    rows = run(args, args.device)
    if args.device == "cpu" and torch.cuda.is_available():
        rows += run(args, "cuda")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
