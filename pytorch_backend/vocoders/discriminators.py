"""The GAN vocoders' discriminators, each as its paper describes it.

Every discriminator returns ``(scores, feats)``: one flattened score tensor per sub-discriminator
and, per sub-discriminator, the list of feature maps the feature-matching loss
(losses.feature_matching_loss) compares.

- HiFi-GAN (Kong, Kim & Bae 2020), ``HiFiGANDiscriminator``: the multi-period discriminator (MPD,
  periods 2, 3, 5, 7, 11: audio folded to (T/p, p), 2-D convs with (5, 1) kernels, stride 3,
  channels 32-128-512-1024-1024) plus HiFi-GAN's own multi-scale discriminator (MSD): three
  scale discriminators on the raw audio, x2 and x4 average-pooled audio (AvgPool1d(4, 2,
  padding=2) between scales), each a stack of grouped strided 1-D convs (kernel 15, then 41
  with groups 4-16-16-16-16 and strides 2-2-4-4-1, channels 128 -> 1024, then kernel 5) and a
  kernel 3 score conv, leaky ReLU 0.1. The raw scale uses spectral norm, the others and the MPD
  weight norm. Feature maps: every conv output, the score conv's too (as in the authors'
  implementation), 6 per period and 8 per scale: 54 in all.
  Parameter count of the paper-sized MPD + MSD: 41.09 M + 29.61 M = 70.70 M (weights and biases;
  computed layer by layer from the architecture above in tests/test_vocoder_hifigan.py).
- MelGAN (Kumar et al. 2019), ``MelGANDiscriminator``: three scale discriminators on raw, x2 and x4
  pooled audio (AvgPool1d(4, 2, padding=1) without counting the padding), each: reflect-padded
  conv 15 -> 16 channels, then per downsampling factor s (4, 4, 4, 4) a conv of kernel 10 s + 1,
  stride s, groups = input channels / 4, channels x s up to ``max_channels``; conv 5, score conv 3;
  leaky ReLU 0.2, weight norm. Feature maps: every layer but the score (the paper's L_FM).
  Multi-band MelGAN (Yang et al. 2021) keeps this discriminator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from pytorch_backend.vocoders.layers import same_padding

HIFIGAN_SLOPE = 0.1
MELGAN_SLOPE = 0.2

# HiFi-GAN's scale discriminator, layer by layer (the authors' DiscriminatorS)
MSD_CHANNELS = (128, 128, 256, 512, 1024, 1024, 1024)
MSD_KERNELS = (15, 41, 41, 41, 41, 41, 5)
MSD_STRIDES = (1, 2, 2, 4, 4, 1, 1)
MSD_GROUPS = (1, 4, 16, 16, 16, 16, 1)


def _check_groups(c_in: int, c_out: int, groups: int, where: str) -> None:
    if groups < 1 or c_in % groups or c_out % groups:
        raise ValueError(f"{where}: groups {groups} must divide the input ({c_in}) and output ({c_out}) channels")


def stack_scores(convs, post, x: torch.Tensor, slope: float, score_is_feature: bool):
    """Leaky-ReLU conv stack, then the score conv: (flattened scores, feature maps)."""
    feats = []
    for conv in convs:
        x = F.leaky_relu(conv(x), slope)
        feats.append(x)
    x = post(x)
    if score_is_feature:
        feats.append(x)
    return x.flatten(1), feats


def score_scales(discs, pool, wav: torch.Tensor):
    """``(scores, feats)`` of multi-scale sub-discriminators: the first on ``wav``, each next one
    on the audio ``pool``-ed once more."""
    outs, feats, x = [], [], wav
    for i, disc in enumerate(discs):
        if i:
            x = pool(x)
        o, f = disc(x)
        outs.append(o)
        feats.append(f)
    return outs, feats


class PeriodDiscriminator(nn.Module):
    """HiFi-GAN MPD sub-discriminator: audio reshaped to (T/p, p), 2-D convs with kernels (k, 1),
    stride ``stride`` on all but the last conv, then a (3, 1) score conv; weight norm."""

    def __init__(self, period: int, channels=(32, 128, 512, 1024, 1024), kernel_size: int = 5, stride: int = 3):
        super().__init__()
        if int(period) < 1:
            raise ValueError(f"periods must be >= 1, got {period}")
        self.period = int(period)
        convs, c_in = [], 1
        for i, c in enumerate(channels):
            s = int(stride) if i < len(channels) - 1 else 1
            convs.append(weight_norm(nn.Conv2d(c_in, int(c), (int(kernel_size), 1), (s, 1),
                                               padding=(same_padding(int(kernel_size)), 0))))
            c_in = int(c)
        self.convs = nn.ModuleList(convs)
        self.post = weight_norm(nn.Conv2d(c_in, 1, (3, 1), padding=(1, 0)))

    def forward(self, x: torch.Tensor):
        b, c, t = x.shape
        if t % self.period:
            x = F.pad(x, (0, self.period - t % self.period), mode="reflect")
            t = x.shape[-1]
        x = x.view(b, c, t // self.period, self.period)
        return stack_scores(self.convs, self.post, x, HIFIGAN_SLOPE, score_is_feature=True)


class HiFiGANScaleDiscriminator(nn.Module):
    """HiFi-GAN MSD sub-discriminator: 1-D convs of the given channels/kernels/strides/groups
    ('same' padding), then a kernel 3 score conv; spectral norm or weight norm on every conv."""

    def __init__(self, channels=MSD_CHANNELS, kernel_sizes=MSD_KERNELS, strides=MSD_STRIDES, groups=MSD_GROUPS,
                 use_spectral_norm: bool = False):
        super().__init__()
        lens = {len(channels), len(kernel_sizes), len(strides), len(groups)}
        if len(lens) != 1 or not channels:
            raise ValueError("scale_channels, scale_kernel_sizes, scale_strides and scale_groups must be "
                             f"non-empty lists of one length, got lengths {len(channels)}, {len(kernel_sizes)}, "
                             f"{len(strides)}, {len(groups)}")
        norm = spectral_norm if use_spectral_norm else weight_norm
        convs, c_in = [], 1
        for i, (c, k, s, g) in enumerate(zip(channels, kernel_sizes, strides, groups)):
            c, k, s, g = int(c), int(k), int(s), int(g)
            _check_groups(c_in, c, g, f"scale discriminator layer {i}")
            convs.append(norm(nn.Conv1d(c_in, c, k, s, padding=same_padding(k), groups=g)))
            c_in = c
        self.convs = nn.ModuleList(convs)
        self.post = norm(nn.Conv1d(c_in, 1, 3, padding=1))

    def forward(self, x: torch.Tensor):
        return stack_scores(self.convs, self.post, x, HIFIGAN_SLOPE, score_is_feature=True)


class HiFiGANDiscriminator(nn.Module):
    """MPD (one PeriodDiscriminator per period) + MSD (``scales`` HiFiGANScaleDiscriminators, the
    first on raw audio with spectral norm when ``scale_spectral_norm``, each next one on audio
    pooled by AvgPool1d(4, 2, padding=2) once more). Defaults: the paper's sizes."""

    def __init__(self, periods=(2, 3, 5, 7, 11), period_channels=(32, 128, 512, 1024, 1024),
                 period_kernel_size: int = 5, period_stride: int = 3, scales: int = 3,
                 scale_channels=MSD_CHANNELS, scale_kernel_sizes=MSD_KERNELS, scale_strides=MSD_STRIDES,
                 scale_groups=MSD_GROUPS, scale_spectral_norm: bool = True):
        super().__init__()
        if int(scales) < 0:
            raise ValueError(f"scales must be >= 0, got {scales}")
        self.periods = nn.ModuleList(PeriodDiscriminator(p, period_channels, period_kernel_size, period_stride)
                                     for p in periods)
        self.scales = nn.ModuleList(
            HiFiGANScaleDiscriminator(scale_channels, scale_kernel_sizes, scale_strides, scale_groups,
                                      use_spectral_norm=bool(scale_spectral_norm) and i == 0)
            for i in range(int(scales)))
        self.pool = nn.AvgPool1d(4, 2, padding=2)

    def forward(self, wav: torch.Tensor):
        outs, feats = [], []
        for disc in self.periods:
            o, f = disc(wav)
            outs.append(o)
            feats.append(f)
        scale_outs, scale_feats = score_scales(self.scales, self.pool, wav)
        return outs + scale_outs, feats + scale_feats


class MelGANScaleDiscriminator(nn.Module):
    """MelGAN's discriminator block (see the module doc); weight norm, leaky ReLU 0.2."""

    def __init__(self, channels: int = 16, max_channels: int = 1024, downsample_scales=(4, 4, 4, 4)):
        super().__init__()
        c = int(channels)
        if c < 1 or int(max_channels) < c:
            raise ValueError(f"channels ({channels}) must be >= 1 and <= max_channels ({max_channels})")
        layers = [nn.Sequential(nn.ReflectionPad1d(7), weight_norm(nn.Conv1d(1, c, 15)))]
        for i, s in enumerate(downsample_scales):
            s = int(s)
            c_out, groups = min(c * s, int(max_channels)), max(1, c // 4)
            _check_groups(c, c_out, groups, f"scale discriminator downsampling layer {i}")
            layers.append(weight_norm(nn.Conv1d(c, c_out, 10 * s + 1, s, padding=5 * s, groups=groups)))
            c = c_out
        c_out = min(2 * c, int(max_channels))
        layers.append(weight_norm(nn.Conv1d(c, c_out, 5, padding=2)))
        self.convs = nn.ModuleList(layers)
        self.post = weight_norm(nn.Conv1d(c_out, 1, 3, padding=1))

    def forward(self, x: torch.Tensor):
        return stack_scores(self.convs, self.post, x, MELGAN_SLOPE, score_is_feature=False)


class MelGANDiscriminator(nn.Module):
    """MelGAN's multi-scale discriminator: ``scales`` blocks, each next one on audio pooled once more."""

    def __init__(self, scales: int = 3, channels: int = 16, max_channels: int = 1024,
                 downsample_scales=(4, 4, 4, 4)):
        super().__init__()
        if int(scales) < 1:
            raise ValueError(f"scales must be >= 1, got {scales}")
        self.scales = nn.ModuleList(MelGANScaleDiscriminator(channels, max_channels, downsample_scales)
                                    for _ in range(int(scales)))
        self.pool = nn.AvgPool1d(4, 2, padding=1, count_include_pad=False)

    def forward(self, wav: torch.Tensor):
        return score_scales(self.scales, self.pool, wav)
