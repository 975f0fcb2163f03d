"""HiFi-GAN (Kong, Kim & Bae 2020): transposed-conv upsampling generator with multi-receptive-field
residual blocks, multi-period and multi-scale discriminators.

Generator: conv_pre (mels -> C) -> for each upsampling stage i: leaky ReLU, transposed conv
(stride u_i, C/2^i -> C/2^(i+1)), then the mean of the residual blocks (one per kernel size).
ResBlock "1" (V1/V2) has two convs per dilation, ResBlock "2" (V3) one. conv_post -> tanh.
The product of ``upsample_rates`` must equal the hop length (x bands for sub-band output).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.vocoders.neural import NeuralVocoder
from pytorch_backend.vocoders.layers import init_normal, same_padding, wn_conv1d, wn_conv2d

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


class PeriodDiscriminator(nn.Module):
    """Reshapes audio to (T/p, p) and applies 2-D convs with kernels (k, 1): one period's view."""

    def __init__(self, period: int, channels=(32, 128, 512, 1024, 1024), kernel_size: int = 5, stride: int = 3):
        super().__init__()
        self.period = int(period)
        convs, c_in = [], 1
        for i, c in enumerate(channels):
            s = stride if i < len(channels) - 1 else 1
            convs.append(wn_conv2d(c_in, int(c), (kernel_size, 1), (s, 1), padding=(same_padding(kernel_size), 0)))
            c_in = int(c)
        self.convs = nn.ModuleList(convs)
        self.post = wn_conv2d(c_in, 1, (3, 1), padding=(1, 0))

    def forward(self, x: torch.Tensor):
        b, c, t = x.shape
        if t % self.period:
            x = F.pad(x, (0, self.period - t % self.period), mode="reflect")
            t = x.shape[-1]
        x = x.view(b, c, t // self.period, self.period)
        return conv_stack_scores(self.convs, self.post, x)


def conv_stack_scores(convs, post, x: torch.Tensor):
    """Leaky-ReLU conv stack then the score conv: (flattened scores, every layer's output), the
    latter for the feature-matching loss."""
    feats = []
    for conv in convs:
        x = F.leaky_relu(conv(x), SLOPE)
        feats.append(x)
    x = post(x)
    feats.append(x)
    return x.flatten(1), feats


class ScaleDiscriminator(nn.Module):
    """MelGAN/HiFi-GAN scale discriminator: strided grouped 1-D convs over (pooled) audio."""

    def __init__(self, channels: int = 128, max_channels: int = 1024, max_groups: int = 16,
                 downsample_scales=(4, 4, 4, 4), kernel_size: int = 41):
        super().__init__()
        c = int(channels)
        layers = [wn_conv1d(1, c, 15, padding=7)]
        for s in downsample_scales:
            c_out = min(c * int(s), int(max_channels))
            groups = max(1, min(c // 4, int(max_groups)))
            while c % groups or c_out % groups:
                groups -= 1
            layers.append(wn_conv1d(c, c_out, kernel_size, int(s), padding=kernel_size // 2, groups=groups))
            c = c_out
        layers.append(wn_conv1d(c, c, 5, padding=2))
        self.convs = nn.ModuleList(layers)
        self.post = wn_conv1d(c, 1, 3, padding=1)

    def forward(self, x: torch.Tensor):
        return conv_stack_scores(self.convs, self.post, x)


class MultiDiscriminator(nn.Module):
    """A list of sub-discriminators; each sees audio average-pooled ``pool`` times by 2 (scales)
    or the raw audio (periods). Returns (scores, feature lists)."""

    def __init__(self, periods=(2, 3, 5, 7, 11), period_channels=(32, 128, 512, 1024, 1024),
                 scales: int = 3, scale_channels: int = 128, scale_max_channels: int = 1024,
                 scale_downsample=(4, 4, 4, 4), scale_kernel_size: int = 41):
        super().__init__()
        self.periods = nn.ModuleList(PeriodDiscriminator(p, period_channels) for p in periods)
        self.scales = nn.ModuleList(
            ScaleDiscriminator(scale_channels, scale_max_channels, 16, scale_downsample, scale_kernel_size)
            for _ in range(int(scales)))

    def forward(self, wav: torch.Tensor):
        outs, feats = [], []
        for disc in self.periods:
            o, f = disc(wav)
            outs.append(o)
            feats.append(f)
        x = wav
        for i, disc in enumerate(self.scales):
            if i:
                x = F.avg_pool1d(x, 4, 2, padding=2)
            o, f = disc(x)
            outs.append(o)
            feats.append(f)
        return outs, feats


class HiFiGAN(NeuralVocoder):
    """Registry entry ``hifigan``: V1/V2/V3 by generator keywords (conf/vocoder/hifigan*.yaml)."""

    name = "hifigan"
    objective = "gan"
    generator_cls = HiFiGANGenerator
    discriminator_cls = MultiDiscriminator
    default_train = {"lambda_mel": 45.0, "lambda_stft": 0.0, "lambda_adv": 1.0, "lambda_fm": 2.0}
