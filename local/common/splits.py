"""Held-out dev/eval utterances for corpora without an official split.

Per speaker, utterances are grouped by emotion label, each group is shuffled with the seed, and
the groups are interleaved (label by label, in C order), so the first ``dev + eval`` utterances
cover every label of the speaker as evenly as possible; the first ``eval`` go to eval, the next
``dev`` to dev, the rest to train (a speaker always keeps at least one train utterance). The
choice depends only on the ids, labels and the seed.
"""

from __future__ import annotations

import random
from collections import defaultdict


def holdout(items, dev: int, eval_: int, seed: int = 1) -> dict[str, str]:
    """``{key: split}`` for ``items`` = ``[(key, speaker, label)]``."""
    by_speaker: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for key, speaker, label in items:
        by_speaker[speaker][label].append(key)
    out: dict[str, str] = {}
    for speaker in sorted(by_speaker):
        rng = random.Random(f"{seed}:{speaker}")
        groups = []
        for label in sorted(by_speaker[speaker]):
            keys = sorted(by_speaker[speaker][label], key=lambda k: k.encode("utf-8"))
            rng.shuffle(keys)
            groups.append(keys)
        order = []
        while any(groups):
            for group in groups:
                if group:
                    order.append(group.pop(0))
        n_eval = min(eval_, max(0, len(order) - 1))  # every speaker keeps a train utterance
        n_dev = min(dev, max(0, len(order) - 1 - n_eval))
        for i, key in enumerate(order):
            out[key] = "eval" if i < n_eval else "dev" if i < n_eval + n_dev else "train"
    return out
