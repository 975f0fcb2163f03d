#!/usr/bin/env python
"""Peak memory of the training data pipelines at corpus scale, against the dump's size on disk
and against the same pipelines over a dump ten times smaller (measured in the same run).

A synthetic corpus is generated on the fly into a temporary directory (deleted afterwards):
``--hours`` of utterances (2-10 s, 10 speakers, 5 emotions, 80 tokens) with

- log-mels at the frame rate of the feats conf (``conf/feats/<feats>.yaml``: fs / hop_length),
  80 x float32 per frame, in ``--nj`` arks + feats.scp (as steps/make_feats.py writes them),
  pitch.scp/energy.scp beside them, stats.npz, token lists;
- the matching audio as 16-bit wav files (white noise: nothing is trimmed as silence, so each
  file gives exactly its mel's frame count under the conf's trimming).

Each pipeline then runs one epoch in a fresh child process, without a model, and the child's
peak resident set size (``ru_maxrss`` of that child, from ``os.wait4``) is reported:

- ``tts``: TTSDataset with pitch/energy (as FastSpeech 2 reads it) + the length-bucketed
  sampler + collate, every batch of one epoch (``--batch-frames``/``--max-batch``: the
  headline Tacotron 2 conf's batch);
- ``vocoder``: SegmentData + random segments, ``ceil(utterances / batch)`` batches of
  ``--voc-batch`` x ``--voc-frames`` frames (each utterance drawn once on average; HiFi-GAN's
  batch of 16 x 8192 samples);
- ``ser``: the emotion classifier's labelled set + shuffled batches with random crops + padding,
  one epoch (``conf/eval.yaml`` batch size and crop);
- ``imports``: the same imports and nothing else: the floor every process pays;
  ``imports_trim``: the same plus one silence-trim call, which makes librosa load (and numba
  compile) its lazily imported parts: the vocoder pipeline's floor.

On the small dump the pipelines also run with ``preload=True`` (everything in memory), for
contrast. The run fails (exit 1) if a streaming pipeline's peak RSS over the large dump exceeds
``--limit-mb`` or grows by more than ``--max-growth`` over the small dump.

Usage:  python benchmarks/bench_memory.py [--hours 20] [--ratio 10] [--workdir /tmp] [--keep]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

SPEAKERS = [f"spk{i:02d}" for i in range(10)]
EMOTIONS = ["neutral", "happy", "sad", "angry", "surprise"]
N_TOKENS = 80  # <pad> <unk> t0..t76 <eos>


# -- the synthetic dump (parent) ----------------------------------------------------------------
def _feats_conf(feats: str) -> dict:
    from pytorch_backend.config import FEATS_SCHEMA, load_checked

    return load_checked(REPO / "conf" / "feats" / f"{feats}.yaml", FEATS_SCHEMA)


def generate(root: Path, hours: float, feats_conf: dict, nj: int, seed: int = 0) -> dict:
    """Write the synthetic corpus under ``root``; returns its sizes."""
    import kaldiio
    import soundfile as sf

    from pytorch_backend.feats.stats import save_stats

    fs, hop, n_mels = int(feats_conf["fs"]), int(feats_conf["hop_length"]), int(feats_conf["n_mels"])
    rng = np.random.default_rng(seed)
    data, dump, wav_dir = root / "data" / "train", root / "dump" / "train", root / "wav"
    tokens = root / "tokens"
    for d in (data, dump, wav_dir, tokens / "train"):
        d.mkdir(parents=True, exist_ok=True)
    (tokens / "token_list").write_text("\n".join(["<pad>", "<unk>", *[f"t{i}" for i in range(N_TOKENS - 3)],
                                                  "<eos>"]) + "\n")
    target = hours * 3600.0
    utts, seconds = [], []
    total = 0.0
    while total < target:
        s = float(rng.uniform(2.0, 10.0))
        utts.append(f"{SPEAKERS[len(utts) % len(SPEAKERS)]}_{len(utts):07d}")
        seconds.append(s)
        total += s
    order = sorted(range(len(utts)), key=lambda i: utts[i].encode())
    arks = [open(dump / f"{kind}.{j + 1}.ark", "wb") for kind in ("feats", "pitch", "energy") for j in range(nj)]
    scps = {kind: [] for kind in ("feats", "pitch", "energy")}
    wav_lines, spk_lines, emo_lines, text_lines, nf_lines = [], [], [], [], []
    frames_total = 0
    try:
        for n, i in enumerate(order):
            utt = utts[i]
            samples = int(seconds[i] * fs)
            frames = 1 + samples // hop
            frames_total += frames
            audio = rng.integers(-9000, 9000, samples, dtype=np.int16)
            wav = wav_dir / f"{utt}.wav"
            sf.write(str(wav), audio, fs, subtype="PCM_16")
            mel = rng.standard_normal((frames, n_mels), dtype=np.float32)
            mel = mel * np.float32(1.5) - np.float32(5.0)
            f0 = np.where(rng.random(frames) < 0.7, 150.0 + 30.0 * rng.standard_normal(frames), 0.0)
            energy = rng.standard_normal(frames).astype(np.float32)
            job = n % nj
            for k, (kind, mat) in enumerate((("feats", mel), ("pitch", f0.astype(np.float32)),
                                             ("energy", energy))):
                fd = arks[k * nj + job]
                start = fd.tell()
                kaldiio.save_ark(fd, {utt: mat})
                scps[kind].append(f"{utt} {Path(fd.name).resolve()}:{start + len(utt.encode()) + 1}\n")
            wav_lines.append(f"{utt} {wav}\n")
            spk_lines.append(f"{utt} {utt.split('_')[0]}\n")
            emo_lines.append(f"{utt} {EMOTIONS[i % len(EMOTIONS)]}\n")
            n_tok = max(2, frames // 6)
            text_lines.append(f"{utt} " + " ".join(f"t{t}" for t in rng.integers(0, N_TOKENS - 3, n_tok)) + "\n")
            nf_lines.append(f"{utt} {frames}\n")
    finally:
        for fd in arks:
            fd.close()
    for kind, lines in scps.items():
        (dump / f"{kind}.scp").write_text("".join(lines))
    (dump / "utt2num_frames").write_text("".join(nf_lines))
    (data / "wav.scp").write_text("".join(wav_lines))
    (data / "utt2spk").write_text("".join(spk_lines))
    (data / "utt2emo").write_text("".join(emo_lines))
    (tokens / "train" / "text_tokens").write_text("".join(text_lines))
    save_stats({"mean": np.full(n_mels, -5.0), "std": np.full(n_mels, 1.5), "count": frames_total,
                "pitch_mean": 5.0, "pitch_std": 0.2, "pitch_count": frames_total,
                "energy_mean": 0.0, "energy_std": 1.0, "energy_count": frames_total}, root / "dump" / "stats.npz")
    return {"hours": total / 3600.0, "utterances": len(utts), "frames": frames_total,
            "feats_bytes": _du(dump), "audio_bytes": _du(wav_dir)}


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


# -- the pipelines (children) -------------------------------------------------------------------
def child(pipeline: str, root: Path, args) -> dict:
    """One epoch of ``pipeline`` over the dump at ``root``; returns what it read."""
    import torch

    from pytorch_backend.data.sampler import BucketBatchSampler
    from pytorch_backend.data.tts_dataset import TTSDataset, collate
    from pytorch_backend.feats.stats import load_stats
    from pytorch_backend.ser.data import BatchSampler, load_labelled_set, pad_batch, random_crops
    from pytorch_backend.vocoders.data import SegmentData

    torch.set_num_threads(1)
    preload = pipeline.endswith("_preload")
    kind = pipeline.removesuffix("_preload")
    data, dump, tokens = root / "data" / "train", root / "dump", root / "tokens"
    feats_conf = _feats_conf(args.feats)
    out = {"items": 0, "frames": 0}
    if kind == "imports":
        return out
    if kind == "imports_trim":  # + one silence trim: librosa loads (and numba compiles) its parts lazily
        from pytorch_backend.feats.logmel import LogMelExtractor

        noise = np.random.default_rng(0).standard_normal(int(feats_conf["fs"])).astype(np.float32)
        LogMelExtractor.from_conf(feats_conf).trim_bounds(0.1 * noise)
        return out
    if kind == "tts":
        ds = TTSDataset(data, tokens / "train" / "text_tokens", tokens / "token_list", SPEAKERS, EMOTIONS,
                        feats_scp=dump / "train" / "feats.scp", stats=dump / "stats.npz", preload=preload,
                        with_prosody=True)
        sampler = BucketBatchSampler(ds.lengths, args.batch_frames, args.max_batch, seed=1)
        for indices in sampler:
            batch = collate([ds[i] for i in indices], 1)
            out["items"] += len(indices)
            out["frames"] += int(batch["mel_lens"].sum())
        out["batches"] = len(sampler)
    elif kind == "vocoder":
        seg = SegmentData(data, dump / "train" / "feats.scp", feats_conf, preload=preload)
        rng = np.random.default_rng(1)
        n = math.ceil(len(seg) / args.voc_batch)
        for _ in range(n):
            mel, wav = seg.batch(rng, args.voc_batch, args.voc_frames)
            out["items"] += mel.shape[0]
            out["frames"] += mel.shape[0] * mel.shape[2]
        out["batches"] = n
    elif kind == "ser":
        from pytorch_backend.config import EVAL_SCHEMA, load_checked

        ser = load_checked(REPO / "conf" / "eval.yaml", EVAL_SCHEMA)["ser"]["train"]
        mean, std = load_stats(dump / "stats.npz")
        labelled = load_labelled_set(dump / "train" / "feats.scp", data / "utt2emo", EMOTIONS, mean, std,
                                     preload=preload)
        rng = np.random.default_rng(1)
        sampler = BatchSampler(len(labelled), int(ser["batch_size"]), rng)
        n = math.ceil(len(labelled) / sampler.batch_size)
        for _ in range(n):
            x, lengths = pad_batch(random_crops([labelled.feats[i] for i in sampler.next()],
                                                int(ser["crop_frames"]), rng))
            out["items"] += x.shape[0]
            out["frames"] += int(lengths.sum())
        out["batches"] = n
    else:
        raise SystemExit(f"unknown pipeline {pipeline}")
    return out


def run_child(pipeline: str, root: Path, args) -> dict:
    """Run ``pipeline`` in a fresh interpreter; its result plus its own peak RSS (MB) and wall time."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", pipeline, "--root", str(root),
           "--feats", args.feats, "--batch-frames", str(args.batch_frames), "--max-batch", str(args.max_batch),
           "--voc-batch", str(args.voc_batch), "--voc-frames", str(args.voc_frames)]
    t0 = time.monotonic()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True, env=env)
    try:
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        os.killpg(proc.pid, 9)
        proc.wait()
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"pipeline {pipeline} failed (exit {proc.returncode})")
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(peak_rss_mb=usage.ru_maxrss / 1024.0, wall_s=wall)  # Linux: ru_maxrss in KiB
    return result


# -- main ---------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=20.0, help="size of the large dump")
    ap.add_argument("--ratio", type=float, default=10.0, help="the baseline dump is this many times smaller")
    ap.add_argument("--feats", default="mel80", help="feats conf (frame rate, mel bins, trimming)")
    ap.add_argument("--nj", type=int, default=4, help="arks per kind, as parallel feature jobs write them")
    ap.add_argument("--batch-frames", type=int, default=40000)
    ap.add_argument("--max-batch", type=int, default=64)
    ap.add_argument("--voc-batch", type=int, default=16)
    ap.add_argument("--voc-frames", type=int, default=32)
    ap.add_argument("--limit-mb", type=float, default=1024.0, help="peak RSS limit of a streaming pipeline")
    ap.add_argument("--max-growth", type=float, default=1.25,
                    help="largest allowed peak-RSS ratio of the large dump over the small one")
    ap.add_argument("--workdir", default=None, help="where the temporary dumps go (default: system temp)")
    ap.add_argument("--keep", action="store_true", help="keep the generated dumps")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--root", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        out = child(args.child, Path(args.root), args)
        print(json.dumps(out))
        return 0

    feats_conf = _feats_conf(args.feats)
    fps = feats_conf["fs"] / feats_conf["hop_length"]
    need = args.hours * (1 + 1 / args.ratio) * 3600 * (fps * (feats_conf["n_mels"] + 2) * 4 + feats_conf["fs"] * 2)
    free = shutil.disk_usage(args.workdir or tempfile.gettempdir()).free
    print(f"dumps need ~{need / 1e9:.1f} GB on disk, {free / 1e9:.1f} GB free")
    if need > 0.9 * free:
        print("not enough disk space; lower --hours or pick --workdir", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="emotts-bench-memory-", dir=args.workdir))
    rows, failures = [], []
    try:
        sizes = {}
        for name, hours in (("small", args.hours / args.ratio), ("large", args.hours)):
            t0 = time.monotonic()
            sizes[name] = generate(work / name, hours, feats_conf, args.nj, seed=1 if name == "small" else 2)
            print(f"{name} dump: {sizes[name]['hours']:.2f} h, {sizes[name]['utterances']} utterances, "
                  f"mels+pitch+energy {sizes[name]['feats_bytes'] / 2**20:,.0f} MiB, "
                  f"audio {sizes[name]['audio_bytes'] / 2**20:,.0f} MiB ({time.monotonic() - t0:.0f} s)",
                  flush=True)
        plan = [("imports", "small"), ("imports_trim", "small")]
        plan += [(p, "small") for p in ("tts", "vocoder", "ser", "tts_preload", "vocoder_preload", "ser_preload")]
        plan += [(p, "large") for p in ("tts", "vocoder", "ser")]
        results = {}
        for pipeline, size in plan:
            res = run_child(pipeline, work / size, args)
            results[(pipeline, size)] = res
            print(f"  {pipeline:16s} {size:5s} peak RSS {res['peak_rss_mb']:7.0f} MiB  "
                  f"({res['items']} items, {res['frames']} frames, {res['wall_s']:.0f} s)", flush=True)
            rows.append((pipeline, size, res))
        floor = {p: results[("imports", "small")]["peak_rss_mb"] for p, _ in plan}
        floor.update({p: results[("imports_trim", "small")]["peak_rss_mb"] for p, _ in plan if "vocoder" in p})
        print()
        print(f"| pipeline (one epoch, no model) | dump | dump on disk (mels / audio) | peak RSS | above its imports "
              f"| wall |")
        print("|---|---|---|---:|---:|---:|")
        for pipeline, size, res in rows:
            s = sizes[size]
            disk = f"{s['feats_bytes'] / 2**30:.2f} / {s['audio_bytes'] / 2**30:.2f} GiB"
            print(f"| {pipeline} | {s['hours']:.1f} h | {disk} | {res['peak_rss_mb']:.0f} MiB | "
                  f"{res['peak_rss_mb'] - floor[pipeline]:.0f} MiB | {res['wall_s']:.0f} s |")
        print()
        for p in ("tts", "vocoder", "ser"):
            small, large = results[(p, "small")]["peak_rss_mb"], results[(p, "large")]["peak_rss_mb"]
            growth = large / small
            ok = large <= args.limit_mb and growth <= args.max_growth
            data_gb = (sizes["large"]["feats_bytes"] + (sizes["large"]["audio_bytes"] if p == "vocoder" else 0)) / 2**30
            print(f"{p}: {large:.0f} MiB peak over {data_gb:.2f} GiB read ({sizes['large']['hours']:.0f} h) vs "
                  f"{small:.0f} MiB over a {args.ratio:g}x smaller dump: x{growth:.2f} "
                  f"[{'ok' if ok else 'FAIL'}]")
            if not ok:
                failures.append(p)
    finally:
        if args.keep:
            print(f"dumps kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
