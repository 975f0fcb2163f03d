"""Frame-level F0 at the mel hop, for the variance predictors of FastSpeech2.

F0 is estimated with WORLD (pyworld): DIO followed by StoneMask refinement (``method: dio``,
fast) or Harvest (``method: harvest``, more robust, several times slower), with the frame
period set to exactly one mel hop. WORLD's frame ``i`` is centred at ``i * hop / fs`` seconds,
as is log-mel frame ``i`` (``center=True``), so the two line up; the F0 track is cut or padded
(zeros: unvoiced) to the mel frame count of the same trimmed waveform.

On disk F0 stays raw: Hz per frame, ``0`` for unvoiced frames (a float32 vector per utterance).
What a model trains on is derived by :func:`log_f0_interpolated`: natural-log F0 with unvoiced
stretches linearly interpolated between their voiced neighbours (held constant at the ends),
plus the voiced flag. Statistics (``pitch_mean``/``pitch_std`` in stats.npz) are taken over
voiced train frames only, so silence never drags the mean down.
"""

from __future__ import annotations

import numpy as np
import pyworld

F0_METHODS = ("dio", "harvest")


class PitchExtractor:
    """F0 (Hz, 0 = unvoiced) of a waveform, one value per mel frame."""

    def __init__(self, fs: int = 22050, hop_length: int = 256, f0_floor: float = 60.0,
                 f0_ceil: float = 700.0, f0_method: str = "dio", **ignored):
        # ``ignored`` takes the feats conf keys that concern other code.
        if f0_method not in F0_METHODS:
            raise ValueError(f"f0_method must be one of {F0_METHODS}, got '{f0_method}'")
        if not 0 < float(f0_floor) < float(f0_ceil):
            raise ValueError(f"need 0 < f0_floor < f0_ceil, got {f0_floor} and {f0_ceil}")
        self.fs = int(fs)
        self.hop_length = int(hop_length)
        self.f0_floor = float(f0_floor)
        self.f0_ceil = float(f0_ceil)
        self.method = f0_method
        self.frame_period = 1000.0 * self.hop_length / self.fs  # ms

    @classmethod
    def from_conf(cls, conf: dict) -> "PitchExtractor":
        keys = ("fs", "hop_length", "f0_floor", "f0_ceil", "f0_method")
        return cls(**{k: conf[k] for k in keys if k in conf})

    def __call__(self, wav: np.ndarray, num_frames: int) -> np.ndarray:
        """F0 of an (already trimmed) waveform as a float32 vector of ``num_frames`` values."""
        x = np.ascontiguousarray(wav, dtype=np.float64)
        if x.ndim != 1 or x.shape[0] == 0:
            raise ValueError(f"expected a non-empty 1-D waveform, got shape {x.shape}")
        if self.method == "dio":
            f0, t = pyworld.dio(x, self.fs, f0_floor=self.f0_floor, f0_ceil=self.f0_ceil,
                                frame_period=self.frame_period)
            f0 = pyworld.stonemask(x, f0, t, self.fs)
        else:
            f0, _ = pyworld.harvest(x, self.fs, f0_floor=self.f0_floor, f0_ceil=self.f0_ceil,
                                    frame_period=self.frame_period)
        # StoneMask can move a value slightly outside the search range; keep the range honest.
        f0 = np.where((f0 >= self.f0_floor * 0.9) & (f0 <= self.f0_ceil * 1.1), f0, 0.0)
        out = np.zeros(num_frames, dtype=np.float32)
        n = min(num_frames, f0.shape[0])
        out[:n] = f0[:n]
        return out


def log_f0_interpolated(f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log-F0 with unvoiced frames interpolated, voiced flag) of a raw F0 vector (Hz, 0 = unvoiced).

    An utterance without any voiced frame gives zeros (and an all-False flag).
    """
    f0 = np.asarray(f0, dtype=np.float64)
    voiced = f0 > 0
    out = np.zeros(f0.shape, dtype=np.float32)
    if voiced.any():
        idx = np.flatnonzero(voiced)
        out[:] = np.interp(np.arange(f0.shape[0]), idx, np.log(f0[idx]))
    return out, voiced
