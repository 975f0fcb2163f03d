"""HiFi-GAN (Kong, Kim & Bae 2020): transposed-conv upsampling generator with multi-receptive-field
residual blocks, trained against HiFi-GAN's multi-period + multi-scale discriminators
(vocoders/discriminators.py) with log-mel L1 (x45), least-squares adversarial and
feature-matching (x2, summed over every layer of every sub-discriminator) losses.

Generator: conv_pre (mels -> C) -> for each upsampling stage i: leaky ReLU, transposed conv
(stride u_i, C/2^i -> C/2^(i+1)), then the mean of the residual blocks (one per kernel size).
ResBlock "1" (V1/V2) has two convs per dilation, ResBlock "2" (V3) one. conv_post -> tanh.
The product of ``upsample_rates`` must equal the hop length (x bands for sub-band output).

Generator sizes (weight norm folded, as synthesized), against Table 1 of the paper:
V1 13.93 M (13.92 M), V2 0.93 M (0.92 M), V3 1.46 M (1.46 M); tests/test_vocoder_hifigan.py checks them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.vocoders.discriminators import HiFiGANDiscriminator
from pytorch_backend.vocoders.layers import init_normal, same_padding, wn_conv1d
from pytorch_backend.vocoders.neural import NeuralVocoder

SLOPE = 0.1


class ResBlock1(nn.Module):
    """Per dilation d: x += conv_1(lrelu(conv_d(lrelu(x))))."""

    def __init__(self, channels: int, kernel_size: int, dilations):
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=same_padding(kernel_size, d))
            for d in dilations)
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, padding=same_padding(kernel_size)) for _ in dilations)
        init_normal(self)
        for lst in (self.convs1, self.convs2):
            for i, conv in enumerate(lst):
                lst[i] = torch.nn.utils.parametrizations.weight_norm(conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, SLOPE)), SLOPE))
        return x


class ResBlock2(nn.Module):
    """Per dilation d: x += conv_d(lrelu(x)) (HiFi-GAN V3)."""

    def __init__(self, channels: int, kernel_size: int, dilations):
        super().__init__()
        convs = [nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=same_padding(kernel_size, d))
                 for d in dilations]
        for conv in convs:
            init_normal(conv)
        self.convs = nn.ModuleList(torch.nn.utils.parametrizations.weight_norm(c) for c in convs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, SLOPE))
        return x


class HiFiGANGenerator(nn.Module):
    """Log-mel (B, n_mels, T) -> waveform (B, out_channels, T * prod(upsample_rates))."""

    def __init__(self, in_channels: int = 80, out_channels: int = 1, upsample_initial_channel: int = 512,
                 upsample_rates=(8, 8, 2, 2), upsample_kernel_sizes=(16, 16, 4, 4), resblock: str = "1",
                 resblock_kernel_sizes=(3, 7, 11), resblock_dilation_sizes=((1, 3, 5), (1, 3, 5), (1, 3, 5))):
        super().__init__()
        if len(upsample_rates) != len(upsample_kernel_sizes):
            raise ValueError("upsample_rates and upsample_kernel_sizes differ in length")
        if len(resblock_kernel_sizes) != len(resblock_dilation_sizes):
            raise ValueError("resblock_kernel_sizes and resblock_dilation_sizes differ in length")
        if str(resblock) not in ("1", "2"):
            raise ValueError(f"resblock must be '1' or '2', got {resblock!r}")
        block = ResBlock1 if str(resblock) == "1" else ResBlock2
        self.hop = math.prod(int(u) for u in upsample_rates)
        self.num_kernels = len(resblock_kernel_sizes)
        ch = int(upsample_initial_channel)
        self.conv_pre = wn_conv1d(in_channels, ch, 7, padding=3)
        self.ups = nn.ModuleList()
        self.blocks = nn.ModuleList()
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes)):
            c_in, c_out = ch // (2 ** i), ch // (2 ** (i + 1))
            up = nn.ConvTranspose1d(c_in, c_out, int(k), int(u), padding=(int(k) - int(u)) // 2,
                                    output_padding=(int(k) - int(u)) % 2)
            init_normal(up)
            self.ups.append(torch.nn.utils.parametrizations.weight_norm(up))
            for ks, ds in zip(resblock_kernel_sizes, resblock_dilation_sizes):
                self.blocks.append(block(c_out, int(ks), [int(d) for d in ds]))
        self.conv_post = wn_conv1d(ch // (2 ** len(upsample_rates)), out_channels, 7, padding=3)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(mel)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, SLOPE))
            blocks = self.blocks[i * self.num_kernels:(i + 1) * self.num_kernels]
            acc = blocks[0](x)
            for blk in blocks[1:]:
                acc = acc + blk(x)
            x = acc / self.num_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))

    def infer(self, mel: torch.Tensor) -> torch.Tensor:
        return self.forward(mel).squeeze(1)


class HiFiGAN(NeuralVocoder):
    """Registry entry ``hifigan``: V1/V2/V3 by generator keywords (conf/vocoder/hifigan*.yaml)."""

    name = "hifigan"
    objective = "gan"
    generator_cls = HiFiGANGenerator
    discriminator_cls = HiFiGANDiscriminator
    default_train = {"lambda_mel": 45.0, "lambda_stft": 0.0, "lambda_adv": 1.0, "lambda_fm": 2.0}
