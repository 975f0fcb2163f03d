"""A compact speech-emotion classifier: 1-D conv blocks over time + statistics pooling.

Input: normalized log-mel frames (B, T, n_mels) with their lengths. Each block is
Conv1d -> per-frame LayerNorm -> ReLU (dilations grow, so the receptive field covers
syllables and captures speaking rate); padded frames are masked after every block.
The utterance vector is the masked mean and standard deviation over time of
(a) the last block's output and (b) the normalized input itself; (b) carries the
utterance-level loudness, spectral tilt and pitch region directly, which makes the
classifier robust on short training runs. A small MLP maps it to emotion logits.
Per-frame LayerNorm (not BatchNorm) keeps padding from leaking into the statistics.
"""

from __future__ import annotations

import torch
from torch import nn


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B,) lengths -> (B, T) bool mask, True on real frames."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def masked_mean_std(x: torch.Tensor, mask: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """x: (B, C, T), mask: (B, T) -> (B, 2C) mean and std over the real frames."""
    m = mask[:, None, :].to(x.dtype)
    count = m.sum(dim=2).clamp(min=1.0)
    mean = (x * m).sum(dim=2) / count
    var = (((x - mean[:, :, None]) ** 2) * m).sum(dim=2) / count
    return torch.cat([mean, torch.sqrt(var + eps)], dim=1)


class ConvBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        self.conv = nn.Conv1d(in_ch, out_ch, kernel_size, dilation=dilation,
                              padding=dilation * (kernel_size - 1) // 2)
        self.norm = nn.LayerNorm(out_ch)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        y = self.norm(y.transpose(1, 2)).transpose(1, 2)
        y = self.drop(torch.relu(y))
        return y * mask[:, None, :].to(y.dtype)


class CnnPoolClassifier(nn.Module):
    """Conv blocks -> mean/std pooling (+ input statistics) -> MLP -> logits."""

    def __init__(self, num_classes: int, n_mels: int, channels: int = 64, kernel_size: int = 5,
                 num_blocks: int = 3, hidden: int = 128, dropout: float = 0.1,
                 input_stats: bool = True, freq_mask: int = 8, time_mask: int = 20):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        if num_blocks < 1:
            raise ValueError(f"num_blocks must be >= 1, got {num_blocks}")
        self.input_stats = bool(input_stats)
        self.freq_mask = int(freq_mask)
        self.time_mask = int(time_mask)
        blocks, in_ch = [], n_mels
        for i in range(num_blocks):
            blocks.append(ConvBlock(in_ch, channels, kernel_size, dilation=2 ** i, dropout=dropout))
            in_ch = channels
        self.blocks = nn.ModuleList(blocks)
        pooled = 2 * channels + (2 * n_mels if self.input_stats else 0)
        self.head = nn.Sequential(nn.Linear(pooled, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, num_classes))

    def spec_augment(self, feats: torch.Tensor) -> torch.Tensor:
        """SpecAugment-like masking in training: one random band of mel bins and one of
        frames set to 0 (the mean of normalized features). Off when the widths are 0."""
        if not self.training or (self.freq_mask <= 0 and self.time_mask <= 0):
            return feats
        feats = feats.clone()
        batch, frames, bins = feats.shape
        for b in range(batch):
            if self.freq_mask > 0:
                width = int(torch.randint(0, self.freq_mask + 1, ()))
                start = int(torch.randint(0, max(1, bins - width + 1), ()))
                feats[b, :, start:start + width] = 0.0
            if self.time_mask > 0:
                width = int(torch.randint(0, self.time_mask + 1, ()))
                start = int(torch.randint(0, max(1, frames - width + 1), ()))
                feats[b, start:start + width, :] = 0.0
        return feats

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """feats: (B, T, n_mels) normalized log-mel, lengths: (B,) -> logits (B, num_classes)."""
        mask = lengths_to_mask(lengths, feats.shape[1])
        x = self.spec_augment(feats).transpose(1, 2) * mask[:, None, :].to(feats.dtype)
        pooled = []
        if self.input_stats:
            pooled.append(masked_mean_std(x, mask))
        for block in self.blocks:
            x = block(x, mask)
        pooled.append(masked_mean_std(x, mask))
        return self.head(torch.cat(pooled[::-1], dim=1))
