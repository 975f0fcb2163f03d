"""Synthesis input text: inline emotion tags, sentence splitting with pauses, text files.

Inline tags give a stretch of text its own emotion (untagged text keeps the request's)::

    <happy 0.8>We won!</happy> <sad>But I have to leave.</sad>
    <mix happy=0.7,sad=0.3>Bittersweet news.</mix>

``<label>`` / ``<label x>`` (x: the intensity, 0..1; without it the request's intensity) or
``<mix a=w,b=w>`` (+ optional intensity after it) opens a tag, ``</label>`` / ``</mix>`` closes
it; tags do not nest. A malformed, unknown, unclosed or mismatched tag is a RequestError
naming the 1-based column of the offending ``<``.

Each segment is split into sentences (after ``. ! ? …`` and the CJK ``。！？`` marks; not after
common abbreviations such as "Mr." or initials), and a sentence longer than a token budget
is split further at clause marks, then between words. Sentences are synthesized separately
and joined with a pause chosen by how each one ends (:data:`PAUSES`).

Text files (``--text-file``): one utterance per line, blank lines and lines starting with
``#`` skipped, optional per-line controls in a leading ``[key=value ...]`` block::

    Good morning.
    [emotion=happy intensity=0.8] We won the cup!
    [id=mixed mix=happy=0.7,sad=0.3 speaker=spkB seed=3] Bittersweet news.

Keys: :data:`LINE_KEYS` (``id`` names the output file with ``--out-dir``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pytorch_backend.synth.errors import RequestError
from pytorch_backend.text.cleaners import ABBREVIATIONS, DOTTED

# seconds of silence after a sentence ending in ... (others: "clause", "segment", "line")
PAUSES = {".": 0.35, "!": 0.35, "?": 0.40, "…": 0.50, "。": 0.35, "！": 0.35, "？": 0.40,
          "clause": 0.18, "word": 0.08, "segment": 0.15, "line": 0.60}

LINE_KEYS = ("id", "speaker", "emotion", "intensity", "mix", "reference_wav", "emotion_from_wav", "gst_weights",
             "style", "speed", "pitch_scale", "energy_scale", "seed")

_TAG = re.compile(r"<(/?)([^<>]*)>")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_SENTENCE_END = re.compile(r"([.!?…]+)([\"'”’»)\]]*)(?=\s|$)|([。！？]+)")
_NO_BREAK = {a for a, _, _ in ABBREVIATIONS} | {a for a, _ in DOTTED} | {"no"}


@dataclass
class Segment:
    """A stretch of text with its own emotion (``emotion``/``mix`` None: the request's)."""

    text: str
    column: int  # 1-based column of the segment's first character in the input
    emotion: str | None = None
    mix: dict | None = None
    intensity: float | None = None
    tagged: bool = False


@dataclass
class Sentence:
    """What is synthesized in one piece: text, its segment's emotion, the pause after it."""

    text: str
    segment: Segment
    pause: float = 0.0
    column: int = 1


def _number(text: str, what: str, column: int, lo: float = 0.0, hi: float = 1.0) -> float:
    try:
        value = float(text)
    except ValueError:
        raise RequestError("text", f"{what} '{text}' is not a number", column=column) from None
    if not lo <= value <= hi:
        raise RequestError("text", f"{what} {value:g} is outside [{lo:g}, {hi:g}]", column=column)
    return value


def _parse_mix(text: str, emotions: list[str], column: int) -> dict[str, float]:
    mix = {}
    for part in text.split(","):
        label, sep, weight = part.partition("=")
        label = label.strip()
        if not sep or not label:
            raise RequestError("text", f"mix tag expects label=weight,label=weight, got '{text}'", column=column)
        if label not in emotions:
            raise RequestError("text", f"unknown emotion '{label}' in mix tag (known: {', '.join(emotions)})",
                               column=column)
        mix[label] = _number(weight.strip(), f"weight of '{label}'", column, 0.0, 1.0)
    if abs(sum(mix.values()) - 1.0) > 1e-6:
        raise RequestError("text", f"mix tag weights must sum to 1, got {sum(mix.values()):g}", column=column)
    return mix


def parse_tags(text: str, emotions: list[str]) -> list[Segment]:
    """Split ``text`` into untagged and tagged segments (see the module docstring).

    Whitespace-only stretches between tags are dropped; columns are 1-based.
    """
    segments: list[Segment] = []
    pos, open_tag = 0, None  # open_tag: (name, column, Segment being filled)

    def plain(start: int, end: int, seg: Segment | None):
        chunk = text[start:end]
        stray = re.search(r"[<>]", chunk)
        if stray:
            raise RequestError("text", f"'{stray.group(0)}' outside a well-formed tag (tags look like "
                               "<happy 0.8>...</happy>)", column=start + stray.start() + 1)
        if not chunk.strip():
            return
        lead = len(chunk) - len(chunk.lstrip())
        if seg is None:
            segments.append(Segment(chunk.strip(), start + lead + 1))
        else:
            seg.text = (seg.text + " " + chunk.strip()).strip()
            seg.column = seg.column or start + lead + 1

    for m in _TAG.finditer(text):
        col = m.start() + 1
        closing, body = m.group(1) == "/", m.group(2).strip()
        plain(pos, m.start(), open_tag[2] if open_tag else None)
        pos = m.end()
        if closing:
            if open_tag is None:
                raise RequestError("text", f"closing tag </{body}> without an opening tag", column=col)
            if body != open_tag[0]:
                raise RequestError("text", f"closing tag </{body}> does not match <{open_tag[0]}> "
                                   f"(column {open_tag[1]})", column=col)
            if not open_tag[2].text:
                raise RequestError("text", f"tag <{open_tag[0]}> holds no text", column=open_tag[1])
            segments.append(open_tag[2])
            open_tag = None
            continue
        if open_tag is not None:
            raise RequestError("text", f"tags do not nest: <{body}> inside <{open_tag[0]}> "
                               f"(column {open_tag[1]})", column=col)
        parts = body.split()
        if not parts or not _LABEL.match(parts[0]):
            raise RequestError("text", f"malformed tag <{m.group(2)}> (tags look like <happy 0.8>...</happy>)",
                               column=col)
        name, args = parts[0], parts[1:]
        seg = Segment("", 0, tagged=True)
        if name == "mix":
            if not args:
                raise RequestError("text", "mix tag needs weights: <mix happy=0.7,sad=0.3>", column=col)
            seg.mix = _parse_mix(args[0], emotions, col)
            args = args[1:]
        elif name in emotions:
            seg.emotion = name
        else:
            raise RequestError("text", f"unknown emotion tag <{name}> (known: {', '.join(emotions)}, mix)",
                               column=col)
        if len(args) > 1:
            raise RequestError("text", f"tag <{body}> has too many arguments (one intensity at most)", column=col)
        if args:
            seg.intensity = _number(args[0], "intensity", col)
        open_tag = (name, col, seg)
    plain(pos, len(text), open_tag[2] if open_tag else None)
    if open_tag is not None:
        raise RequestError("text", f"tag <{open_tag[0]}> is never closed (</{open_tag[0]}>)", column=open_tag[1])
    return segments


def _ends_with_abbreviation(before: str) -> bool:
    words = before.split()
    if not words:
        return False
    last = words[-1].rstrip(".").lower().lstrip("\"'(“‘")
    if last in _NO_BREAK:
        return True
    return len(last) == 1 and last.isalpha() and words[-1][0].isupper()  # an initial: "J. Smith"


def split_sentences(text: str) -> list[tuple[str, str, int]]:
    """``[(sentence, end mark, offset in text)]``; the mark is '' when the text ends without one."""
    out, start = [], 0

    def add(end: int, mark: str):
        chunk = text[start:end]
        if chunk.strip():
            out.append((chunk.strip(), mark, start + len(chunk) - len(chunk.lstrip())))

    for m in _SENTENCE_END.finditer(text):
        mark = m.group(1) or m.group(3)
        if m.group(1) and m.group(1) == "." and _ends_with_abbreviation(text[start:m.start() + 1]):
            continue
        add(m.end(), "…" if mark.startswith("...") else mark[-1])
        start = m.end()
    add(len(text), "")
    return out


def split_long(sentence: str, count, max_tokens: int) -> list[tuple[str, str]]:
    """Pieces of ``sentence`` of at most ``max_tokens`` tokens (``count(text)``): split at the
    clause mark nearest the middle, else between the words nearest the middle.
    Returns ``[(piece, kind)]`` with kind ``clause`` or ``word`` (the pause after it); the last
    piece has kind ''."""
    if max_tokens <= 0 or count(sentence) <= max_tokens:
        return [(sentence, "")]
    words = sentence.split()
    if len(words) < 2:
        return [(sentence, "")]
    mid = len(sentence) / 2
    clause = [m.end() for m in re.finditer(r"[,;:、，；：]\s", sentence)]
    if clause:
        cut = min(clause, key=lambda c: abs(c - mid))
        kind = "clause"
    else:
        spaces = [m.start() for m in re.finditer(r"\s", sentence)]
        cut = min(spaces, key=lambda c: abs(c - mid))
        kind = "word"
    head, tail = sentence[:cut].strip(), sentence[cut:].strip()
    if not head or not tail:
        return [(sentence, "")]
    first = split_long(head, count, max_tokens)
    first[-1] = (first[-1][0], kind)
    return first + split_long(tail, count, max_tokens)


def sentences_of(text: str, emotions: list[str], count=None, max_tokens: int = 0) -> list[Sentence]:
    """Tags parsed, segments split into sentences (and long ones into pieces) with their pauses."""
    out: list[Sentence] = []
    for seg in parse_tags(text, emotions):
        for sentence, mark, offset in split_sentences(seg.text):
            parts = split_long(sentence, count, max_tokens) if count is not None else [(sentence, "")]
            at = 0
            for j, (piece, kind) in enumerate(parts):
                at = sentence.find(piece, at)
                last = j == len(parts) - 1
                pause = PAUSES[kind] if not last else PAUSES.get(mark, PAUSES["segment"])
                out.append(Sentence(piece, seg, pause, seg.column + offset + max(at, 0)))
    if out:
        out[-1].pause = 0.0
    return out


@dataclass
class TextLine:
    """One utterance of a text file: its text, its own controls, where it is."""

    text: str
    controls: dict = field(default_factory=dict)
    line: int = 0
    column: int = 1  # column of the text after the control block


def _control_value(key: str, value: str, source, line: int, column: int):
    floats = ("intensity", "speed", "pitch_scale", "energy_scale")
    if key in floats:
        try:
            return float(value)
        except ValueError:
            raise RequestError(key, f"'{value}' is not a number", source, line, column) from None
    if key == "seed":
        try:
            return int(value)
        except ValueError:
            raise RequestError(key, f"'{value}' is not an integer", source, line, column) from None
    return value


def parse_text_file(path) -> list[TextLine]:
    """The utterances of a text file (format: module docstring); errors name line and column."""
    path = Path(path)
    if not path.is_file():
        raise RequestError("text_file", "text file not found", str(path))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise RequestError("text_file", f"not UTF-8 text ({exc})", str(path)) from None
    out = []
    for lineno, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        lead = len(raw) - len(raw.lstrip())
        controls, col = {}, lead + 1
        body = raw[lead:]
        if body.startswith("["):
            end = body.find("]")
            if end < 0:
                raise RequestError("text", "control block '[' is never closed with ']'", str(path), lineno, col)
            for m in re.finditer(r"\S+", body[1:end]):
                item, item_col = m.group(0), col + 1 + m.start()
                key, sep, value = item.partition("=")
                if not sep or not value:
                    raise RequestError("text", f"control '{item}' is not key=value", str(path), lineno, item_col)
                if key not in LINE_KEYS:
                    raise RequestError("text", f"unknown control '{key}' (known: {', '.join(LINE_KEYS)})",
                                       str(path), lineno, item_col)
                if key in controls:
                    raise RequestError("text", f"control '{key}' given twice", str(path), lineno, item_col)
                controls[key] = _control_value(key, value, str(path), lineno, item_col)
            rest = body[end + 1:]
            col = col + end + 1 + (len(rest) - len(rest.lstrip()) if rest.strip() else 0)
            body = rest.strip()
        if not body:
            raise RequestError("text", "no text after the controls", str(path), lineno, col)
        out.append(TextLine(body.rstrip(), controls, lineno, col))
    if not out:
        raise RequestError("text_file", "no utterance in the file (only blank or # lines)", str(path))
    return out
