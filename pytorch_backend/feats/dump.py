"""Dumping the log-mel features of a Kaldi data dir as kaldiio ark+scp, in parallel jobs.

Layout written under ``out_dir`` (see docs/ARCHITECTURE.md):

- ``feats.<j>.ark`` (j = 1..nj): the matrices of job j, frames x n_mels float32;
- ``pitch.<j>.ark``, ``energy.<j>.ark`` (when the conf's ``pitch_energy`` is true): one float32
  vector per utterance with one value per mel frame: F0 in Hz (0 = unvoiced,
  :mod:`pytorch_backend.feats.pitch`) and log frame energy (:mod:`pytorch_backend.feats.energy`),
  computed on the same trimmed waveform as the log-mel;
- ``utt2num_frames``: C-sorted "utt frames" lines;
- ``feats_info.json``: the conf used, counts, audio and wall seconds;
- ``pitch.scp``, ``energy.scp`` then ``feats.scp``: C-sorted "utt /abs/path/<kind>.<j>.ark:offset"
  lines, written LAST (feats.scp the very last).

Scp entries hold absolute ark paths, so they resolve from any working directory (Snakemake
runs stages from the experiment dir, tests and people from elsewhere).

A present ``feats.scp`` means complete data. Jobs write their arks under temporary names;
only when every job has succeeded are the old scp removed, the arks renamed into place and
the new scp written. A failing run therefore leaves the previous run's output untouched.
A run with ``pitch_energy: false`` removes the pitch/energy files of an earlier run.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import queue as queue_mod
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import kaldiio
import numpy as np
from tqdm import tqdm

from pytorch_backend.errors import DataError, EmottsError
from pytorch_backend.feats.audio import load_audio
from pytorch_backend.feats.energy import frame_energy
from pytorch_backend.feats.logmel import LogMelExtractor
from pytorch_backend.feats.pitch import PitchExtractor
from pytorch_backend.io.kaldi_map import c_sorted, read_kv_lines
from pytorch_backend.utils.fileio import atomic_open, write_text_atomic

log = logging.getLogger("emotts.feats")


@dataclass
class WavEntry:
    line: int
    utt: str
    spec: str


@dataclass
class PartJob:
    """One job's share of the utterances and where its ark goes."""

    index: int  # 1-based, as in Kaldi's JOB
    entries: list[WavEntry]
    conf: dict
    allow_pipes: bool
    source: str  # the wav.scp, for error messages
    tmp_arks: dict  # kind ("feats", "pitch", "energy") -> temporary ark path


def read_wav_scp(path) -> list[WavEntry]:
    """wav.scp entries in C order; a duplicate id is an error naming its line."""
    rows = read_kv_lines(path)
    if not rows:
        raise DataError(path, "wav.scp is empty")
    seen: dict[str, int] = {}
    for lineno, utt, _ in rows:
        if utt in seen:
            raise DataError(path, f"duplicate utterance id (first on line {seen[utt]})", line=lineno, utt=utt)
        seen[utt] = lineno
    by_utt = {utt: WavEntry(lineno, utt, spec) for lineno, utt, spec in rows}
    return [by_utt[u] for u in c_sorted(by_utt)]


def split_entries(entries: list[WavEntry], nj: int) -> list[list[WavEntry]]:
    """``nj`` contiguous, non-empty parts of near-equal size (C order is kept)."""
    nj = max(1, min(nj, len(entries)))
    bounds = np.linspace(0, len(entries), nj + 1).round().astype(int)
    return [entries[bounds[i]:bounds[i + 1]] for i in range(nj)]


def ark_kinds(conf: dict) -> tuple[str, ...]:
    """The arks a feats conf dumps: always ``feats``, plus ``pitch`` and ``energy`` when enabled."""
    return ("feats", "pitch", "energy") if conf.get("pitch_energy", True) else ("feats",)


def extract_entry(extractor: LogMelExtractor, entry: WavEntry, conf: dict, allow_pipes: bool,
                  source, pitch: PitchExtractor | None = None) -> tuple[dict, int]:
    """({kind: array}, number of audio samples at fs) of one wav.scp entry.

    ``feats`` is the log-mel (frames x n_mels); with a ``pitch`` extractor also ``pitch`` (F0 Hz)
    and ``energy`` (log frame energy), vectors of the same number of frames.
    """
    wav = load_audio(entry.spec, extractor.fs, resample=bool(conf.get("resample", True)),
                     allow_pipes=allow_pipes, source=source, line=entry.line, utt=entry.utt)
    try:
        trimmed = extractor.trim(wav) if extractor.trim_silence else wav
        out = {"feats": extractor.logmel(trimmed)}
        if pitch is not None:
            frames = out["feats"].shape[0]
            out["pitch"] = pitch(trimmed, frames)
            out["energy"] = frame_energy(extractor.magnitude(trimmed), extractor.log_floor)
            if out["energy"].shape[0] != frames:  # cannot happen: the same STFT
                raise RuntimeError(f"energy has {out['energy'].shape[0]} frames, log-mel {frames}")
    except Exception as exc:  # a library failure on this audio: say which utterance
        raise DataError(source, f"feature extraction failed: {exc}", line=entry.line, utt=entry.utt) from exc
    return out, int(wav.shape[0])


def dump_part(job: PartJob, progress=None) -> list[tuple[str, dict, int, int]]:
    """Write one job's arks to ``job.tmp_arks``; return ``[(utt, {kind: offset}, frames, samples)]``.

    ``progress(n)`` is called after each utterance.
    """
    extractor = LogMelExtractor.from_conf(job.conf)
    pitch = PitchExtractor.from_conf(job.conf) if "pitch" in job.tmp_arks else None
    rows = []
    fds = {kind: open(path, "wb") for kind, path in job.tmp_arks.items()}
    try:
        for entry in job.entries:
            arrays, samples = extract_entry(extractor, entry, job.conf, job.allow_pipes, job.source, pitch)
            offsets = {}
            for kind, fd in fds.items():
                start = fd.tell()
                kaldiio.save_ark(fd, {entry.utt: arrays[kind]})
                offsets[kind] = start + len(entry.utt.encode("utf-8")) + 1
            rows.append((entry.utt, offsets, arrays["feats"].shape[0], samples))
            if progress is not None:
                progress(1)
    finally:
        for fd in fds.values():
            fd.close()
    return rows


def _worker(job: PartJob, messages) -> None:
    """Process entry point: report progress, then ("done", j, rows) or ("error", j, exc)."""
    import torch

    torch.set_num_threads(1)
    try:
        rows = dump_part(job, progress=lambda n: messages.put(("progress", job.index, n)))
        messages.put(("done", job.index, rows))
    except EmottsError as exc:
        messages.put(("error", job.index, exc))
    except Exception as exc:  # unexpected: send it as text, it may not pickle
        messages.put(("error", job.index, RuntimeError(f"job {job.index}: {type(exc).__name__}: {exc}")))


def _run_parallel(jobs: list[PartJob], bar) -> dict[int, list]:
    """Run the jobs in worker processes; raise the first job error (other jobs are stopped)."""
    # fork: the workers start at once with everything imported (spawn and forkserver would
    # re-import torch in every worker, seconds each). Each worker sets torch to one thread
    # before any work, as torch's DataLoader workers do, which keeps forking safe.
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    messages = ctx.Queue()
    procs = {job.index: ctx.Process(target=_worker, args=(job, messages), daemon=True) for job in jobs}
    for proc in procs.values():
        proc.start()
    results: dict[int, list] = {}
    try:
        while len(results) < len(jobs):
            try:
                kind, index, payload = messages.get(timeout=0.5)
            except queue_mod.Empty:
                for index, proc in procs.items():
                    if index not in results and not proc.is_alive() and proc.exitcode != 0:
                        raise RuntimeError(f"feature job {index} died (exit code {proc.exitcode})")
                continue
            if kind == "progress":
                bar.update(payload)
            elif kind == "done":
                results[index] = payload
            else:
                raise payload
    finally:
        for proc in procs.values():
            if proc.is_alive() and len(results) < len(jobs):
                proc.terminate()
            proc.join()
        messages.close()
    return results


ALL_KINDS = ("feats", "pitch", "energy")


def _ark_name(index: int, kind: str = "feats") -> str:
    return f"{kind}.{index}.ark"


def _commit(out_dir: Path, jobs: list[PartJob], results: dict[int, list], info: dict) -> None:
    """Move the finished arks into place and write the index files, the scp files last
    (feats.scp the very last)."""
    for kind in ALL_KINDS:  # feats.scp first: from here on nothing is advertised complete
        (out_dir / f"{kind}.scp").unlink(missing_ok=True)
    kinds = tuple(jobs[0].tmp_arks)
    scp_lines: dict[str, dict] = {kind: {} for kind in kinds}
    frames = {}
    for job in jobs:
        for kind in kinds:
            ark = out_dir / _ark_name(job.index, kind)
            os.replace(job.tmp_arks[kind], ark)
            for utt, offsets, num_frames, _ in results[job.index]:
                scp_lines[kind][utt] = f"{ark.resolve()}:{offsets[kind]}"
                frames[utt] = num_frames
    keep = {_ark_name(job.index, kind) for job in jobs for kind in kinds}
    for kind in ALL_KINDS:  # arks of an earlier run with more jobs, or with pitch/energy
        for old in out_dir.glob(f"{kind}.*.ark"):
            if old.name not in keep:
                old.unlink()
    order = c_sorted(frames)
    write_text_atomic(out_dir / "utt2num_frames", "".join(f"{u} {frames[u]}\n" for u in order))
    with atomic_open(out_dir / "feats_info.json") as fh:
        json.dump(info, fh, indent=2)
        fh.write("\n")
    for kind in sorted(kinds, key=lambda k: k == "feats"):
        lines = scp_lines[kind]
        write_text_atomic(out_dir / f"{kind}.scp", "".join(f"{u} {lines[u]}\n" for u in order))


def dump_feats(conf: dict, data_dir, out_dir, nj: int | None = None, allow_pipes: bool = False,
               progress: bool = True) -> dict:
    """Extract log-mel features of ``data_dir/wav.scp`` into ``out_dir`` (see module doc).

    ``nj`` defaults to ``conf["nj"]``; returns the info written to feats_info.json.
    """
    start_time = time.perf_counter()
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    wav_scp = data_dir / "wav.scp"
    entries = read_wav_scp(wav_scp)
    LogMelExtractor.from_conf(conf)  # a bad conf fails here, before any job starts
    kinds = ark_kinds(conf)
    if "pitch" in kinds:
        PitchExtractor.from_conf(conf)
    nj = int(nj if nj is not None else conf.get("nj", 1))
    parts = split_entries(entries, nj)
    out_dir.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    jobs = [PartJob(i + 1, part, dict(conf), allow_pipes, str(wav_scp),
                    {kind: str(out_dir / f".{_ark_name(i + 1, kind)}.{token}.tmp") for kind in kinds})
            for i, part in enumerate(parts)]
    log.info("extracting features of %d utterances from %s in %d job(s)", len(entries), wav_scp, len(jobs))
    try:
        with tqdm(total=len(entries), unit="utt", desc="make_feats", disable=not progress) as bar:
            if len(jobs) == 1:
                results = {1: dump_part(jobs[0], progress=bar.update)}
            else:
                results = _run_parallel(jobs, bar)
        num_frames = sum(r[2] for rows in results.values() for r in rows)
        samples = sum(r[3] for rows in results.values() for r in rows)
        info = {
            "conf": conf,
            "wav_scp": str(wav_scp.resolve()),
            "num_utts": len(entries),
            "num_frames": int(num_frames),
            "audio_seconds": round(samples / float(conf.get("fs", 22050)), 3),
            "wall_seconds": round(time.perf_counter() - start_time, 3),
            "nj": len(jobs),
        }
        _commit(out_dir, jobs, results, info)
    finally:
        for job in jobs:
            for tmp in job.tmp_arks.values():
                if os.path.exists(tmp):
                    os.unlink(tmp)
    log.info("wrote %s: %d utterances, %d frames, %.1f s of audio in %.1f s",
             out_dir / "feats.scp", info["num_utts"], info["num_frames"], info["audio_seconds"],
             info["wall_seconds"])
    return info
