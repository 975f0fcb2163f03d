"""Padding masks: True marks a real (non-padded) position."""

from __future__ import annotations

import torch


def length_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """(B,) lengths -> (B, max_len) bool mask, True where ``index < length``."""
    max_len = int(lengths.max()) if max_len is None else int(max_len)
    steps = torch.arange(max_len, device=lengths.device)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)


def pad_tokens(tokens, device=None) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """1-D token id sequences -> (padded ids (B, N) with 0, lengths (B,), lengths as a host list),
    the tensors on ``device``; the host list spares batched inference a device round trip."""
    n = [len(t) for t in tokens]
    padded = torch.zeros(len(n), max(n), dtype=torch.long, device=device)
    for i, t in enumerate(tokens):
        padded[i, :n[i]] = torch.as_tensor(t, device=device).view(-1)
    return padded, torch.tensor(n, device=device), n
