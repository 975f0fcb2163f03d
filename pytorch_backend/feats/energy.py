"""Frame-level energy at the mel hop, for the variance predictors of FastSpeech2.

energy[t] = ln(max(||X[t]||_2, log_floor)) where X[t] is the magnitude STFT frame of the very
STFT the log-mel is computed from (same trimming, n_fft, window, hop, ``center=True``), so
there is exactly one value per mel frame. The natural log keeps the values in a range where a
mean/std normalization (``energy_mean``/``energy_std`` in stats.npz, over all train frames)
behaves, whatever the recording level.
"""

from __future__ import annotations

import numpy as np
import torch


def frame_energy(magnitude: torch.Tensor | np.ndarray, log_floor: float = 1e-5) -> np.ndarray:
    """Log L2 norm of each magnitude frame of a (frames, n_freq) array -> float32 (frames,)."""
    mag = torch.as_tensor(magnitude, dtype=torch.float32)
    if mag.ndim != 2:
        raise ValueError(f"expected a (frames, n_freq) magnitude, got shape {tuple(mag.shape)}")
    with torch.inference_mode():
        norm = torch.linalg.vector_norm(mag, dim=1)
        return torch.log(torch.clamp(norm, min=float(log_floor))).numpy().astype(np.float32)
