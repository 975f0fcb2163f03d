"""Pseudo-quadrature mirror filter bank (PQMF): K-band analysis and near-perfect synthesis.

Cosine-modulated from one Kaiser-windowed low-pass prototype h (cutoff ``cutoff`` x Nyquist),
as used by multi-band MelGAN (Yang et al. 2021):

    analysis  h_k[n] = 2 h[n] cos((2k+1) pi/(2K) (n - N/2) + (-1)^k pi/4)
    synthesis g_k[n] = 2 h[n] cos((2k+1) pi/(2K) (n - N/2) - (-1)^k pi/4)

Analysis filters then keeps every K-th sample; synthesis inserts K-1 zeros between samples
(times K) and filters. With the default 4-band prototype (62 taps, cutoff 0.142, beta 9) the
reconstruction error of analysis -> synthesis is small (tested).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import firwin
from torch import nn


class PQMF(nn.Module):
    def __init__(self, bands: int = 4, taps: int = 62, cutoff: float = 0.142, beta: float = 9.0):
        super().__init__()
        self.bands, self.taps = int(bands), int(taps)
        proto = firwin(self.taps + 1, cutoff, window=("kaiser", beta))
        n = np.arange(self.taps + 1) - self.taps / 2.0
        k = np.arange(self.bands)[:, None]
        phase = (-1.0) ** k * np.pi / 4.0
        arg = (2 * k + 1) * np.pi / (2 * self.bands) * n[None, :]
        analysis = 2.0 * proto[None, :] * np.cos(arg + phase)
        synthesis = 2.0 * proto[None, :] * np.cos(arg - phase)
        self.register_buffer("analysis_filter", torch.tensor(analysis, dtype=torch.float32).unsqueeze(1),
                             persistent=False)  # (K, 1, taps+1)
        self.register_buffer("synthesis_filter", torch.tensor(synthesis, dtype=torch.float32).unsqueeze(0),
                             persistent=False)  # (1, K, taps+1)
        updown = torch.zeros(self.bands, self.bands, self.bands)
        for i in range(self.bands):
            updown[i, i, 0] = 1.0
        self.register_buffer("updown", updown, persistent=False)

    def analysis(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, T) -> (B, K, T / K)."""
        x = F.conv1d(F.pad(x, (self.taps // 2, self.taps // 2)), self.analysis_filter)
        return F.conv1d(x, self.updown, stride=self.bands)

    def synthesis(self, x: torch.Tensor) -> torch.Tensor:
        """(B, K, T / K) -> (B, 1, T)."""
        x = F.conv_transpose1d(x, self.updown * self.bands, stride=self.bands)
        return F.conv1d(F.pad(x, (self.taps // 2, self.taps // 2)), self.synthesis_filter)
