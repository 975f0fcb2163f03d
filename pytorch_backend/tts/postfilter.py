"""Spectral-contrast postfilter for decoded log-mel spectrograms.

Regression-trained decoders (L1/L2 on log-mel) predict the average of what they cannot tell
apart, so the peaks of the spectrum (formants, the lower harmonics) come out flattened and
the valleys between them filled. This is the mel-domain analogue of the formant-enhancing
postfilters of HMM and DNN synthesis (the SPTK/HTS mel-cepstral postfilter multiplies the
higher cepstral coefficients by a factor > 1): each frame's deviation from its own local
spectral average is scaled by ``strength``::

    y' = S(y) + strength * (y - S(y)),   S = moving average over ``width`` mel bands

in the natural-log mel domain (dump scale), then floored at ``ln(log_floor)``. ``strength``
1 is the identity; the average level of every band neighbourhood (the spectral envelope's
tilt and the frame energy) is kept, only the contrast within it grows. Frames are treated
independently, so it adds no latency and works the same for one sentence or a batch.
"""

from __future__ import annotations

import math

import numpy as np


def spectral_contrast(logmel: np.ndarray, strength: float = 1.0, width: int = 5,
                      log_floor: float = 1.0e-5) -> np.ndarray:
    """``logmel`` (frames x bands, natural log) with its spectral contrast scaled by ``strength``."""
    from scipy.ndimage import uniform_filter1d

    strength = float(strength)
    if strength < 0:
        raise ValueError(f"postfilter strength must be >= 0, got {strength}")
    width = int(width)
    if width < 1 or width % 2 != 1:
        raise ValueError(f"postfilter width must be a positive odd number of bands, got {width}")
    mel = np.asarray(logmel)
    if mel.ndim != 2:
        raise ValueError(f"expected a frames x bands log-mel, got shape {mel.shape}")
    if strength == 1.0 or width == 1 or mel.shape[0] == 0:
        return mel.copy()
    x = mel.astype(np.float64)
    smooth = uniform_filter1d(x, width, axis=1, mode="nearest")
    out = np.maximum(smooth + strength * (x - smooth), math.log(log_floor))
    return out.astype(mel.dtype)


def apply_postfilter(logmel: np.ndarray, decode_conf: dict, log_floor: float = 1.0e-5) -> np.ndarray:
    """The postfilter a decode conf asks for (``postfilter: {strength, width}``; null/absent: none)."""
    pf = decode_conf.get("postfilter")
    if not pf:
        return logmel
    return spectral_contrast(logmel, pf.get("strength", 1.0), pf.get("width", 5), log_floor)
