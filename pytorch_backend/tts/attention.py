"""Location-sensitive attention (Chorowski et al. 2015, as used by Tacotron 2).

The energy of encoder position n at decoder step t is
``v^T tanh(W q_t + V m_n + U f_{t,n})`` where ``f`` are convolution features of the
previous and the cumulative attention weights; the location term lets the alignment move
forward steadily, which is what makes a monotonic text-to-speech alignment easy to learn.
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
        self.query = nn.Linear(query_dim, attn_dim, bias=False)
        self.memory = nn.Linear(memory_dim, attn_dim, bias=False)
        self.loc_conv = nn.Conv1d(2, loc_channels, loc_kernel, padding=loc_kernel // 2, bias=False)
        self.loc_proj = nn.Linear(loc_channels, attn_dim, bias=False)
        self.score = nn.Linear(attn_dim, 1, bias=True)

    def process_memory(self, memory: torch.Tensor) -> torch.Tensor:
        """Project the encoder states once per utterance: (B, N, D) -> (B, N, A)."""
        return self.memory(memory)

    def forward(self, query, memory, processed_memory, prev_weights, cum_weights, mask):
        """One decoder step.

        query (B, Q); memory (B, N, D); processed_memory (B, N, A); prev_weights and
        cum_weights (B, N); mask (B, N) True on real tokens.
        Returns (context (B, D), weights (B, N)).
        """
        loc = self.loc_conv(torch.stack([prev_weights, cum_weights], dim=1))  # (B, C, N)
        loc = self.loc_proj(loc.transpose(1, 2))  # (B, N, A)
        energy = self.score(torch.tanh(self.query(query).unsqueeze(1) + processed_memory + loc))
        energy = energy.squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = F.softmax(energy, dim=-1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights
