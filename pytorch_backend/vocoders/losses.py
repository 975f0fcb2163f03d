"""Training losses of the neural vocoders.

- ``MelLoss``: L1 between log-mels of generated and real audio (HiFi-GAN's reconstruction term),
  computed with the toolkit's one log-mel definition (feats/logmel.py) in differentiable torch.
- ``MultiResolutionSTFTLoss``: spectral convergence + log-magnitude L1 at several STFT sizes
  (Yamamoto et al. 2020, Parallel WaveGAN); also used on PQMF sub-bands (multi-band MelGAN).
- Least-squares GAN losses, and feature matching: per-layer L1 means summed over the layers and
  sub-discriminators (the papers' L_FM; vocoders/discriminators.py decides which maps count).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.feats.logmel import LogMelExtractor


class MelLoss(nn.Module):
    """L1 distance of natural-log mel spectrograms (the dump definition, centre reflect padding)."""

    def __init__(self, feats_conf: dict):
        super().__init__()
        ext = LogMelExtractor.from_conf({**feats_conf, "trim_silence": False})
        self.n_fft, self.hop = ext.n_fft, ext.hop_length
        self.floor = ext.log_floor
        self.register_buffer("window", torch.from_numpy(ext.stft_window), persistent=False)
        self.register_buffer("mel_t", torch.from_numpy(ext.mel_basis.T.copy()), persistent=False)

    def logmel(self, wav: torch.Tensor) -> torch.Tensor:
        """(B, samples) -> (B, frames, n_mels)."""
        pad = self.n_fft // 2
        x = F.pad(wav.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
        spec = torch.stft(x, self.n_fft, self.hop, self.n_fft, self.window, center=False,
                          return_complex=True)
        mag = torch.sqrt(spec.real ** 2 + spec.imag ** 2 + 1e-9)
        return torch.log(torch.clamp(mag.transpose(1, 2) @ self.mel_t, min=self.floor))

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(self.logmel(fake), self.logmel(real))


class STFTLoss(nn.Module):
    """Spectral convergence + log-magnitude L1 at one resolution."""

    def __init__(self, n_fft: int, hop: int, win: int):
        super().__init__()
        self.n_fft, self.hop, self.win = n_fft, hop, win
        self.register_buffer("window", torch.hann_window(win), persistent=False)

    def magnitude(self, x: torch.Tensor) -> torch.Tensor:
        mode = "reflect" if x.shape[-1] > self.n_fft // 2 else "constant"  # short test segments
        spec = torch.stft(x, self.n_fft, self.hop, self.win, self.window, pad_mode=mode, return_complex=True)
        return torch.sqrt(torch.clamp(spec.real ** 2 + spec.imag ** 2, min=1e-7))

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mf, mr = self.magnitude(fake), self.magnitude(real)
        sc = torch.linalg.norm(mr - mf, dim=(1, 2)) / torch.linalg.norm(mr, dim=(1, 2)).clamp(min=1e-7)
        mag = F.l1_loss(torch.log(mf), torch.log(mr))
        return sc.mean(), mag


class MultiResolutionSTFTLoss(nn.Module):
    """Mean of ``STFTLoss`` over ``resolutions`` = [[n_fft, hop, win], ...]; returns (sc, mag)."""

    def __init__(self, resolutions=((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))):
        super().__init__()
        self.losses = nn.ModuleList(STFTLoss(int(n), int(h), int(w)) for n, h, w in resolutions)

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``fake``/``real``: (B, samples) or (B, bands, samples) (bands folded into the batch)."""
        if fake.dim() == 3:
            fake, real = fake.reshape(-1, fake.shape[-1]), real.reshape(-1, real.shape[-1])
        sc = mag = 0.0
        for loss in self.losses:
            s, m = loss(fake, real)
            sc, mag = sc + s, mag + m
        return sc / len(self.losses), mag / len(self.losses)


def discriminator_loss(real_outs, fake_outs) -> torch.Tensor:
    """Least-squares GAN: real scores toward 1, fake scores toward 0 (summed over sub-discriminators)."""
    loss = 0.0
    for r, f in zip(real_outs, fake_outs):
        loss = loss + torch.mean((1.0 - r) ** 2) + torch.mean(f ** 2)
    return loss


def generator_adv_loss(fake_outs) -> torch.Tensor:
    return sum(torch.mean((1.0 - f) ** 2) for f in fake_outs)


def feature_matching_loss(real_feats, fake_feats) -> torch.Tensor:
    """Feature matching (MelGAN's and HiFi-GAN's L_FM): the mean absolute
    difference of each feature map of real and generated audio, summed over the layers of every
    sub-discriminator and over the sub-discriminators (not averaged; the trainer multiplies it by
    ``lambda_fm``: 2 in HiFi-GAN, 10 in MelGAN). ``real_feats``/``fake_feats``: one list of feature
    maps per sub-discriminator, as the discriminators return them; real maps are detached."""
    if len(real_feats) != len(fake_feats):
        raise ValueError(f"feature maps of {len(real_feats)} real and {len(fake_feats)} generated "
                         "sub-discriminators")
    loss = None
    for i, (rs, fs) in enumerate(zip(real_feats, fake_feats)):
        if len(rs) != len(fs):
            raise ValueError(f"sub-discriminator {i}: {len(rs)} real and {len(fs)} generated feature maps")
        for j, (r, f) in enumerate(zip(rs, fs)):
            if r.shape != f.shape:
                raise ValueError(f"sub-discriminator {i}, layer {j}: real feature map {tuple(r.shape)} "
                                 f"vs generated {tuple(f.shape)}")
            term = torch.mean(torch.abs(f - r.detach()))
            loss = term if loss is None else loss + term
    if loss is None:
        raise ValueError("no feature maps to match (a discriminator without layers?)")
    return loss
