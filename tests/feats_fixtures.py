"""Helpers shared by the feature and vocoder tests: synthetic voiced audio and tiny data dirs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

FS = 22050


def vowel(seconds: float, f0: float = 140.0, fs: int = FS, seed: int = 0,
          silence: float = 0.0) -> np.ndarray:
    """A vowel-like float32 signal: ~30 harmonics shaped by two formants, 5 Hz vibrato,
    a little noise, optionally ``silence`` seconds of near-silence on both sides."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(fs * seconds))) / fs
    inst_f0 = f0 * (1.0 + 0.03 * np.sin(2 * np.pi * 5.0 * t))
    phase = 2 * np.pi * np.cumsum(inst_f0) / fs
    x = np.zeros_like(t)
    for k in range(1, 30):
        freq = k * f0
        amp = np.exp(-((freq - 700.0) / 300.0) ** 2) + 0.5 * np.exp(-((freq - 1200.0) / 400.0) ** 2) + 0.05 / k
        x += amp * np.sin(k * phase)
    x = 0.5 * x / np.abs(x).max() + 1e-3 * rng.standard_normal(len(t))
    if silence > 0:
        pad = 1e-5 * rng.standard_normal(int(round(fs * silence)))
        x = np.concatenate([pad, x, pad])
    return x.astype(np.float32)


def write_wav(path, audio: np.ndarray, fs: int = FS, subtype: str = "PCM_16") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, fs, subtype=subtype)
    return path


def make_data_dir(root, num_utts: int = 6, fs: int = FS) -> Path:
    """``root/data`` with a wav.scp of ``num_utts`` short vowels (absolute wav paths)."""
    root = Path(root)
    lines = []
    for i in range(num_utts):
        utt = f"spk1_utt{i:02d}"
        wav = write_wav(root / "wav" / f"{utt}.wav",
                        vowel(0.4 + 0.07 * i, f0=110.0 + 15 * i, fs=fs, seed=i, silence=0.1), fs)
        lines.append(f"{utt} {wav}\n")
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "wav.scp").write_text("".join(sorted(lines)))
    return data
