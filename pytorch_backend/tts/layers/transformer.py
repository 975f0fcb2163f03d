"""Feed-forward Transformer (FFT) blocks of FastSpeech (Ren et al. 2019): multi-head
self-attention and a 1-D convolutional feed-forward network, each with a residual connection
and post-layer-norm.

Padding never leaks into real positions: attention ignores padded keys and every convolution
sees zeros at padded positions (the input is re-masked before each sub-layer), which is what a
lone, unpadded sequence sees past its ends. An utterance therefore gets the same outputs alone
or in a padded batch (in eval mode).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def sinusoid_table(length: int, dim: int) -> torch.Tensor:
    """(length, dim) sinusoidal position encodings (Vaswani et al. 2017)."""
    pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(pos * rate)
    table[:, 1::2] = torch.cos(pos * rate[: dim // 2])
    return table


class TimeConv(nn.Module):
    """A 1-D conv over time on (B, T, C) with 'same' zero padding; width 1 runs as a Linear
    (the same function, without the slow width-1 convolution kernels of CPU torch)."""

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f"conv kernel widths must be odd, got {kernel}")
        self.kernel = kernel
        self.layer = nn.Linear(c_in, c_out) if kernel == 1 else nn.Conv1d(c_in, c_out, kernel, padding=kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel == 1:
            return self.layer(x)
        return self.layer(x.transpose(1, 2)).transpose(1, 2)


class ConvFeedForward(nn.Module):
    """conv(k1) -> ReLU -> dropout -> conv(k2), over time, 'same' zero padding."""

    def __init__(self, dim: int, hidden: int, kernels=(9, 1), dropout: float = 0.1):
        super().__init__()
        k1, k2 = (int(k) for k in kernels)
        self.conv1 = TimeConv(dim, hidden, k1)
        self.conv2 = TimeConv(hidden, dim, k2)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.needs_mask = k2 > 1

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, T, dim) already zero at padding."""
        y = self.dropout(torch.relu(self.conv1(x)))
        if self.needs_mask:
            y = y * mask.unsqueeze(-1).to(y.dtype)
        return self.conv2(y)


class FFTBlock(nn.Module):
    """Self-attention + conv feed-forward, each residual and followed by layer norm."""

    def __init__(self, dim: int, heads: int, ffn_hidden: int, ffn_kernels=(9, 1), dropout: float = 0.1):
        super().__init__()
        if dim % heads:
            raise ValueError(f"model dim {dim} is not divisible by the {heads} attention heads")
        # no dropout on the attention weights: it would force the slow "math" attention kernel
        self.attn = nn.MultiheadAttention(dim, heads, dropout=0.0, batch_first=True)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = ConvFeedForward(dim, ffn_hidden, ffn_kernels, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def self_attention(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Multi-head self-attention over the real positions, with ``self.attn``'s weights (kept
        as an ``nn.MultiheadAttention`` so checkpoints are unchanged). Written on
        ``scaled_dot_product_attention`` because ``nn.MultiheadAttention``'s inference fast path
        with a key padding mask runs a separate masked softmax: a third of the time of a padded
        batch on CPU, and about 2x slower per padded utterance than this fused kernel
        (benchmarks/bench_synthesize.py)."""
        b, t, dim = x.shape
        heads = self.attn.num_heads
        qkv = F.linear(x, self.attn.in_proj_weight, self.attn.in_proj_bias)
        q, k, v = qkv.view(b, t, 3, heads, dim // heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
        return self.attn.out_proj(a.transpose(1, 2).reshape(b, t, dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, T, dim), mask (B, T) True at real positions -> (B, T, dim), zero at padding."""
        m = mask.unsqueeze(-1).to(x.dtype)
        x = x * m
        x = self.norm1(x + self.dropout(self.self_attention(x, mask))) * m
        x = self.norm2(x + self.dropout(self.ffn(x, mask))) * m
        return x


class FFTStack(nn.Module):
    """Sinusoidal positions (scaled by a learned weight) + ``layers`` FFT blocks."""

    def __init__(self, dim: int, layers: int, heads: int, ffn_hidden: int, ffn_kernels=(9, 1),
                 dropout: float = 0.1):
        super().__init__()
        self.dim = dim
        self.pos_scale = nn.Parameter(torch.ones(1))
        self.register_buffer("positions", sinusoid_table(1024, dim), persistent=False)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.blocks = nn.ModuleList(FFTBlock(dim, heads, ffn_hidden, ffn_kernels, dropout)
                                    for _ in range(layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        t = x.size(1)
        if t > self.positions.size(0):
            self.positions = sinusoid_table(2 * t, self.dim).to(x.device)
        x = self.dropout(x + self.pos_scale * self.positions[:t].to(x.dtype).unsqueeze(0))
        for block in self.blocks:
            x = block(x, mask)
        return x * mask.unsqueeze(-1).to(x.dtype)
