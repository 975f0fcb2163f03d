"""Text normalization before tokenization: ``clean_text(text, language)``.

English (``language`` "en" or "en-..."): Unicode NFKC, typographic quotes and dashes to ASCII,
numbers spelled out (currency, percentages, ordinals, times, years, decimals, integers),
common abbreviations expanded, lower case, and only letters, word-internal apostrophes and
the prosodic punctuation ``, . ? ! ; :`` kept (one mark per break, attached to the word before
it, one space after it). Hyphens become spaces, so compound numbers read "twenty one".

Japanese, Korean and Mandarin: see :mod:`pytorch_backend.text.cjk_cleaners`.
Other languages: NFKC and whitespace collapsing only.
"""

from __future__ import annotations

import re
import unicodedata

from pytorch_backend.text import numbers

PUNCTUATION = ",.?!;:"
# When several marks meet ("word,." or "?!"), the strongest one is kept.
_PUNCT_STRENGTH = {"?": 5, "!": 4, ".": 3, ";": 2, ":": 1, ",": 0}

# (abbreviation, expansion, period optional). Optional only where the bare word is unambiguous.
ABBREVIATIONS = [
    ("mrs", "misses", True), ("mr", "mister", True), ("ms", "miss", False), ("dr", "doctor", True),
    ("drs", "doctors", True), ("st", "saint", True), ("jr", "junior", True), ("sr", "senior", False),
    ("prof", "professor", False), ("gen", "general", False), ("capt", "captain", False),
    ("col", "colonel", False), ("lt", "lieutenant", False), ("sgt", "sergeant", True),
    ("maj", "major", False), ("rev", "reverend", False), ("hon", "honorable", False),
    ("esq", "esquire", True), ("co", "company", False), ("ltd", "limited", True),
    ("inc", "incorporated", True), ("mt", "mount", False), ("ft", "fort", False),
    ("vs", "versus", True), ("etc", "et cetera", True), ("approx", "approximately", False),
    ("dept", "department", True),
]
# Dotted abbreviations, matched with or without the final period.
DOTTED = [("e.g", "for example"), ("i.e", "that is"), ("a.m", "a m"), ("p.m", "p m")]

_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
               "€": ("euro", "euros", "cent", "cents")}
_SCALE_WORDS = "thousand|million|billion|trillion"

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
                         "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"'})

_RE_CURRENCY = re.compile(r"([$£€])\s?(\d[\d,]*)(?:\.(\d+))?(?:\s?(" + _SCALE_WORDS + r")\b)?",
                          re.IGNORECASE)
_RE_PERCENT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?%")
_RE_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_RE_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_RE_RANGE = re.compile(r"(\d)\s?–\s?(?=\d)")  # en dash between numbers reads "to"
_RE_MINUS = re.compile(r"(?<![\w.])-(?=\d)")
_RE_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_RE_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+")
_RE_NUMBER_ABBREV = re.compile(r"\bno\.\s*(?=\d)", re.IGNORECASE)


def _number_words(token: str) -> str:
    """Spell out ``1,234`` / ``3.14`` / ``.5`` / ``1999`` / ``007``."""
    if "," in token:  # digit grouping marks a quantity, never a year
        token = token.replace(",", "")
        whole, _, frac = token.partition(".")
        return numbers.decimal(whole, frac) if frac else numbers.cardinal(int(whole))
    if "." in token:
        whole, _, frac = token.partition(".")
        return numbers.decimal(whole, frac)
    if len(token) > 1 and token.startswith("0"):
        return numbers.digits_to_words(token)
    value = int(token)
    if len(token) == 4 and 1000 <= value <= 2999:
        return numbers.year(value)
    return numbers.cardinal(value)


def _currency(match: re.Match) -> str:
    one, many, sub_one, sub_many = _CURRENCIES[match.group(1)]
    whole_digits = match.group(2).replace(",", "").rstrip(",") or "0"
    frac = match.group(3)
    scale = match.group(4)
    if scale:  # "$3.5 million" -> "three point five million dollars"
        amount = numbers.decimal(whole_digits, frac) if frac else numbers.cardinal(int(whole_digits))
        return f" {amount} {scale.lower()} {many} "
    whole = int(whole_digits)
    if frac is not None and len(frac) > 2:
        return f" {numbers.decimal(whole_digits, frac)} {many} "
    cents = int(frac.ljust(2, "0")) if frac else 0
    parts = []
    if whole or not cents:
        parts.append(f"{numbers.cardinal(whole)} {one if whole == 1 else many}")
    if cents:
        parts.append(f"{numbers.cardinal(cents)} {sub_one if cents == 1 else sub_many}")
    return " " + " ".join(parts) + " "


def _time(match: re.Match) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 24 or minute > 59:
        return f"{numbers.cardinal(hour)} {numbers.cardinal(minute)}"
    if minute == 0:
        return f"{numbers.cardinal(hour)} o'clock"
    if minute < 10:
        return f"{numbers.cardinal(hour)} oh {numbers.ONES[minute]}"
    return f"{numbers.cardinal(hour)} {numbers.cardinal(minute)}"


def expand_numbers(text: str) -> str:
    """Spell out every number in ``text`` (English)."""
    text = _RE_CURRENCY.sub(_currency, text)
    text = _RE_PERCENT.sub(lambda m: f"{_number_words(m.group(1))} percent", text)
    text = _RE_ORDINAL.sub(lambda m: " " + numbers.ordinal(int(m.group(1))) + " ", text)
    text = _RE_TIME.sub(_time, text)
    text = _RE_RANGE.sub(r"\1 to ", text)
    text = _RE_MINUS.sub("minus ", text)
    text = _RE_LETTER_DIGIT.sub(" ", text)
    return _RE_NUMBER.sub(lambda m: f" {_number_words(m.group(0))} ", text)


def _abbreviation_patterns():
    patterns = []
    for abbr, full, optional in ABBREVIATIONS:
        tail = r"(?:\.|\b(?!'))" if optional else r"\."
        patterns.append((re.compile(rf"\b{abbr}{tail}", re.IGNORECASE), full))
    for abbr, full in DOTTED:
        patterns.append((re.compile(rf"(?<!\w){re.escape(abbr)}\.?(?!\w)", re.IGNORECASE), full))
    return patterns


_ABBREVIATION_PATTERNS = _abbreviation_patterns()


def expand_abbreviations(text: str) -> str:
    """Expand common English abbreviations; a period that also ended the text is kept."""
    text = _RE_NUMBER_ABBREV.sub("number ", text)
    for pattern, full in _ABBREVIATION_PATTERNS:
        def replace(m, full=full):
            ends_text = m.group(0).endswith(".") and not m.string[m.end():].strip()
            return full + (" ." if ends_text else "")
        text = pattern.sub(replace, text)
    return text


def normalize_punctuation(text: str) -> str:
    """ASCII quotes, dashes and brackets to pauses, symbols dropped, one mark per break."""
    text = text.translate(_QUOTES)
    text = re.sub(r"\s*[—―]\s*", ", ", text)  # em dash: a pause
    text = re.sub(r"\s[-–]+\s|^[-–]+\s|\s[-–]+$", ", ", text)  # free-standing dash: a pause
    text = re.sub(r"[()\[\]{}]", ", ", text)  # parenthesis: a pause
    text = text.replace("&", " and ").replace("%", " percent ").replace("@", " at ")
    kept = []
    for i, ch in enumerate(text):
        if ch.isalnum() or ch in PUNCTUATION or ch.isspace():
            kept.append(ch)
        elif ch == "'" and 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha():
            kept.append(ch)  # don't, o'clock
        else:
            kept.append(" ")  # hyphens, quotes, other symbols
    text = "".join(kept)
    # One mark per break, attached to the previous word, a single space after it.
    text = re.sub(r"\s*([,.?!;:](?:\s*[,.?!;:])*)\s*",
                  lambda m: max(re.sub(r"\s", "", m.group(1)), key=_PUNCT_STRENGTH.get) + " ", text)
    text = re.sub(r"^[\s,.?!;:]+", "", text)  # no mark before the first word
    return collapse_whitespace(text)


def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


def english_cleaners(text: str) -> str:
    """The full English pipeline (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_QUOTES)
    text = expand_abbreviations(text)
    text = expand_numbers(text)
    text = text.lower()
    return normalize_punctuation(text)


def basic_cleaners(text: str) -> str:
    """Language-independent: Unicode NFKC and collapsed whitespace."""
    return collapse_whitespace(unicodedata.normalize("NFKC", text))


def clean_text(text: str, language: str = "en") -> str:
    """Normalize ``text`` for tokenization in ``language`` (an ISO code such as "en", "en-us";
    "ja", "ko" / "ko-Jamo", "zh" / "cmn" use :mod:`pytorch_backend.text.cjk_cleaners`)."""
    from pytorch_backend.text import cjk_cleaners

    subtags = language.lower().replace("_", "-").split("-")
    base = subtags[0]
    if base == "en":
        return english_cleaners(text)
    if base == "ja":
        return cjk_cleaners.japanese_cleaners(text)
    if base in ("zh", "cmn"):
        return cjk_cleaners.mandarin_cleaners(text)
    if base == "ko":
        return cjk_cleaners.korean_cleaners(text, jamo="jamo" in subtags[1:])
    return basic_cleaners(text)
