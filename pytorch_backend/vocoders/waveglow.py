"""WaveGlow (Prenger, Valle & Catanzaro 2019): a normalizing flow from audio to Gaussian noise,
conditioned on log-mels, trained by maximum likelihood and inverted for synthesis.

Audio (B, T) is squeezed into ``n_group`` channels (B, n_group, T / n_group); the log-mels,
upsampled to the sample rate by repetition, are squeezed alike. Each flow is an invertible
1x1 convolution (orthogonal init, log|det W| per time step) followed by an affine coupling
layer: a WaveNet-like network of one half (and the conditioning) gives log s and t for the
other half, x_b <- exp(log s) x_b + t. Every ``early_every`` flows ``early_size`` channels
leave early. Loss per element: |z|^2 / (2 sigma^2) - sum log s - sum log|det W|.
Synthesis draws z ~ N(0, sigma^2) and runs the flows backwards.
"""

from __future__ import annotations

import torch
from torch import nn

from pytorch_backend.vocoders.layers import repeat_frames
from pytorch_backend.vocoders.neural import NeuralVocoder


class Invertible1x1(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        w = torch.linalg.qr(torch.randn(channels, channels))[0]
        if torch.det(w) < 0:
            w[:, 0] = -w[:, 0]
        self.weight = nn.Parameter(w)

    def forward(self, z: torch.Tensor):
        logdet = z.shape[-1] * torch.slogdet(self.weight)[1]
        return torch.einsum("ij,bjt->bit", self.weight, z), logdet

    def reverse(self, z: torch.Tensor) -> torch.Tensor:
        return torch.einsum("ij,bjt->bit", torch.linalg.inv(self.weight), z)


class CouplingNet(nn.Module):
    """Non-causal gated dilated convs (kernel 3) -> (log s, t); the last conv starts at zero."""

    def __init__(self, in_channels: int, cond_channels: int, layers: int, channels: int, kernel_size: int = 3):
        super().__init__()
        self.start = nn.Conv1d(in_channels, channels, 1)
        self.convs = nn.ModuleList(nn.Conv1d(channels, 2 * channels, kernel_size, dilation=2 ** i,
                                             padding=(kernel_size - 1) // 2 * 2 ** i) for i in range(layers))
        self.conds = nn.ModuleList(nn.Conv1d(cond_channels, 2 * channels, 1) for _ in range(layers))
        self.res = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in range(layers))
        self.end = nn.Conv1d(channels, 2 * in_channels, 1)
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor):
        h, skip = self.start(x), 0.0
        for conv, cond, res in zip(self.convs, self.conds, self.res):
            a, b = (conv(h) + cond(c)).chunk(2, dim=1)
            z = torch.tanh(a) * torch.sigmoid(b)
            h = h + res(z)
            skip = skip + z
        return self.end(skip).chunk(2, dim=1)


class WaveGlowGenerator(nn.Module):
    def __init__(self, in_channels: int = 80, hop_length: int = 256, n_flows: int = 12, n_group: int = 8,
                 early_every: int = 4, early_size: int = 2, wn_layers: int = 8, wn_channels: int = 256,
                 sigma: float = 1.0, infer_sigma: float = 0.6):
        super().__init__()
        if hop_length % n_group:
            raise ValueError(f"n_group ({n_group}) must divide the hop length ({hop_length})")
        self.hop, self.n_group = int(hop_length), int(n_group)
        self.sigma, self.infer_sigma = float(sigma), float(infer_sigma)
        self.early_every, self.early_size = int(early_every), int(early_size)
        self.flows, self.nets = nn.ModuleList(), nn.ModuleList()
        remaining = self.n_group
        self.sizes = []
        for k in range(n_flows):
            if k and k % self.early_every == 0:
                remaining -= self.early_size
            if remaining < 2:
                raise ValueError("too many early outputs for n_group")
            self.sizes.append(remaining)
            self.flows.append(Invertible1x1(remaining))
            self.nets.append(CouplingNet(remaining // 2, in_channels * self.n_group, wn_layers, wn_channels))

    def _cond(self, mel: torch.Tensor) -> torch.Tensor:
        c = repeat_frames(mel, self.hop)  # (B, M, T)
        b, m, t = c.shape
        return c.view(b, m, t // self.n_group, self.n_group).permute(0, 1, 3, 2).reshape(b, m * self.n_group, -1)

    def encode(self, wav: torch.Tensor, mel: torch.Tensor):
        """Audio (B, T) -> (z (B, n_group, T / n_group), sum of log s, sum of log|det W| per item)."""
        c = self._cond(mel)
        b, t = wav.shape
        z = wav.reshape(b, t // self.n_group, self.n_group).transpose(1, 2)
        outs, log_s_sum, logdet_sum = [], 0.0, 0.0
        for k, (flow, net) in enumerate(zip(self.flows, self.nets)):
            if k and k % self.early_every == 0:
                outs.append(z[:, :self.early_size])
                z = z[:, self.early_size:]
            z, logdet = flow(z)
            half = z.shape[1] // 2
            za, zb = z[:, :half], z[:, half:]
            log_s, shift = net(za, c)
            z = torch.cat([za, torch.exp(log_s) * zb + shift], dim=1)
            log_s_sum = log_s_sum + log_s.sum()
            logdet_sum = logdet_sum + logdet
        outs.append(z)
        return torch.cat(outs, dim=1), log_s_sum, logdet_sum

    def decode(self, z: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
        """The inverse of ``encode``: z (B, n_group, T / n_group) -> audio (B, T)."""
        c = self._cond(mel)
        b = z.shape[0]
        n_early = self.n_group - self.sizes[-1]
        early = list(z[:, :n_early].split(self.early_size, dim=1)) if n_early else []
        x = z[:, n_early:]
        for k in reversed(range(len(self.flows))):
            half = x.shape[1] // 2
            xa, xb = x[:, :half], x[:, half:]
            log_s, shift = self.nets[k](xa, c)
            x = self.flows[k].reverse(torch.cat([xa, (xb - shift) * torch.exp(-log_s)], dim=1))
            if k and k % self.early_every == 0:
                x = torch.cat([early.pop(), x], dim=1)
        return x.transpose(1, 2).reshape(b, -1)

    def loss(self, wav: torch.Tensor, mel: torch.Tensor) -> dict:
        z, log_s_sum, logdet_sum = self.encode(wav, mel)
        nll = (z.pow(2).sum() / (2 * self.sigma ** 2) - log_s_sum - wav.shape[0] * logdet_sum) / z.numel()
        return {"loss": nll}

    def infer(self, mel: torch.Tensor) -> torch.Tensor:
        frames = mel.shape[-1] * self.hop // self.n_group
        z = self.infer_sigma * torch.randn(mel.shape[0], self.n_group, frames, device=mel.device, dtype=mel.dtype)
        return self.decode(z, mel)


class WaveGlow(NeuralVocoder):
    """Registry entry ``waveglow``: flow trained by likelihood, inverted in one pass."""

    name = "waveglow"
    objective = "likelihood"
    generator_cls = WaveGlowGenerator
    default_train = {"lr_g": 1.0e-4, "betas": [0.9, 0.999], "grad_clip": 5.0}

    @classmethod
    def feats_kwargs(cls, sig: dict) -> dict:
        return {"in_channels": sig["n_mels"], "hop_length": sig["hop_length"]}

    def prepare_inference(self) -> None:
        self.generator = self.generator.to(self.device).eval()
