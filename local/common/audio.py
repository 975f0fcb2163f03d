"""Audio normalization: every wav a data dir points to is mono 16-bit PCM at the conf's rate.

A source file that already is (WAV, PCM_16, one channel, the conf's rate) is used where it lies;
any other is read with soundfile, averaged to mono, resampled (soxr through librosa) and written
as 16-bit PCM next to the data dirs (``<data_dir>/wav/<utt>.wav``), atomically.
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

from pytorch_backend.utils.fileio import atomic_path

log = logging.getLogger("emotts.prepare")


def needs_conversion(info, fs: int) -> bool:
    return not (info.format == "WAV" and info.subtype == "PCM_16" and info.channels == 1
                and info.samplerate == fs)


def convert(src, dst, fs: int) -> int:
    """Write ``src`` as mono 16-bit PCM at ``fs`` Hz to ``dst``; return the number of samples."""
    audio, rate = sf.read(str(src), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if rate != fs:
        import librosa

        mono = librosa.resample(mono, orig_sr=rate, target_sr=fs, res_type="soxr_hq")
    mono = np.clip(mono, -1.0, 32767 / 32768)
    with atomic_path(dst, suffix=".wav") as tmp:
        sf.write(str(tmp), mono, fs, subtype="PCM_16", format="WAV")
    return int(len(mono))


def _convert_job(args):
    src, dst, fs = args
    try:
        return convert(src, dst, fs), None
    except Exception as exc:  # reported per file by the caller
        return 0, f"{type(exc).__name__}: {exc}"


def normalize_all(jobs, fs: int, nj: int = 1, progress: bool = True):
    """Convert ``jobs`` (``[(src, dst)]``); return ``[(n_samples, error or None)]`` in order."""
    from tqdm import tqdm

    args = [(str(src), str(dst), int(fs)) for src, dst in jobs]
    if not args:
        return []
    log.info("converting %d file(s) to mono 16-bit %d Hz with %d job(s)", len(args), fs, nj)
    if nj <= 1:
        return [_convert_job(a) for a in tqdm(args, desc="audio", unit="wav", disable=not progress)]
    with ProcessPoolExecutor(max_workers=nj) as pool:
        return list(tqdm(pool.map(_convert_job, args, chunksize=8), total=len(args), desc="audio",
                         unit="wav", disable=not progress))


def probe(path):
    """``soundfile.info`` of ``path`` or the reason it cannot be read."""
    path = Path(path)
    if not path.is_file():
        return None, "missing_audio"
    try:
        return sf.info(str(path)), None
    except Exception:  # soundfile raises several types for unreadable files
        return None, "unreadable_audio"
