"""Counting what a preparation left out, per reason, and saying so in the log."""

from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger("emotts.prepare")


class Drops:
    """``drop(reason, what)`` counts one left-out item; :meth:`report` logs the counts per reason."""

    def __init__(self, max_examples: int = 3):
        self.counts: Counter = Counter()
        self.examples: dict[str, list[str]] = {}
        self.max_examples = max_examples

    def drop(self, reason: str, what: str) -> None:
        self.counts[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < self.max_examples:
            examples.append(what)
        log.debug("dropped (%s): %s", reason, what)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))

    def report(self) -> None:
        if not self.counts:
            log.info("dropped nothing")
            return
        log.info("dropped %d item(s):", self.total)
        for reason, count in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])):
            log.info("  %6d  %s  (e.g. %s)", count, reason, ", ".join(self.examples[reason]))
