"""Kaldi utterance ids that keep the corpus's own names and start with the speaker id.

The corpus names are kept as they are when every one already starts with its speaker id and no
speaker id is a prefix of another (then sorting the ids also sorts the speakers, as Kaldi needs);
otherwise every id is ``<speaker>-<name>`` ('-' sorts before letters, digits and '_', which keeps
that property). One rule per corpus, so all ids of a corpus look alike.
"""

from __future__ import annotations


def keep_corpus_names(pairs) -> bool:
    """True when the corpus names of ``pairs`` = ``[(speaker, name)]`` can serve as Kaldi ids."""
    pairs = list(pairs)
    names = sorted({speaker for speaker, _ in pairs})
    prefix_free = not any(b.startswith(a) for a, b in zip(names, names[1:]))
    return prefix_free and all(name.startswith(speaker) for speaker, name in pairs)


def kaldi_id(speaker: str, orig_id: str, keep: bool) -> str:
    return orig_id if keep else f"{speaker}-{orig_id}"
