"""WaveNet vocoder (van den Oord et al. 2016; Shen et al. 2018): an autoregressive stack of
causal dilated convolutions conditioned on upsampled log-mels.

Output distributions: ``categorical`` (softmax over ``quantize_channels`` mu-law classes,
cross-entropy) or ``mol`` (discretized mixture of ``mixtures`` logistics over 16-bit
amplitudes, Salimans et al. 2017). The network input at time t is the previous sample
(as a value in [-1, 1]; mu-law quantized and decoded for ``categorical``).

Generation is incremental (Paine et al. 2016, "fast wavenet"): each layer keeps a circular
buffer of its last (kernel-1) x dilation + 1 inputs, so a new sample costs one small
matrix product per layer and tap instead of a pass over the whole past; the conditioning
projections are computed for blocks of samples at once. With teacher forcing the
incremental path reproduces the full (training) forward pass exactly (tested).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.vocoders.layers import Upsampler
from pytorch_backend.vocoders.neural import NeuralVocoder

COND_BLOCK = 2048  # samples whose conditioning projections are computed together in generation


def mulaw_encode(x: torch.Tensor, channels: int) -> torch.Tensor:
    mu = channels - 1
    y = torch.sign(x) * torch.log1p(mu * x.abs().clamp(max=1.0)) / math.log1p(mu)
    return ((y + 1.0) / 2.0 * mu + 0.5).long().clamp(0, mu)


def mulaw_decode(q: torch.Tensor, channels: int) -> torch.Tensor:
    mu = channels - 1
    y = 2.0 * q.float() / mu - 1.0
    return torch.sign(y) * ((1.0 + mu) ** y.abs() - 1.0) / mu


def mol_nll(params: torch.Tensor, x: torch.Tensor, num_classes: int = 65536, log_scale_min: float = -7.0):
    """Mean negative log-likelihood of ``x`` (B, T) in [-1, 1] under the discretized logistic
    mixture ``params`` (B, 3K, T) = (logit weights, means, log scales)."""
    logit, mean, log_s = params.chunk(3, dim=1)
    log_s = log_s.clamp(min=log_scale_min)
    x = x.unsqueeze(1)
    centered = x - mean
    inv_s = torch.exp(-log_s)
    half = 1.0 / (num_classes - 1)
    plus_in, min_in = inv_s * (centered + half), inv_s * (centered - half)
    cdf_delta = torch.sigmoid(plus_in) - torch.sigmoid(min_in)
    log_cdf_plus = plus_in - F.softplus(plus_in)
    log_one_minus_cdf_min = -F.softplus(min_in)
    mid = inv_s * centered
    log_pdf_mid = mid - log_s - 2.0 * F.softplus(mid)
    inner = torch.where(cdf_delta > 1e-5, torch.log(cdf_delta.clamp(min=1e-12)),
                        log_pdf_mid - math.log((num_classes - 1) / 2.0))
    log_probs = torch.where(x < -0.999, log_cdf_plus, torch.where(x > 0.999, log_one_minus_cdf_min, inner))
    log_probs = log_probs + F.log_softmax(logit, dim=1)
    return -torch.logsumexp(log_probs, dim=1).mean()


def mol_sample(params: torch.Tensor, log_scale_min: float = -7.0) -> torch.Tensor:
    """One sample per row of ``params`` (B, 3K) -> (B,) in [-1, 1]."""
    logit, mean, log_s = params.chunk(3, dim=1)
    gumbel = -torch.log(-torch.log(torch.rand_like(logit).clamp(1e-5, 1.0 - 1e-5)))
    k = (logit + gumbel).argmax(dim=1, keepdim=True)
    mean = mean.gather(1, k).squeeze(1)
    log_s = log_s.gather(1, k).squeeze(1).clamp(min=log_scale_min)
    u = torch.rand_like(mean).clamp(1e-5, 1.0 - 1e-5)
    return (mean + torch.exp(log_s) * (torch.log(u) - torch.log1p(-u))).clamp(-1.0, 1.0)


class CausalBlock(nn.Module):
    """Gated residual block with a causal dilated convolution (left padding only)."""

    def __init__(self, residual: int, gate: int, skip: int, cond: int, kernel_size: int, dilation: int):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.conv = nn.Conv1d(residual, gate, kernel_size, dilation=dilation)
        self.cond = nn.Conv1d(cond, gate, 1, bias=False)
        self.out = nn.Conv1d(gate // 2, residual, 1)
        self.skip = nn.Conv1d(gate // 2, skip, 1)

    @property
    def span(self) -> int:
        return (self.kernel_size - 1) * self.dilation + 1

    def _finish(self, h: torch.Tensor, x: torch.Tensor):
        a, b = h.chunk(2, dim=1)
        z = torch.tanh(a) * torch.sigmoid(b)
        return (x + self.out(z)) * math.sqrt(0.5), self.skip(z)

    def forward(self, x: torch.Tensor, c: torch.Tensor):
        h = self.conv(F.pad(x, (self.span - 1, 0))) + self.cond(c)
        return self._finish(h, x)

    def step(self, buf: torch.Tensor, t: int, cond_t: torch.Tensor):
        """One time step from the circular buffer ``buf`` (B, C, span) that already holds x_t."""
        w = self.conv.weight  # (gate, C, k)
        h = self.conv.bias + cond_t
        for j in range(self.kernel_size):  # tap j sees x[t - (k-1-j) d]
            idx = (t - (self.kernel_size - 1 - j) * self.dilation) % self.span
            h = h + buf[:, :, idx] @ w[:, :, j].T
        x_t = buf[:, :, t % self.span]
        out, skip = self._finish(h.unsqueeze(-1), x_t.unsqueeze(-1))
        return out.squeeze(-1), skip.squeeze(-1)


class WaveNetGenerator(nn.Module):
    def __init__(self, in_channels: int = 80, layers: int = 24, stacks: int = 4, residual_channels: int = 512,
                 gate_channels: int = 512, skip_channels: int = 256, kernel_size: int = 3,
                 output: str = "mol", quantize_channels: int = 256, mixtures: int = 10,
                 upsample_scales=(4, 4, 4, 4), temperature: float = 1.0):
        super().__init__()
        if output not in ("mol", "categorical"):
            raise ValueError(f"output must be 'mol' or 'categorical', got {output!r}")
        if layers % stacks:
            raise ValueError(f"layers ({layers}) must be a multiple of stacks ({stacks})")
        self.output, self.quantize_channels, self.temperature = output, int(quantize_channels), float(temperature)
        self.hop = math.prod(int(s) for s in upsample_scales)
        self.upsample = Upsampler(list(upsample_scales))
        self.first = nn.Conv1d(1, residual_channels, 1)
        per_stack = layers // stacks
        self.blocks = nn.ModuleList(
            CausalBlock(residual_channels, gate_channels, skip_channels, in_channels, kernel_size,
                        2 ** (i % per_stack)) for i in range(layers))
        out_dim = 3 * int(mixtures) if output == "mol" else self.quantize_channels
        self.head1 = nn.Conv1d(skip_channels, skip_channels, 1)
        self.head2 = nn.Conv1d(skip_channels, out_dim, 1)

    def dequantize_input(self, wav: torch.Tensor) -> torch.Tensor:
        if self.output == "categorical":
            return mulaw_decode(mulaw_encode(wav, self.quantize_channels), self.quantize_channels)
        return wav

    def _head(self, skips: torch.Tensor) -> torch.Tensor:
        scale = math.sqrt(1.0 / len(self.blocks))
        return self.head2(F.relu(self.head1(F.relu(skips * scale))))

    def forward(self, inputs: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Teacher-forced pass: ``inputs`` (B, T) are x[t-1]; ``cond`` (B, n_mels, T) upsampled."""
        x = self.first(inputs.unsqueeze(1))
        skips = 0.0
        for block in self.blocks:
            x, s = block(x, cond)
            skips = skips + s
        return self._head(skips)

    def loss(self, wav: torch.Tensor, mel: torch.Tensor) -> dict:
        cond = self.upsample(mel)[..., :wav.shape[-1]]
        inputs = F.pad(self.dequantize_input(wav)[:, :-1], (1, 0))
        out = self.forward(inputs, cond)
        if self.output == "categorical":
            nll = F.cross_entropy(out, mulaw_encode(wav, self.quantize_channels))
        else:
            nll = mol_nll(out, wav)
        return {"loss": nll}

    @torch.no_grad()
    def incremental(self, mel: torch.Tensor, teacher: torch.Tensor | None = None):
        """Generate (B, T * hop) samples one at a time; with ``teacher`` (B, T*hop) the inputs are
        its previous samples instead and the per-step outputs (B, out_dim, T*hop) are returned too."""
        cond = self.upsample(mel)
        batch, total = mel.shape[0], cond.shape[-1]
        bufs = [cond.new_zeros(batch, blk.conv.in_channels, blk.span) for blk in self.blocks]
        first_w = self.first.weight[:, 0, 0]
        prev = cond.new_zeros(batch)
        wav = cond.new_zeros(batch, total)
        outs = [] if teacher is not None else None
        if teacher is not None:
            teacher = self.dequantize_input(teacher)
        for start in range(0, total, COND_BLOCK):
            block_cond = [blk.cond(cond[..., start:start + COND_BLOCK]) for blk in self.blocks]
            for t in range(start, min(total, start + COND_BLOCK)):
                x = prev[:, None] * first_w[None, :] + self.first.bias
                skips = 0.0
                for blk, buf, bc in zip(self.blocks, bufs, block_cond):
                    buf[:, :, t % blk.span] = x
                    x, s = blk.step(buf, t, bc[:, :, t - start])
                    skips = skips + s
                out = self._head(skips.unsqueeze(-1)).squeeze(-1)
                if teacher is not None:
                    outs.append(out)
                    sample = teacher[:, t]
                elif self.output == "categorical":
                    probs = F.softmax(out / self.temperature, dim=1)
                    sample = mulaw_decode(torch.multinomial(probs, 1).squeeze(1), self.quantize_channels)
                else:
                    sample = mol_sample(out)
                wav[:, t] = sample
                prev = sample
        if teacher is not None:
            return wav, torch.stack(outs, dim=-1)
        return wav

    def infer(self, mel: torch.Tensor) -> torch.Tensor:
        return self.incremental(mel)


class WaveNet(NeuralVocoder):
    """Registry entry ``wavenet``: trained by likelihood, generated sample by sample."""

    name = "wavenet"
    objective = "likelihood"
    generator_cls = WaveNetGenerator
    default_train = {"lr_g": 1.0e-3, "betas": [0.9, 0.999], "grad_clip": 1.0}

    def prepare_inference(self) -> None:  # no weight norm to remove
        self.generator = self.generator.to(self.device).eval()
