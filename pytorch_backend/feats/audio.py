"""Reading one wav.scp entry into a mono float32 waveform at the feature sample rate.

A wav.scp value is either a file path (relative paths are taken from the current working
directory, as in Kaldi) or a shell command ending in ``|`` whose standard output is a wav
file. Commands are refused unless the corpus conf allows them (``allow_pipes``), because
running them executes arbitrary shell text from a data file.

Every failure raises :class:`DataError` naming the wav.scp file, its line and the
utterance, so the user can find the entry that broke the stage.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from pytorch_backend.errors import DataError

PIPE_TIMEOUT_S = 600


def is_pipe(spec: str) -> bool:
    """True for a Kaldi-style piped entry (``cmd args |``)."""
    return spec.rstrip().endswith("|")


def _fail(source, line, utt, message: str) -> DataError:
    # Without a wav.scp (direct calls) the error names what was being read instead.
    return DataError(source if source is not None else "<wav>", message, line=line, utt=utt)


def _read_pipe(spec: str, source, line, utt) -> tuple[np.ndarray, int]:
    command = spec.rstrip()[:-1].strip()
    if not command:
        raise _fail(source, line, utt, "empty command before '|'")
    try:
        proc = subprocess.run(command, shell=True, capture_output=True, timeout=PIPE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise _fail(source, line, utt, f"command timed out after {PIPE_TIMEOUT_S} s: {command}") from None
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip()[-300:]
        raise _fail(source, line, utt, f"command failed (exit {proc.returncode}): {command}: {tail}")
    try:
        return sf.read(io.BytesIO(proc.stdout), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise _fail(source, line, utt, f"output of command is not readable audio ({exc}): {command}") from None


def _read_file(path: str, source, line, utt) -> tuple[np.ndarray, int]:
    p = Path(path)
    if not p.is_file():
        raise _fail(source, line, utt, f"audio file not found: {path}")
    try:
        return sf.read(str(p), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise _fail(source, line, utt, f"cannot read audio file {path}: {exc}") from None


def load_audio(spec: str, fs: int, resample: bool = True, allow_pipes: bool = False,
               source=None, line: int | None = None, utt: str | None = None) -> np.ndarray:
    """Return the audio of wav.scp value ``spec`` as mono float32 in [-1, 1] at rate ``fs``.

    Channels are averaged. Audio at another rate is resampled with soxr (high quality) when
    ``resample`` is true and refused otherwise. ``source``/``line``/``utt`` locate the entry
    in its wav.scp for error messages.
    """
    spec = spec.strip()
    if is_pipe(spec):
        if not allow_pipes:
            raise _fail(source, line, utt,
                        f"piped wav.scp entry refused (set allow_pipes: true in the corpus conf "
                        f"to run commands): {spec}")
        audio, rate = _read_pipe(spec, source, line, utt)
        what = f"command '{spec}'"
    else:
        audio, rate = _read_file(spec, source, line, utt)
        what = spec
    if audio.shape[0] == 0:
        raise _fail(source, line, utt, f"audio has zero samples: {what}")
    wav = audio.mean(axis=1) if audio.shape[1] > 1 else audio[:, 0]
    if rate != fs:
        if not resample:
            raise _fail(source, line, utt,
                        f"sample rate {rate} Hz of {what} differs from the feature rate {fs} Hz "
                        f"(set resample: true in the feats conf to convert)")
        wav = soxr.resample(wav, rate, fs, quality="HQ")
        if wav.shape[0] == 0:
            raise _fail(source, line, utt, f"audio too short to resample ({audio.shape[0]} samples): {what}")
    wav = np.clip(wav, -1.0, 1.0, out=np.ascontiguousarray(wav, dtype=np.float32))
    return wav
