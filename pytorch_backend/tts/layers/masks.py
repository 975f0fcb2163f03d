"""Padding masks: True marks a real (non-padded) position."""

from __future__ import annotations

import torch


def length_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """(B,) lengths -> (B, max_len) bool mask, True where ``index < length``."""
    max_len = int(lengths.max()) if max_len is None else int(max_len)
    steps = torch.arange(max_len, device=lengths.device)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)
