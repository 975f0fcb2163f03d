"""Tiny corpora in the exact on-disk layout and file formats of the real ones, with their quirks.

Each module has ``make(root) -> Expected``: it writes the corpus under ``root`` (audio synthesized,
a fraction of a second per utterance) and returns what a correct preparation yields: the Kaldi ids
with their speaker, text and emotion, the drop counts per reason, and the ``prep`` options the test
conf needs (tiny splits, the fixture's speakers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

CORPORA = ("blizzard13", "iemocap", "esd", "ljspeech", "emov_db", "cmu_arctic", "jsut", "kss", "thchs30")


@dataclass
class Expected:
    root: Path
    utts: dict  # kaldi id -> (speaker, text, emotion)
    drops: dict  # reason -> count
    prep: dict = field(default_factory=dict)  # prep options of the test conf
    splits: dict = field(default_factory=dict)  # kaldi id -> split, where the corpus fixes it
    conf: dict = field(default_factory=dict)  # other corpus conf keys of the test conf


def write_wav(path, fs: int = 16000, seconds: float = 0.3, channels: int = 1, subtype: str = "PCM_16",
              freq: float = 220.0) -> Path:
    """A sine (plus a little noise) in a wav file; deterministic per path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(abs(hash(path.name)) % (2 ** 32))
    t = np.arange(int(fs * seconds)) / fs
    mono = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))
    audio = np.stack([mono] * channels, axis=1) if channels > 1 else mono
    sf.write(str(path), audio.astype(np.float32), fs, subtype=subtype)
    return path


def make(name: str, root) -> Expected:
    import importlib

    return importlib.import_module(f"tests.corpus_fixtures.{name}").make(Path(root))
