"""Location-sensitive attention (Chorowski et al. 2015, as used by Tacotron 2).

The energy of encoder position n at decoder step t is
``v^T tanh(W q_t + V m_n + U f_{t,n})`` where ``f`` are convolution features of the
previous and the cumulative attention weights; the location term lets the alignment move
forward steadily, which is what makes a monotonic text-to-speech alignment easy to learn.

Speed: the location convolution (``loc_channels`` filters of width ``loc_kernel``) and its
projection ``U`` are both linear, so they are merged into one (2 * kernel -> attn_dim) matrix
once per batch and applied to unfolded windows of the weights with a single matmul per
decoder step, instead of a small convolution per step (slow on CPU).

Inference may confine each step to a window of tokens around the previous step's peak
(``window=(back, forward)``), the attention constraint of ESPnet's Tacotron 2 decoding and
of Deep Voice 3 (Ping et al. 2018, sec. 3.4): a model trained for a short budget then cannot
jump ahead (skipped words) or fall back (repeated words) when fed its own predictions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LocationSensitiveAttention(nn.Module):
    def __init__(self, query_dim: int, memory_dim: int, attn_dim: int = 128,
                 loc_channels: int = 32, loc_kernel: int = 31):
        super().__init__()
        if loc_kernel % 2 != 1:
            raise ValueError(f"attention location kernel must be odd, got {loc_kernel}")
        self.kernel = loc_kernel
        self.query = nn.Linear(query_dim, attn_dim, bias=False)
        self.memory = nn.Linear(memory_dim, attn_dim, bias=False)
        # location filters over (previous, cumulative) weights, stored as conv weights
        self.loc_conv = nn.Conv1d(2, loc_channels, loc_kernel, padding=loc_kernel // 2, bias=False)
        self.loc_proj = nn.Linear(loc_channels, attn_dim, bias=False)
        self.score = nn.Linear(attn_dim, 1, bias=True)

    def process_memory(self, memory: torch.Tensor) -> dict:
        """Per-utterance precomputation: projected memory (B, N, A) and the merged location
        matrix (2 * kernel, A)."""
        loc = self.loc_conv.weight.reshape(self.loc_conv.out_channels, -1)  # (C, 2K)
        return {"memory": self.memory(memory), "loc": (self.loc_proj.weight @ loc).t()}

    def location_features(self, prev_weights, cum_weights, loc_matrix) -> torch.Tensor:
        """(B, N) previous and cumulative weights -> (B, N, A), equal to conv -> projection."""
        b, n = prev_weights.shape
        half = self.kernel // 2
        x = F.pad(torch.stack([prev_weights, cum_weights], 1), (half, half))  # (B, 2, N + K - 1)
        windows = x.unfold(2, self.kernel, 1).permute(0, 2, 1, 3).reshape(b, n, -1)  # (B, N, 2K)
        return windows @ loc_matrix

    def forward(self, query, memory, processed, prev_weights, cum_weights, mask):
        """One decoder step.

        query (B, Q); memory (B, N, D); processed from ``process_memory``; prev_weights and
        cum_weights (B, N); mask (B, N) True on real tokens.
        Returns (context (B, D), weights (B, N)).
        """
        return self.attend(self.query(query), memory, processed, prev_weights, cum_weights, mask)

    def attend(self, query_proj, memory, processed, prev_weights, cum_weights, mask, window=None):
        """``forward`` with the query already projected (B, A): lets a caller project the
        queries of all steps at once when they do not depend on the attention itself.
        ``window`` (back, forward): attend only to tokens within that many positions behind
        and ahead of the previous step's peak (inference; None: everywhere)."""
        if window is not None:
            mask = window_mask(prev_weights, mask, *window)
        loc = self.location_features(prev_weights, cum_weights, processed["loc"])
        energy = self.score(torch.tanh(query_proj.unsqueeze(1) + processed["memory"] + loc))
        energy = energy.squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = F.softmax(energy, dim=-1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights


def window_mask(prev_weights: torch.Tensor, mask: torch.Tensor, back: int, forward: int) -> torch.Tensor:
    """``mask`` (B, N) limited to positions [peak - back, peak + forward] around the peak of
    ``prev_weights`` (B, N); before the first step (all zeros) the peak is token 0. The peak is
    a real token, so every row keeps at least one position."""
    if back < 0 or forward < 0:
        raise ValueError(f"attention window must be >= 0 on both sides, got ({back}, {forward})")
    peak = prev_weights.argmax(-1, keepdim=True)
    pos = torch.arange(prev_weights.size(1), device=prev_weights.device).unsqueeze(0)
    return mask & (pos >= peak - back) & (pos <= peak + forward)
