"""Text normalization of Japanese, Korean and Mandarin before char / bpe / phn tokenization.

Common to the three: Unicode NFKC (full-width ASCII letters, digits and punctuation become
half-width, half-width katakana becomes full-width), the CJK punctuation mapped onto the prosodic
marks of the English frontend (``。`` -> ``.``, ``、`` and ``，`` -> ``,``, ``！`` -> ``!``, ``？`` -> ``?``,
``；`` -> ``;``, ``：`` -> ``:``, ``…`` -> ``.``, dashes -> ``,``), quotes and brackets removed, one mark
per break (the strongest) followed by one space, Latin letters lower-cased, whitespace collapsed.
Numbers are left as digits (no reading rules for these languages here).

* Japanese (``ja``): no spaces except after a mark or between two Latin/digit words; the
  middle dot ``・`` and wave dash ``〜`` are dropped; the prolonged sound mark ``ー`` is kept.
* Mandarin (``zh``, ``cmn``): the same spacing rule, which also removes word segmentation spaces
  between characters (THCHS-30's transcripts are segmented).
* Korean (``ko``): spaces between words are kept (they are Korean orthography); Hangul stays in
  syllables (NFC), or is decomposed into conjoining jamo (U+1100-U+11FF) when the language tag
  carries the ISO 15924 script subtag ``Jamo`` (``ko-Jamo``), for char or bpe tokens over jamo.
"""

from __future__ import annotations

import re
import unicodedata

_MARK_STRENGTH = {"?": 5, "!": 4, ".": 3, ";": 2, ":": 1, ",": 0}
_PUNCT = str.maketrans({
    "。": ".", "｡": ".", "、": ",", "､": ",", "，": ",", "！": "!", "？": "?", "；": ";", "：": ":",
    "…": ".", "‥": ".", "—": ",", "―": ",", "－": ",", "–": ",",
    "「": " ", "」": " ", "『": " ", "』": " ", "【": " ", "】": " ", "〈": " ", "〉": " ", "《": " ",
    "》": " ", "“": " ", "”": " ", "‘": " ", "’": " ", '"': " ", "(": " ", ")": " ", "（": " ",
    "）": " ", "[": " ", "]": " ", "〔": " ", "〕": " ", "・": " ", "･": " ", "〜": " ", "～": " ",
    "~": " ", "·": " ",
})
_MARKS = ",.?!;:"


def _is_cjk(ch: str) -> bool:
    """Han characters, kana (with the prolonged sound mark) and Hangul."""
    o = ord(ch)
    return (0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF
            or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FFFF or 0xAC00 <= o <= 0xD7AF
            or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F)


def _common(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT)
    text = text.translate(_PUNCT)  # NFKC can produce marks the table maps (e.g. full-width ones)
    text = "".join(ch if ch.isalnum() or ch in _MARKS or ch.isspace() or _is_cjk(ch)
                   or unicodedata.category(ch) in ("Mn", "Mc", "Lm") else " " for ch in text)
    return text.lower()


def _one_mark_per_break(text: str) -> str:
    text = re.sub(r"\s*([,.?!;:](?:\s*[,.?!;:])*)\s*",
                  lambda m: max(re.sub(r"\s", "", m.group(1)), key=_MARK_STRENGTH.get) + " ", text)
    text = re.sub(r"^[\s,.?!;:]+", "", text)
    return " ".join(text.split())


def _drop_spaces_next_to_cjk(text: str) -> str:
    """Remove a space that has a CJK character on either side (unless it follows a mark)."""
    out = []
    for i, ch in enumerate(text):
        if ch == " " and 0 < i < len(text) - 1:
            prev, nxt = text[i - 1], text[i + 1]
            if prev not in _MARKS and (_is_cjk(prev) or _is_cjk(nxt)):
                continue
        out.append(ch)
    return "".join(out)


def japanese_cleaners(text: str) -> str:
    return _drop_spaces_next_to_cjk(_one_mark_per_break(_common(text)))


def mandarin_cleaners(text: str) -> str:
    return _drop_spaces_next_to_cjk(_one_mark_per_break(_common(text)))


def korean_cleaners(text: str, jamo: bool = False) -> str:
    text = unicodedata.normalize("NFC", _one_mark_per_break(_common(text)))
    return unicodedata.normalize("NFD", text) if jamo else text
