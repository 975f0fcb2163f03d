"""Training losses of the Tacotron 2 family, all masked so padding never counts.

- mel: L1 (+ L2) between predicted and target normalized log-mel, before and after the postnet;
- stop: binary cross-entropy on the stop token (one per decoder step; targets from
  pytorch_backend.data.targets.stop_targets), with a positive weight
  because each utterance has a single "stop" step among many "go on" steps;
- guided attention (Tachibana et al. 2018): penalizes attention mass far from the diagonal
  ``n/N = t/T``, which is what lets a small model learn its alignment in a few hundred steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pytorch_backend.tts.layers.masks import length_mask


def masked_mel_loss(pred, target, lengths, kind: str = "l1+l2") -> torch.Tensor:
    """Mean over real frames and bins; ``kind`` is ``l1`` or ``l1+l2``."""
    mask = length_mask(lengths, pred.size(1)).unsqueeze(-1).to(pred.dtype)
    denom = mask.sum() * pred.size(-1)
    diff = (pred - target) * mask
    loss = diff.abs().sum() / denom
    if kind == "l1+l2":
        loss = loss + diff.pow(2).sum() / denom
    elif kind != "l1":
        raise ValueError(f"unknown mel loss '{kind}' (known: l1, l1+l2)")
    return loss


def stop_loss(logits, target, mask, pos_weight: float) -> torch.Tensor:
    weight = torch.tensor(pos_weight, device=logits.device, dtype=logits.dtype)
    loss = F.binary_cross_entropy_with_logits(logits, target, pos_weight=weight, reduction="none")
    mask = mask.to(loss.dtype)
    return (loss * mask).sum() / mask.sum()


def guided_attention_weights(out_lens, in_lens, max_out: int, max_in: int, sigma: float):
    """W[b, t, n] = 1 - exp(-(n/N_b - t/T_b)^2 / (2 sigma^2)); zero outside the real region."""
    t = torch.arange(max_out, device=out_lens.device, dtype=torch.float32)
    n = torch.arange(max_in, device=out_lens.device, dtype=torch.float32)
    tt = t.view(1, -1, 1) / out_lens.view(-1, 1, 1).float()
    nn_ = n.view(1, 1, -1) / in_lens.view(-1, 1, 1).float()
    w = 1.0 - torch.exp(-((nn_ - tt) ** 2) / (2.0 * sigma ** 2))
    mask = length_mask(out_lens, max_out).unsqueeze(2) & length_mask(in_lens, max_in).unsqueeze(1)
    return w * mask, mask


def guided_attention_loss(alignments, out_lens, in_lens, sigma: float = 0.2) -> torch.Tensor:
    """Expected penalty ``sum_n A[t, n] W[t, n]`` averaged over the real decoder steps.

    alignments (B, T, N) attention weights; out_lens (B,) decoder steps; in_lens (B,) tokens.
    In [0, 1] whatever the number of tokens: ~0 for a diagonal alignment, ~0.5 for a uniform
    one, ~1 for one far from the diagonal. (Averaging over all cells instead, as in the
    original paper, shrinks the term and its gradient by the number of tokens.)
    """
    w, mask = guided_attention_weights(out_lens, in_lens, alignments.size(1), alignments.size(2), sigma)
    steps = length_mask(out_lens, alignments.size(1)).sum()
    return (alignments.float() * w).sum() / steps
