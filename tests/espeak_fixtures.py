"""Helpers shared by the eSpeak tests: a quick F0 and loudness measure of int16 audio."""

from __future__ import annotations

import librosa
import numpy as np


def voiced_f0(audio: np.ndarray, fs: int) -> np.ndarray:
    """F0 (Hz) of the loud frames, by YIN (librosa); quiet frames are treated as unvoiced.

    pyin would give a voicing decision but takes seconds per utterance; eSpeak's speech has no
    noise floor, so an energy gate is enough to keep pauses and plosives out.
    """
    x = audio.astype(np.float32) / 32768.0
    frame, hop = 1024, 256
    f0 = librosa.yin(x, fmin=50.0, fmax=600.0, sr=fs, frame_length=frame, hop_length=hop)
    rms = librosa.feature.rms(y=x, frame_length=frame, hop_length=hop)[0]
    n = min(f0.size, rms.size)
    keep = rms[:n] > 0.25 * rms.max()
    return f0[:n][keep]


def median_f0(audio: np.ndarray, fs: int) -> float:
    f0 = voiced_f0(audio, fs)
    assert f0.size > 10, "expected voiced frames"
    return float(np.median(f0))


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
