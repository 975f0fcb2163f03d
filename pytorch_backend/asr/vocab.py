"""What the recognizer writes: the corpus text, cleaned, as characters.

``asr_text`` is the one normalization both the training targets and the references of every
character/word error rate go through: the toolkit's ``clean_text`` for the language (numbers
spelled out, lower case, ...), then punctuation removed (one may hear a question, not a comma)
and whitespace collapsed. The apostrophe inside a word stays: it is spelling ("don't").

A :class:`CharVocab` is the character set of the cleaned train text; id 0 is the CTC blank.
A reference character outside it can never be recognized and counts as an error.
"""

from __future__ import annotations

import unicodedata

from pytorch_backend.text.cleaners import clean_text

BLANK = "<blank>"


def _keep(ch: str) -> bool:
    return ch == "'" or not unicodedata.category(ch).startswith("P")


def asr_text(text: str, language: str = "en") -> str:
    """Cleaned text without punctuation, single spaces, no leading/trailing space."""
    cleaned = clean_text(text, language)
    kept = "".join(ch if _keep(ch) else " " for ch in cleaned)
    words = [w.strip("'") for w in kept.split()]
    return " ".join(w for w in words if w)


class CharVocab:
    """``chars[i - 1]`` is id ``i``; id 0 is the blank."""

    def __init__(self, chars):
        chars = list(chars)
        if BLANK in chars or len(set(chars)) != len(chars) or any(len(c) != 1 for c in chars):
            raise ValueError("a vocabulary is a list of distinct single characters")
        self.chars = chars
        self.index = {c: i + 1 for i, c in enumerate(chars)}

    @classmethod
    def from_texts(cls, texts) -> "CharVocab":
        """The sorted character set of ``texts`` (already :func:`asr_text`-normalized)."""
        return cls(sorted({ch for t in texts for ch in t}))

    def __len__(self) -> int:
        """Number of output classes, the blank included."""
        return len(self.chars) + 1

    def encode(self, text: str) -> list[int]:
        """Ids of the characters of ``text``; an unknown character is a KeyError naming it."""
        try:
            return [self.index[ch] for ch in text]
        except KeyError as exc:
            raise KeyError(f"character {exc.args[0]!r} is not in the recognizer's vocabulary") from None

    def decode(self, ids) -> str:
        """Characters of ``ids`` (blanks and unknown ids dropped), whitespace collapsed."""
        text = "".join(self.chars[i - 1] for i in ids if 0 < int(i) <= len(self.chars))
        return " ".join(text.split())
