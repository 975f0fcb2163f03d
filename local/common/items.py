"""The record a corpus reader returns for each utterance it found."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Utterance:
    """One utterance as the corpus names it.

    ``orig_id`` is the corpus's own utterance name (kept inside the Kaldi id), ``label`` the corpus's
    own emotion label (mapped through the conf's ``label_map``), ``split`` the corpus's official
    split (train/dev/eval) or None when the recipe assigns one.
    """

    orig_id: str
    speaker: str
    text: str
    wav: Path
    label: str = "neutral"
    split: str | None = None
    source: str = ""  # file (and line) the record came from, for messages
