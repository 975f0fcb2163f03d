"""Vocoding a feats scp into a directory of wavs: OUT/wav/<utt>.wav, OUT/vocode.json, OUT/wav.scp.

The new wavs are written into a hidden staging dir and swapped in as ``OUT/wav`` only when
every utterance succeeded; ``wav.scp`` (absolute paths) is written last, so a present
wav.scp means a complete set, and a failing run leaves an earlier complete one untouched.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import kaldiio
import numpy as np
import soundfile as sf
from tqdm import tqdm

from pytorch_backend.errors import DataError
from pytorch_backend.io.kaldi_map import c_sorted, read_kv_lines
from pytorch_backend.utils.fileio import atomic_open, atomic_path
from pytorch_backend.vocoders.base import Vocoder

log = logging.getLogger("emotts.vocode")


def check_utt_filename(utt: str, source, line: int | None = None) -> str:
    """Return ``utt`` if it is safe as a file name (no path separators, no '..'), else DataError."""
    if not utt or ".." in utt or utt == "." or any(c in utt for c in "/\\\0"):
        raise DataError(source, "utterance id is not usable as a file name "
                                "(no '/', '\\', '..' allowed)", line=line, utt=utt)
    return utt


def load_feats_scp(scp, n_mels: int) -> list[tuple[str, np.ndarray]]:
    """(utt, log-mel) pairs of a feats scp in C order; bad ids or shapes name the scp line."""
    rows = read_kv_lines(scp)
    if not rows:
        raise DataError(scp, "feats scp is empty")
    out = {}
    for lineno, utt, spec in rows:
        check_utt_filename(utt, scp, lineno)
        if utt in out:
            raise DataError(scp, "duplicate utterance id", line=lineno, utt=utt)
        try:
            mat = np.asarray(kaldiio.load_mat(spec), dtype=np.float32)
        except Exception as exc:
            raise DataError(scp, f"cannot load features '{spec}': {exc}", line=lineno, utt=utt) from None
        if mat.ndim != 2 or mat.shape[1] != n_mels or mat.shape[0] == 0:
            raise DataError(scp, f"expected a frames x {n_mels} log-mel matrix, got shape {mat.shape}",
                            line=lineno, utt=utt)
        out[utt] = mat
    return [(u, out[u]) for u in c_sorted(out)]


def vocode_scp(vocoder: Vocoder, feats_scp, out_dir, n_mels: int, progress: bool = True) -> dict:
    """Synthesize every utterance of ``feats_scp`` into ``out_dir`` (see module doc)."""
    start_time = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    items = load_feats_scp(feats_scp, n_mels)
    staging = out_dir / ".wav.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    chunk = max(1, int(getattr(vocoder, "batch_size", 1)))
    samples = 0
    try:
        with tqdm(total=len(items), unit="utt", desc="vocode", disable=not progress) as bar:
            for begin in range(0, len(items), chunk):
                part = items[begin:begin + chunk]
                wavs = vocoder([mat for _, mat in part])
                for (utt, _), wav in zip(part, wavs):
                    with atomic_path(staging / f"{utt}.wav", suffix=".wav") as tmp:
                        sf.write(str(tmp), wav, vocoder.fs, subtype="PCM_16", format="WAV")
                    samples += len(wav)
                bar.update(len(part))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    wall = time.perf_counter() - start_time
    audio_seconds = samples / float(vocoder.fs)
    info = {"num_utts": len(items), "audio_seconds": round(audio_seconds, 3),
            "wall_seconds": round(wall, 3), "rtf": round(wall / audio_seconds, 5) if audio_seconds else None}

    # Swap the complete set in: old wav.scp out first, then the directories, wav.scp last.
    scp = out_dir / "wav.scp"
    if scp.exists():
        scp.unlink()
    final = out_dir / "wav"
    old = out_dir / ".wav.old"
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    if old.exists():
        shutil.rmtree(old)
    with atomic_open(out_dir / "vocode.json") as fh:
        json.dump(info, fh, indent=2)
        fh.write("\n")
    with atomic_open(scp) as fh:
        for utt, _ in items:
            fh.write(f"{utt} {(final / f'{utt}.wav').resolve()}\n")
    log.info("wrote %s: %d utterances, %.1f s of audio, RTF %s", scp, info["num_utts"], audio_seconds,
             info["rtf"])
    return info
