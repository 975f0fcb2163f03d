"""MelGAN (Kumar et al. 2019) and multi-band MelGAN (Yang et al. 2021).

Generator: edge-padded conv 7 (mels -> C), then per upsampling ratio r a leaky ReLU, a
transposed conv (kernel 2r, stride r, channels halved) and a residual stack of dilated convs
(dilations 3^0..3^(n-1)); leaky ReLU, conv 7 -> ``out_channels``, tanh. The multi-band
generator emits ``bands`` sub-band signals at rate hop/bands and a PQMF synthesizes the full
band. Discriminator: MelGAN's three scale discriminators on progressively average-pooled audio
(discriminators.MelGANDiscriminator); its feature-matching loss sums the per-layer L1 means over
layers and discriminators (the paper's L_FM, weight 10); multi-band MelGAN replaces it with the
multi-resolution STFT losses (``lambda_fm`` 0).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from pytorch_backend.vocoders.discriminators import MelGANDiscriminator
from pytorch_backend.vocoders.layers import wn_conv1d, wn_conv_transpose1d
from pytorch_backend.vocoders.neural import NeuralVocoder
from pytorch_backend.vocoders.pqmf import PQMF

SLOPE = 0.2


class ResidualStack(nn.Module):
    def __init__(self, channels: int, dilations):
        super().__init__()
        self.blocks = nn.ModuleList(nn.Sequential(
            nn.LeakyReLU(SLOPE), nn.ReplicationPad1d(d), wn_conv1d(channels, channels, 3, dilation=d),
            nn.LeakyReLU(SLOPE), wn_conv1d(channels, channels, 1)) for d in dilations)
        self.shortcuts = nn.ModuleList(wn_conv1d(channels, channels, 1) for _ in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block, short in zip(self.blocks, self.shortcuts):
            x = short(x) + block(x)
        return x


class MelGANGenerator(nn.Module):
    """Log-mel (B, n_mels, T) -> (B, out_channels, T * prod(upsample_scales))."""

    def __init__(self, in_channels: int = 80, out_channels: int = 1, channels: int = 512,
                 upsample_scales=(8, 8, 2, 2), stack_dilations=(1, 3, 9), bands: int = 1):
        super().__init__()
        self.bands = int(bands)
        if self.bands > 1:
            out_channels = self.bands
        self.hop = math.prod(int(s) for s in upsample_scales) * self.bands
        layers = [nn.ReplicationPad1d(3), wn_conv1d(in_channels, channels, 7)]
        ch = int(channels)
        for r in upsample_scales:
            r = int(r)
            layers += [nn.LeakyReLU(SLOPE),
                       wn_conv_transpose1d(ch, ch // 2, 2 * r, r, padding=r // 2 + r % 2, output_padding=r % 2),
                       ResidualStack(ch // 2, [int(d) for d in stack_dilations])]
            ch //= 2
        layers += [nn.LeakyReLU(SLOPE), nn.ReplicationPad1d(3), wn_conv1d(ch, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.pqmf = PQMF(self.bands) if self.bands > 1 else None

    def forward_bands(self, mel: torch.Tensor) -> torch.Tensor:
        return self.net(mel)

    def synthesize_bands(self, sub: torch.Tensor) -> torch.Tensor:
        return self.pqmf.synthesis(sub)

    def analyze(self, wav: torch.Tensor) -> torch.Tensor:
        return self.pqmf.analysis(wav)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        out = self.net(mel)
        return self.pqmf.synthesis(out) if self.pqmf is not None else out

    def infer(self, mel: torch.Tensor) -> torch.Tensor:
        return self.forward(mel).squeeze(1)


class FullBandMelGANGenerator(MelGANGenerator):
    """MelGAN's full-band generator."""

    def __init__(self, in_channels: int = 80, channels: int = 512, upsample_scales=(8, 8, 2, 2),
                 stack_dilations=(1, 3, 9)):
        super().__init__(in_channels, 1, channels, upsample_scales, stack_dilations, bands=1)


class MultiBandMelGANGenerator(MelGANGenerator):
    def __init__(self, in_channels: int = 80, channels: int = 384, upsample_scales=(4, 4, 4),
                 stack_dilations=(1, 3, 9, 27), bands: int = 4):
        super().__init__(in_channels, bands, channels, upsample_scales, stack_dilations, bands=bands)


class MelGAN(NeuralVocoder):
    """Registry entry ``melgan``: full-band MelGAN with the multi-scale discriminator."""

    name = "melgan"
    objective = "gan"
    generator_cls = FullBandMelGANGenerator
    discriminator_cls = MelGANDiscriminator
    default_discriminator = {"scales": 3, "channels": 16, "max_channels": 1024}
    default_train = {"lambda_stft": 1.0, "lambda_adv": 1.0, "lambda_fm": 10.0, "lr_g": 1.0e-4,
                     "lr_d": 1.0e-4, "betas": [0.5, 0.9]}


class MultiBandMelGAN(NeuralVocoder):
    """Registry entry ``multiband_melgan``: 4 PQMF sub-bands, full- and sub-band STFT losses."""

    name = "multiband_melgan"
    objective = "gan"
    generator_cls = MultiBandMelGANGenerator
    discriminator_cls = MelGANDiscriminator
    default_discriminator = {"scales": 3, "channels": 16, "max_channels": 512}
    default_train = {"lambda_stft": 0.5, "lambda_subband_stft": 0.5, "lambda_adv": 2.5, "lambda_fm": 0.0,
                     "lr_g": 1.0e-3, "lr_d": 1.0e-3, "betas": [0.5, 0.9]}
