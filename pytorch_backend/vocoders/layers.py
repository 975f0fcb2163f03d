"""Small building blocks shared by the neural vocoders: weight-normed convolutions, padding,
weight-norm removal for inference, and conditioning upsampling."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """Padding that keeps the length of a stride-1 convolution (odd kernels)."""
    return (kernel_size * dilation - dilation) // 2


def wn_conv1d(*args, **kwargs) -> nn.Conv1d:
    return weight_norm(nn.Conv1d(*args, **kwargs))


def wn_conv2d(*args, **kwargs) -> nn.Conv2d:
    return weight_norm(nn.Conv2d(*args, **kwargs))


def wn_conv_transpose1d(*args, **kwargs) -> nn.ConvTranspose1d:
    return weight_norm(nn.ConvTranspose1d(*args, **kwargs))


def remove_weight_norm(module: nn.Module) -> nn.Module:
    """Fold every weight-norm parametrization into a plain weight (faster inference)."""
    for sub in module.modules():
        if parametrize.is_parametrized(sub, "weight"):
            parametrize.remove_parametrizations(sub, "weight", leave_parametrized=True)
    return module


def init_normal(module: nn.Module, std: float = 0.01) -> None:
    """HiFi-GAN/MelGAN style initialization of conv weights (before weight norm is applied)."""
    for sub in module.modules():
        if isinstance(sub, (nn.Conv1d, nn.ConvTranspose1d)) and not parametrize.is_parametrized(sub):
            sub.weight.data.normal_(0.0, std)


def repeat_frames(mel: torch.Tensor, hop: int) -> torch.Tensor:
    """(B, C, T) frame-rate conditioning -> (B, C, T * hop) by repeating each frame ``hop`` times."""
    return torch.repeat_interleave(mel, hop, dim=2)


class Upsampler(nn.Module):
    """Frame-rate conditioning to sample rate: nearest-neighbour repeats, each followed by a
    smoothing 2-D convolution over time (Parallel WaveGAN / WaveNet vocoder style)."""

    def __init__(self, scales: list[int], smooth: int = 3):
        super().__init__()
        self.scales = [int(s) for s in scales]
        self.convs = nn.ModuleList()
        for scale in self.scales:
            width = 2 * scale * (smooth // 2) + 1
            conv = nn.Conv2d(1, 1, (1, width), padding=(0, width // 2), bias=False)
            nn.init.constant_(conv.weight, 1.0 / width)
            self.convs.append(conv)

    def forward(self, cond: torch.Tensor) -> torch.Tensor:
        x = cond.unsqueeze(1)  # (B, 1, C, T)
        for scale, conv in zip(self.scales, self.convs):
            x = conv(torch.repeat_interleave(x, scale, dim=3))
        return x.squeeze(1)
