"""Cleaned text -> eSpeak NG IPA phoneme tokens, with word boundaries and prosodic punctuation.

Token design:

* one token per phoneme: a base symbol with its length mark (``ː``, ``ˑ``), diacritics
  (combining marks such as syllabic ``n̩``) and modifier letters (``ʰ``, ``ʲ``, ``ʷ``) attached;
  symbols joined by a tie bar (``t͡s``) stay one token; the diphthongs and affricates of
  :data:`MULTI_SYMBOL_PHONEMES` (``aɪ``, ``oʊ``, ``tʃ``, ...) are one token. eSpeak's IPA output
  has no phoneme separators, so this table decides what is one phoneme;
* stress marks ``ˈ`` (primary) and ``ˌ`` (secondary) are tokens of their own, placed where eSpeak
  puts them (before the stressed vowel), which keeps the inventory small;
* ``<space>`` between words (eSpeak's words; it joins some clitics, "on the" -> ``ɔnðə``);
* the punctuation marks , . ? ! of the cleaned text are tokens at their place in the text:
  the text is phonemized clause by clause (eSpeak itself drops punctuation) and each mark is
  put back after its clause, before the ``<space>`` to the next word. ``;`` and ``:`` become ``,``.
"""

from __future__ import annotations

import re
import unicodedata

SPACE = "<space>"
STRESS_MARKS = frozenset("ˈˌ")
PHONEME_PUNCTUATION = {",": ",", ".": ".", "?": "?", "!": "!", ";": ",", ":": ","}
TIE_BARS = frozenset("\u0361\u035c")
MULTI_SYMBOL_PHONEMES = frozenset({
    "aɪ", "aʊ", "eɪ", "oʊ", "ɔɪ", "əʊ", "eə", "ɪə", "ʊə", "ɛɪ", "œy", "ɔø", "ai", "au", "ei", "oi",
    "tʃ", "dʒ",
})
_LANG_SWITCH = re.compile(r"\([a-z]{2,3}(?:-[a-z0-9]+)?\)")  # eSpeak's "(fr)" ... "(en)" markers
# A clause ends at a mark followed by whitespace or the end (so "3.5" is not split).
_CLAUSE_BREAK = re.compile(r"([,.?!;:]+)(?=\s|$)")

# Default eSpeak NG voice per language code; other codes are passed to eSpeak unchanged.
ESPEAK_VOICES = {"en": "en-us", "zh": "cmn", "cmn": "cmn", "ko": "ko"}
# Languages eSpeak NG has a voice for but cannot phonemize usable text of.
NO_PHONEMES = {"ja": "eSpeak NG reads kanji as 'Chinese letter' (only kana are phonemized); "
                     "use char or bpe tokens for Japanese"}


def espeak_voice(language: str) -> str:
    """The eSpeak NG voice used to phonemize ``language`` ("en" -> "en-us", "zh" -> "cmn";
    a script subtag such as "ko-Jamo" is ignored). Raises ValueError for :data:`NO_PHONEMES`."""
    base = language.lower().replace("_", "-").split("-")[0]
    if base in NO_PHONEMES:
        raise ValueError(f"no phoneme frontend for '{language}': {NO_PHONEMES[base]}")
    if language in ESPEAK_VOICES:
        return ESPEAK_VOICES[language]
    if base in ("zh", "cmn", "ko"):
        return ESPEAK_VOICES[base]
    return language


def _attaches(ch: str) -> bool:
    """True for length marks, combining diacritics and modifier letters (not stress marks)."""
    if ch in STRESS_MARKS:
        return False
    return ch in "ːˑ" or unicodedata.category(ch) in ("Mn", "Lm")


def split_ipa_word(word: str) -> list[str]:
    """Split one IPA word (no spaces) into phoneme and stress tokens (see the module docstring)."""
    tokens: list[str] = []
    i = 0
    while i < len(word):
        ch = word[i]
        if ch in STRESS_MARKS:
            tokens.append(ch)
            i += 1
            continue
        if _attaches(ch) and tokens and tokens[-1] not in STRESS_MARKS:
            # a modifier after a phoneme (or a tie bar joining the next symbol)
            tokens[-1] += ch
            if ch in TIE_BARS and i + 1 < len(word):
                tokens[-1] += word[i + 1]
                i += 1
            i += 1
            continue
        if word[i:i + 2] in MULTI_SYMBOL_PHONEMES:
            tokens.append(word[i:i + 2])
            i += 2
        else:
            tokens.append(ch)
            i += 1
    return tokens


def ipa_to_tokens(ipa: str) -> list[str]:
    """Tokens of an IPA string whose words are separated by spaces."""
    tokens: list[str] = []
    for word in _LANG_SWITCH.sub("", ipa).split():
        if tokens:
            tokens.append(SPACE)
        tokens.extend(split_ipa_word(word))
    return tokens


def text_to_phoneme_tokens(text: str, voice: str = "en-us", phonemize=None) -> list[str]:
    """Phoneme tokens of a cleaned ``text`` with ``<space>`` and punctuation tokens."""
    if phonemize is None:
        from pytorch_backend.espeak import phonemize
    tokens: list[str] = []
    for piece in _CLAUSE_BREAK.split(text):
        if not piece:
            continue
        if _CLAUSE_BREAK.fullmatch(piece):
            for mark in piece:
                if mark in PHONEME_PUNCTUATION:
                    tokens.append(PHONEME_PUNCTUATION[mark])
            continue
        phones = ipa_to_tokens(phonemize(piece.strip(), voice)) if piece.strip() else []
        if phones:
            if tokens and tokens[-1] != SPACE and piece[:1].isspace():
                tokens.append(SPACE)
            tokens.extend(phones)
    return tokens
