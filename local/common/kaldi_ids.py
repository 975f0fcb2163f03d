"""Kaldi utterance ids that keep the corpus's own names and start with the speaker id.

The corpus name is kept as is when it already starts with its speaker id and no speaker id is a
prefix of another (then sorting the ids also sorts the speakers, as Kaldi needs); otherwise the id
is ``<speaker>-<name>`` ('-' sorts before letters, digits and '_', which keeps that property).
"""

from __future__ import annotations


def speakers_prefix_free(speakers) -> bool:
    names = sorted(set(speakers))
    return not any(b.startswith(a) for a, b in zip(names, names[1:]))


def kaldi_id(speaker: str, orig_id: str, prefix_free: bool) -> str:
    if prefix_free and orig_id.startswith(speaker):
        return orig_id
    return f"{speaker}-{orig_id}"
