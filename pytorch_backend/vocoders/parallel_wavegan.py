"""Parallel WaveGAN (Yamamoto, Song & Kim 2020): a non-causal WaveNet that maps Gaussian noise
to speech in one pass, conditioned on upsampled log-mels, trained with the multi-resolution
STFT loss plus an adversarial loss from a dilated-conv discriminator.

Generator layer l (dilation 2^(l mod layers/stacks)): h = conv_k,d(x) + conv1x1(c);
z = tanh(h_a) * sigmoid(h_b); x <- (x + conv1x1(z)) * sqrt(1/2), skip += conv1x1(z).
Output: ReLU, conv1x1, ReLU, conv1x1 on the skip sum.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.vocoders.layers import Upsampler, wn_conv1d
from pytorch_backend.vocoders.neural import NeuralVocoder


class GatedResidual(nn.Module):
    """The WaveNet residual block (non-causal, 'same' padding)."""

    def __init__(self, residual: int, gate: int, skip: int, cond: int, kernel_size: int, dilation: int):
        super().__init__()
        self.conv = nn.Conv1d(residual, gate, kernel_size, dilation=dilation,
                              padding=(kernel_size - 1) // 2 * dilation)
        self.cond = nn.Conv1d(cond, gate, 1, bias=False)
        self.out = nn.Conv1d(gate // 2, residual, 1)
        self.skip = nn.Conv1d(gate // 2, skip, 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = (self.conv(x) + self.cond(c)).chunk(2, dim=1)
        z = torch.tanh(a) * torch.sigmoid(b)
        return (x + self.out(z)) * math.sqrt(0.5), self.skip(z)


class ParallelWaveGANGenerator(nn.Module):
    def __init__(self, in_channels: int = 80, layers: int = 30, stacks: int = 3, residual_channels: int = 64,
                 gate_channels: int = 128, skip_channels: int = 64, kernel_size: int = 3,
                 upsample_scales=(4, 4, 4, 4)):
        super().__init__()
        if layers % stacks:
            raise ValueError(f"layers ({layers}) must be a multiple of stacks ({stacks})")
        self.hop = math.prod(int(s) for s in upsample_scales)
        self.upsample = Upsampler(list(upsample_scales))
        self.first = nn.Conv1d(1, residual_channels, 1)
        per_stack = layers // stacks
        self.blocks = nn.ModuleList(
            GatedResidual(residual_channels, gate_channels, skip_channels, in_channels, kernel_size,
                          2 ** (i % per_stack)) for i in range(layers))
        self.last = nn.Sequential(nn.ReLU(), nn.Conv1d(skip_channels, skip_channels, 1), nn.ReLU(),
                                  nn.Conv1d(skip_channels, 1, 1))
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        for m in list(self.modules()):
            for name, child in list(m.named_children()):
                if isinstance(child, nn.Conv1d):
                    setattr(m, name, torch.nn.utils.parametrizations.weight_norm(child))

    def forward(self, mel: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """(B, n_mels, T) -> (B, 1, T * hop); ``noise`` (B, 1, T * hop) defaults to N(0, 1)."""
        c = self.upsample(mel)
        if noise is None:
            noise = torch.randn(mel.shape[0], 1, c.shape[-1], device=mel.device, dtype=mel.dtype)
        x = self.first(noise)
        skips = 0.0
        for block in self.blocks:
            x, s = block(x, c)
            skips = skips + s
        return self.last(skips * math.sqrt(1.0 / len(self.blocks)))

    def infer(self, mel: torch.Tensor) -> torch.Tensor:
        return self.forward(mel).squeeze(1)


class ParallelWaveGANDiscriminator(nn.Module):
    """Dilated 1-D convs (dilation 1, 1, 2, 3, ... up to layers-2), leaky ReLU, conv to one score per sample."""

    def __init__(self, layers: int = 10, channels: int = 64, kernel_size: int = 3):
        super().__init__()
        convs, c_in = [], 1
        for i in range(layers - 1):
            d = 1 if i == 0 else i
            convs.append(wn_conv1d(c_in, channels, kernel_size, dilation=d, padding=(kernel_size - 1) // 2 * d))
            c_in = channels
        self.convs = nn.ModuleList(convs)
        self.post = wn_conv1d(c_in, 1, kernel_size, padding=(kernel_size - 1) // 2)

    def forward(self, wav: torch.Tensor):
        feats, x = [], wav
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
            feats.append(x)
        x = self.post(x)
        return [x.flatten(1)], [feats]


class ParallelWaveGAN(NeuralVocoder):
    """Registry entry ``parallel_wavegan``."""

    name = "parallel_wavegan"
    objective = "gan"
    generator_cls = ParallelWaveGANGenerator
    discriminator_cls = ParallelWaveGANDiscriminator
    default_train = {"lambda_stft": 1.0, "lambda_adv": 4.0, "lambda_fm": 0.0, "lr_g": 1.0e-4,
                     "lr_d": 5.0e-5, "betas": [0.9, 0.999], "grad_clip": 10.0}
