"""Levenshtein distance between sequences, and error rates built on it (CER, WER)."""

from __future__ import annotations

from collections.abc import Sequence


def edit_distance(ref: Sequence, hyp: Sequence) -> int:
    """Minimum number of substitutions, deletions and insertions turning ``ref`` into ``hyp``."""
    if len(ref) < len(hyp):
        ref, hyp = hyp, ref  # the distance is symmetric; keep the row short
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def error_rate(refs: Sequence[Sequence], hyps: Sequence[Sequence]) -> dict:
    """Corpus-level rate: total edits over total reference length (not a mean of per-item rates)."""
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    errors = sum(edit_distance(r, h) for r, h in zip(refs, hyps))
    length = sum(len(r) for r in refs)
    return {"errors": int(errors), "ref_length": int(length), "rate": errors / length if length else None}
