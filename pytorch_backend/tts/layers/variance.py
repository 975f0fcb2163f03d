"""The variance adaptor pieces of FastSpeech 2 (Ren et al. 2021): token-level duration, pitch
and energy predictors, and the length regulator that expands token states to frames.

Pitch and energy are modelled per TOKEN (as in FastPitch, Łańcucki 2021: the frame values are
averaged over each token's frames (the hard alignment), predicted from the token states and
added back to them through a small convolutional embedding before the expansion) or per FRAME
(as in the FastSpeech 2 paper: the same predictor and embedding run over the expanded frame
states); :class:`~pytorch_backend.tts.fastspeech2.FastSpeech2` chooses.
"""

from __future__ import annotations

import torch
from torch import nn

from pytorch_backend.tts.layers.masks import length_mask


class VariancePredictor(nn.Module):
    """Two conv(k) -> ReLU -> LayerNorm -> dropout layers and a linear output: one value per
    position, or ``outputs`` values (the last axis) when more than one."""

    def __init__(self, dim: int, channels: int = 256, kernel: int = 3, dropout: float = 0.1, outputs: int = 1):
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f"variance predictor kernel must be odd, got {kernel}")
        self.convs = nn.ModuleList([nn.Conv1d(dim, channels, kernel, padding=kernel // 2),
                                    nn.Conv1d(channels, channels, kernel, padding=kernel // 2)])
        self.norms = nn.ModuleList([nn.LayerNorm(channels), nn.LayerNorm(channels)])
        self.dropout = nn.Dropout(dropout)
        self.outputs = int(outputs)
        self.out = nn.Linear(channels, self.outputs)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, N, dim), mask (B, N) -> (B, N) (or (B, N, outputs)), zero at padding."""
        m = mask.unsqueeze(-1).to(x.dtype)
        for conv, norm in zip(self.convs, self.norms):
            x = conv((x * m).transpose(1, 2)).transpose(1, 2)
            x = self.dropout(norm(torch.relu(x)))
        y = self.out(x * m) * m
        return y.squeeze(-1) if self.outputs == 1 else y


class ValueEmbedding(nn.Module):
    """A scalar per token -> a ``dim`` vector, by a 1-D conv over the token sequence."""

    def __init__(self, dim: int, kernel: int = 3):
        super().__init__()
        self.conv = nn.Conv1d(1, dim, kernel, padding=kernel // 2)

    def forward(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.to(values.dtype)
        return self.conv((values * m).unsqueeze(1)).transpose(1, 2) * m.unsqueeze(-1)


def predicted_durations(log_durations: torch.Tensor, token_lens: torch.Tensor, scale=1.0,
                        max_frames_per_token: int = 60, maxlenratio: float | None = None) -> torch.Tensor:
    """Integer frame counts (B, N) from a duration predictor's log(1 + frames) (B, N): scaled by
    ``scale`` (a number or (B, 1); > 1 slower), rounded, at least 1 and at most
    ``max_frames_per_token`` per real token, 0 at padding. ``maxlenratio`` caps an utterance of n
    tokens at that many frames per token in total: the excess over one frame per token shrinks
    proportionally."""
    durations = torch.round(torch.expm1(log_durations) * scale)
    durations = durations.clamp(min=1.0, max=float(max_frames_per_token))
    if maxlenratio:
        for i, n in enumerate(token_lens.tolist()):
            limit = max(n, int(float(maxlenratio) * n))
            row = durations[i, :n]
            total = float(row.sum())
            if total > limit:
                durations[i, :n] = 1.0 + torch.floor((row - 1.0) * (limit - n) / (total - n))
    return (durations * length_mask(token_lens, durations.size(1)).to(durations.dtype)).long()


def durations_to_path(durations: torch.Tensor, max_frames: int | None = None) -> torch.Tensor:
    """(B, N) integer durations -> (B, T, N) 0/1 alignment: frame t belongs to token n when
    ``sum(d[:n]) <= t < sum(d[:n+1])``; T defaults to the longest total."""
    durations = durations.long()
    ends = torch.cumsum(durations, dim=1)
    starts = ends - durations
    total = int(ends[:, -1].max()) if max_frames is None else int(max_frames)
    t = torch.arange(max(total, 1), device=durations.device).view(1, -1, 1)
    return ((t >= starts.unsqueeze(1)) & (t < ends.unsqueeze(1))).float()


def expand(x: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
    """Length regulator: token states (B, N, D) -> frame states (B, T, D) along a 0/1 path (B, T, N)."""
    return torch.bmm(path.to(x.dtype), x)


def token_average(values: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
    """Frame values (B, T) -> the mean over each token's frames (B, N); 0 for tokens without frames."""
    path = path.to(values.dtype)
    sums = torch.bmm(path.transpose(1, 2), values.unsqueeze(-1)).squeeze(-1)
    counts = path.sum(dim=1)
    return sums / counts.clamp(min=1.0)
