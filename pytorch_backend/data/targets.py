"""Training targets that follow from the lengths of a batch alone (built by ``collate``)."""

from __future__ import annotations

import torch


def stop_targets(mel_lens: torch.Tensor, num_groups: int, r: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Stop labels and mask per decoder step of ``r`` frames: step ``ceil(len/r) - 1`` is the
    (only) stop step, steps after it are padding."""
    groups = (mel_lens + r - 1) // r
    steps = torch.arange(num_groups, device=mel_lens.device).unsqueeze(0)
    target = (steps == (groups - 1).unsqueeze(1)).float()
    mask = steps < groups.unsqueeze(1)
    return target, mask
