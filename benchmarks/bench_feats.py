#!/usr/bin/env python
"""Speed of feature extraction and Griffin-Lim, each against its baseline in the same run.

1. Log-mel extraction, in seconds of audio per second of wall time, on generated files:
   - baseline: a per-file loop of ``librosa.load`` + ``librosa.effects.trim`` +
     ``librosa.feature.melspectrogram`` + log (what one would write without this package);
   - ``steps/make_feats`` code path: ``load_audio`` + ``LogMelExtractor`` (same trim and
     mel settings), per file, and the whole ``dump_feats`` (ark/scp writing included) with
     1 and 2 jobs.
2. Griffin-Lim real-time factor (wall seconds per second of audio; lower is faster) with the
   utterances batched (``batch_size``) vs one at a time.

Each timing is the best of ``--repeat`` runs, as the machine may be shared.

Usage:  python benchmarks/bench_feats.py [--num-files 200] [--gl-utts 32] [--threads 1] [--device cpu]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch

from pytorch_backend.config import FEATS_SCHEMA, defaults_of
from pytorch_backend.feats import LogMelExtractor, load_audio
from pytorch_backend.feats.dump import dump_feats
from pytorch_backend.vocoders import build_vocoder


def harmonic_signal(seconds: float, fs: int, rng: np.random.Generator) -> np.ndarray:
    """Voiced-speech-like audio: a gliding F0 with vibrato, 25 formant-shaped harmonics,
    short silences at both ends."""
    t = np.arange(int(seconds * fs)) / fs
    f0 = rng.uniform(90, 220) * (1 + 0.2 * t / seconds) * (1 + 0.02 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / fs
    formant = rng.uniform(500, 900)
    x = sum(np.exp(-((k * f0 - formant) / 400.0) ** 2) * np.sin(k * phase) + 0.02 / k * np.sin(k * phase)
            for k in range(1, 26))
    x = 0.4 * x / np.abs(x).max() + 1e-3 * rng.standard_normal(len(t))
    sil = 1e-4 * rng.standard_normal(int(0.15 * fs))
    return np.concatenate([sil, x, sil]).astype(np.float32)


def make_corpus(root: Path, num_files: int, fs: int) -> tuple[Path, float]:
    rng = np.random.default_rng(0)
    lines, seconds = [], 0.0
    for i in range(num_files):
        audio = harmonic_signal(rng.uniform(2.0, 3.0), fs, rng)
        path = root / "wav" / f"utt{i:04d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), audio, fs, subtype="PCM_16")
        lines.append(f"utt{i:04d} {path}\n")
        seconds += len(audio) / fs
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "wav.scp").write_text("".join(lines))
    return root / "data", seconds


def librosa_loop(paths: list[str], conf: dict) -> list[np.ndarray]:
    out = []
    for path in paths:
        y, _ = librosa.load(path, sr=conf["fs"])
        _, (start, end) = librosa.effects.trim(y, top_db=conf["trim_top_db"], frame_length=conf["n_fft"],
                                               hop_length=conf["hop_length"])
        pad = int(round(conf["trim_pad_ms"] * conf["fs"] / 1000))  # the same margin as ours
        y = y[max(0, start - pad):end + pad]
        mel = librosa.feature.melspectrogram(
            y=y, sr=conf["fs"], n_fft=conf["n_fft"], hop_length=conf["hop_length"],
            win_length=conf["win_length"], window=conf["window"], pad_mode="reflect", power=1.0,
            n_mels=conf["n_mels"], fmin=conf["fmin"], fmax=conf["fmax"])
        out.append(np.log(np.maximum(mel, conf["log_floor"])).T)
    return out


def package_loop(paths: list[str], conf: dict) -> list[np.ndarray]:
    extractor = LogMelExtractor.from_conf(conf)
    return [extractor(load_audio(p, conf["fs"])) for p in paths]


REPEAT = 3


def timed(fn, *args) -> tuple[float, object]:
    """Best wall time of REPEAT runs (the machine may be shared) and the last result."""
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--num-files", type=int, default=200)
    p.add_argument("--gl-utts", type=int, default=32, help="utterances for the Griffin-Lim timing")
    p.add_argument("--gl-iter", type=int, default=32)
    p.add_argument("--threads", type=int, default=1, help="torch threads (both sides)")
    p.add_argument("--device", default="cpu", help="Griffin-Lim device: cpu, cuda")
    p.add_argument("--fs-in", type=int, default=22050, help="sample rate of the generated files")
    p.add_argument("--repeat", type=int, default=3, help="timings are the best of this many runs")
    args = p.parse_args()
    global REPEAT
    REPEAT = max(1, args.repeat)
    torch.set_num_threads(args.threads)
    conf = defaults_of(FEATS_SCHEMA)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data, audio_s = make_corpus(root, args.num_files, args.fs_in)
        paths = [line.split()[1] for line in (data / "wav.scp").read_text().splitlines()]
        librosa_loop(paths[:3], conf), package_loop(paths[:3], conf)  # warm-up: lazy imports, caches

        rows = []
        t_lib, ref = timed(librosa_loop, paths, conf)
        rows.append(("librosa.load + trim + melspectrogram (baseline)", t_lib))
        t_pkg, ours = timed(package_loop, paths, conf)
        rows.append(("load_audio + LogMelExtractor (make_feats path)", t_pkg))
        for nj in (1, 2):
            t_dump, _ = timed(dump_feats, conf, data, root / f"dump{nj}", nj, False, False)
            rows.append((f"dump_feats nj={nj} (incl. ark/scp writing)", t_dump))
        max_diff = max(float(np.abs(a - b).max()) for a, b in zip(ref, ours) if a.shape == b.shape)
        same_shape = sum(a.shape == b.shape for a, b in zip(ref, ours))

        print(f"\n## Feature extraction: {args.num_files} files, {audio_s:.0f} s of audio at "
              f"{args.fs_in} Hz, torch threads {args.threads}, best of {REPEAT}")
        print(f"| {'method':<52} | {'wall s':>7} | {'audio s / wall s':>16} | {'speed-up':>8} |")
        print(f"|{'-' * 54}|{'-' * 9}|{'-' * 18}|{'-' * 10}|")
        for name, sec in rows:
            print(f"| {name:<52} | {sec:7.2f} | {audio_s / sec:16.1f} | {t_lib / sec:7.2f}x |")
        print(f"(same frame count for {same_shape}/{len(ref)} files; max |difference| there {max_diff:.2e})")

        # Griffin-Lim: batched vs one at a time, same features.
        feats = ours[:args.gl_utts]
        gl_audio = sum(len(f) for f in feats) * conf["hop_length"] / conf["fs"]
        results = []
        for batch in (1, 4, 16):
            voc = build_vocoder("griffin_lim", {"n_iter": args.gl_iter, "batch_size": batch,
                                                "device": args.device}, conf)
            voc(feats[:2])  # warm-up
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            sec, _ = timed(voc, feats)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            results.append((batch, sec))
        print(f"\n## Griffin-Lim: {len(feats)} utterances, {gl_audio:.0f} s of audio, {args.gl_iter} "
              f"iterations, device {args.device}, torch threads {args.threads}, best of {REPEAT}")
        print(f"| {'batch_size':>10} | {'wall s':>7} | {'RTF':>7} | {'speed-up':>8} |")
        print(f"|{'-' * 12}|{'-' * 9}|{'-' * 9}|{'-' * 10}|")
        for batch, sec in results:
            print(f"| {batch:>10} | {sec:7.2f} | {sec / gl_audio:7.4f} | {results[0][1] / sec:7.2f}x |")


if __name__ == "__main__":
    main()
