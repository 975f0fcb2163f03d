"""Check a Kaldi-style TTS data dir against the rules of Kaldi's ``utils/validate_data_dir.sh``.

A data dir holds ``wav.scp text utt2spk spk2utt utt2emo`` (emotts adds ``utt2emo``) and may
hold ``utt2dur``. The rules enforced here:

* every file exists, has no empty line, no key without a value, no duplicate key, and is
  sorted on its key as ``LC_ALL=C sort`` would sort it (by UTF-8 bytes);
* utterance and speaker ids are safe as file names (printable, no ``/`` or ``\\``, no ``..``,
  no leading ``-`` or ``.``, at most :data:`MAX_ID_BYTES` bytes; see :func:`unsafe_id_reason`);
* every utterance id starts with its speaker id (Kaldi's convention; ``utt == spk`` is allowed,
  as in Kaldi dirs without speaker information) and ``utt2spk``, read in utterance order, lists
  the speakers in C order too (what Kaldi's sorting by speaker needs);
* all files list the same utterances (``utt2spk`` is the reference list);
* ``spk2utt`` holds exactly the (speaker, utterance) pairs of ``utt2spk``;
* ``utt2emo`` labels belong to the corpus's emotion set; ``text`` is not empty;
  ``utt2dur`` values are positive finite numbers;
* a ``wav.scp`` entry is ``<id> <path>`` or ``<id> <command> |``: an entry that is not a command
  and has more than two fields (a path with whitespace in it, which Kaldi's tools would split)
  is refused; commands are refused unless ``allow_pipes``;
* with ``check_audio``, each wav exists, is readable by soundfile and holds samples.

All problems are collected; the raised :class:`DataError` carries the first one (its message
begins with ``file:line``), lists up to :data:`MAX_REPORTED` more on the following lines, and
keeps every problem in its ``errors`` attribute.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

from pytorch_backend.errors import DataError
from pytorch_backend.io.kaldi_map import c_sorted

REQUIRED_FILES = ("wav.scp", "text", "utt2spk", "spk2utt", "utt2emo")
OPTIONAL_FILES = ("utt2dur",)
# Files keyed by utterance id (spk2utt is keyed by speaker id).
UTT_FILES = ("wav.scp", "text", "utt2spk", "utt2emo", "utt2dur")
MAX_REPORTED = 10
# ids become file names with suffixes (``<utt>_attention.png``); file names end at 255 bytes
MAX_ID_BYTES = 200


class _Problems:
    """Collects DataErrors; :meth:`raise_if_any` raises one error summarizing them."""

    def __init__(self):
        self.errors: list[DataError] = []
        self._messages: list[tuple] = []

    def add(self, path, message: str, line: int | None = None, utt: str | None = None) -> None:
        self.errors.append(DataError(path, message, line=line, utt=utt))
        self._messages.append((path, message, line, utt))

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        path, message, line, utt = self._messages[0]
        extra = len(self.errors) - 1
        if extra:
            shown = [str(e) for e in self.errors[1:1 + MAX_REPORTED]]
            message += f"\n  ... and {extra} more problem(s):\n  " + "\n  ".join(shown)
            if extra > MAX_REPORTED:
                message += f"\n  ... ({extra - MAX_REPORTED} not shown)"
        exc = DataError(path, message, line=line, utt=utt)
        exc.errors = list(self.errors)
        raise exc


def unsafe_id_reason(ident: str) -> str | None:
    """Why ``ident`` cannot serve as a file name, or None when it is safe.

    Refused: empty; a path separator; ``..`` (a way out of the directory); a leading ``-``
    (read as an option by command-line tools) or ``.`` (a hidden file, or ``.`` itself);
    non-printable characters (NUL, control codes, whitespace); more than
    :data:`MAX_ID_BYTES` bytes of UTF-8.
    """
    if not ident:
        return "is empty"
    if "/" in ident or "\\" in ident:
        return "contains a path separator ('/' or '\\')"
    if ".." in ident:
        return "contains '..'"
    if ident.startswith("-"):
        return "starts with '-'"
    if ident.startswith("."):
        return "starts with '.'"
    if not ident.isprintable() or any(c.isspace() for c in ident):
        return "contains a non-printable or whitespace character"
    if len(ident.encode("utf-8")) > MAX_ID_BYTES:
        return f"is longer than {MAX_ID_BYTES} bytes"
    return None


def safe_file_stem(ident: str, source, line: int | None = None) -> str:
    """``ident`` when it is safe as (the start of) a file name, else a DataError naming
    ``source`` and ``line``; call it wherever a file is named from an utterance id (wav names,
    plots), since ids can reach those places without passing data validation."""
    reason = unsafe_id_reason(ident)
    if reason:
        raise DataError(source, f"utterance id not usable as a file name: {reason}", line=line, utt=ident)
    return ident


def _read_rows(path: Path, problems: _Problems) -> list[tuple[int, str, str]]:
    """``[(line, key, value)]`` of a map file; bad lines are reported.

    A key without a value is reported and kept with value ``""`` (the value rules skip it), so
    one missing value does not also show up as an id missing from this file.
    """
    rows = []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                problems.add(path, "line is not valid UTF-8", line=lineno)
                continue
            line = line.rstrip("\n")
            if line.endswith("\r"):
                problems.add(path, "line ends with a carriage return (Windows line ending)", line=lineno)
                line = line.rstrip("\r")
            parts = line.strip().split(maxsplit=1)
            if not parts:
                problems.add(path, "empty line", line=lineno)
                continue
            key = parts[0]
            value = parts[1].strip() if len(parts) > 1 else ""
            if not value:
                what = "empty transcription" if path.name == "text" else "missing value"
                problems.add(path, f"{what} after id '{key}'", line=lineno, utt=key)
                # kept (with an empty value) so the id still counts as present in this file
            rows.append((lineno, key, value))
    return rows


def _check_order_and_unique(path: Path, rows, problems: _Problems) -> dict[str, tuple[int, str]]:
    """Report duplicate keys and the first out-of-order line; return key -> (line, value)."""
    table: dict[str, tuple[int, str]] = {}
    for lineno, key, value in rows:
        if key in table:
            problems.add(path, f"duplicate id '{key}' (first on line {table[key][0]})",
                         line=lineno, utt=key)
        else:
            table[key] = (lineno, value)
    keys = [key for _, key, _ in rows]
    if keys != c_sorted(keys):
        for (_, prev, _), (lineno, key, _) in zip(rows, rows[1:]):
            if key.encode("utf-8") < prev.encode("utf-8"):
                problems.add(path, f"not sorted: '{key}' comes after '{prev}' "
                             "(sort with LC_ALL=C on the first field)", line=lineno, utt=key)
                break
    return table


def _check_same_utts(ref_name: str, ref: dict, name: str, other: dict, data_dir: Path,
                     problems: _Problems) -> None:
    """Report the first utterance in one file but not the other, in each direction."""
    for a_name, a, b_name, b in ((name, other, ref_name, ref), (ref_name, ref, name, other)):
        missing = [utt for utt in a if utt not in b]
        if missing:
            utt = missing[0]
            more = f" ({len(missing) - 1} more like it)" if len(missing) > 1 else ""
            problems.add(data_dir / a_name, f"utterance is in {a_name} but missing from {b_name}{more}",
                         line=a[utt][0], utt=utt)


def _check_audio(path: Path, lineno: int, utt: str, wav: str, problems: _Problems) -> float | None:
    """Check that ``wav`` is a readable, non-empty audio file; return its duration."""
    import soundfile

    if not os.path.isfile(wav):
        problems.add(path, f"audio file not found: {wav}", line=lineno, utt=utt)
        return None
    try:
        info = soundfile.info(wav)
    except Exception as exc:  # soundfile raises several types for unreadable files
        problems.add(path, f"audio file not readable ({wav}): {str(exc).strip()}", line=lineno, utt=utt)
        return None
    if info.frames <= 0:
        problems.add(path, f"audio file holds no samples: {wav}", line=lineno, utt=utt)
        return None
    return info.frames / info.samplerate


def validate_data_dir(data_dir, emotions, allow_pipes: bool = False, check_audio: bool = False) -> dict:
    """Validate ``data_dir``; raise one DataError listing the problems, or return counts.

    ``emotions`` is the corpus's label set. Relative wav paths are resolved against the
    current working directory (Kaldi's convention). Piped wav.scp entries are never run, so
    ``check_audio`` skips them. Returns ``{"utterances", "speakers", "emotions": {label: n},
    "duration_s" (from utt2dur or the audio, or None), "audio_checked"}``.
    """
    data_dir = Path(data_dir)
    problems = _Problems()
    if not data_dir.is_dir():
        raise DataError(data_dir, "data dir not found")
    for name in REQUIRED_FILES:
        if not (data_dir / name).is_file():
            problems.add(data_dir / name, "required file missing")
    problems.raise_if_any()

    present = list(REQUIRED_FILES) + [n for n in OPTIONAL_FILES if (data_dir / n).is_file()]
    tables: dict[str, dict[str, tuple[int, str]]] = {}
    reported_ids: set[str] = set()
    for name in present:
        path = data_dir / name
        rows = _read_rows(path, problems)
        tables[name] = _check_order_and_unique(path, rows, problems)
        for key, (lineno, _) in tables[name].items():
            reason = unsafe_id_reason(key)
            if reason and key not in reported_ids:
                reported_ids.add(key)
                kind = "speaker" if name == "spk2utt" else "utterance"
                problems.add(path, f"unsafe {kind} id '{key}': {reason}", line=lineno, utt=key)

    utt2spk = tables["utt2spk"]
    for name in UTT_FILES:
        if name != "utt2spk" and name in tables:
            _check_same_utts("utt2spk", utt2spk, name, tables[name], data_dir, problems)

    _check_speakers(data_dir, utt2spk, tables["spk2utt"], problems)
    _check_values(data_dir, tables, set(emotions), allow_pipes, problems)

    audio_duration = 0.0
    if check_audio:
        path = data_dir / "wav.scp"
        for utt, (lineno, wav) in tables["wav.scp"].items():
            if not wav or wav.endswith("|") or len(wav.split()) > 1:
                continue  # commands are never run; a path with whitespace is reported already
            duration = _check_audio(path, lineno, utt, wav, problems)
            audio_duration += duration or 0.0
    problems.raise_if_any()

    if "utt2dur" in tables:
        duration = sum(float(v) for _, v in tables["utt2dur"].values())
    else:
        duration = audio_duration if check_audio else None
    return {
        "utterances": len(utt2spk),
        "speakers": len(tables["spk2utt"]),
        "emotions": dict(sorted(Counter(v for _, v in tables["utt2emo"].values()).items())),
        "duration_s": duration,
        "audio_checked": check_audio,
    }


def _check_speakers(data_dir: Path, utt2spk, spk2utt, problems: _Problems) -> None:
    """Speaker-prefixed utterance ids, speakers in order, spk2utt == inverse of utt2spk."""
    path = data_dir / "utt2spk"
    prev_spk = None
    for utt, (lineno, spk) in utt2spk.items():
        if not spk:
            continue
        if len(spk.split()) != 1:
            problems.add(path, f"speaker id must be one field, got '{spk}'", line=lineno, utt=utt)
            continue
        if not utt.startswith(spk):
            problems.add(path, f"utterance id does not start with its speaker id '{spk}'",
                         line=lineno, utt=utt)
        elif prev_spk is not None and spk.encode("utf-8") < prev_spk.encode("utf-8"):
            problems.add(path, f"speaker '{spk}' comes after speaker '{prev_spk}': the file must "
                         "also be sorted on the speaker id (make utterance ids start with the "
                         "speaker id)", line=lineno, utt=utt)
        prev_spk = spk

    spath = data_dir / "spk2utt"
    listed: dict[str, str] = {}
    for spk, (lineno, value) in spk2utt.items():
        for utt in value.split():
            if utt in listed:
                problems.add(spath, f"utterance '{utt}' listed twice (also under speaker "
                             f"'{listed[utt]}')", line=lineno, utt=utt)
                continue
            listed[utt] = spk
            if utt not in utt2spk:
                problems.add(spath, f"utterance '{utt}' of speaker '{spk}' is not in utt2spk",
                             line=lineno, utt=utt)
            elif utt2spk[utt][1] != spk:
                problems.add(spath, f"utterance '{utt}' is under speaker '{spk}' but utt2spk "
                             f"says '{utt2spk[utt][1]}'", line=lineno, utt=utt)
    for utt, (lineno, spk) in utt2spk.items():
        if spk and utt not in listed:
            problems.add(path, f"utterance of speaker '{spk}' is missing from spk2utt",
                         line=lineno, utt=utt)


def _check_values(data_dir: Path, tables, emotions: set, allow_pipes: bool, problems: _Problems) -> None:
    """Per-file value rules: emotion labels, durations, piped wav entries."""
    path = data_dir / "utt2emo"
    for utt, (lineno, label) in tables["utt2emo"].items():
        if label and label not in emotions:
            problems.add(path, f"unknown emotion label '{label}' (known: {', '.join(sorted(emotions))})",
                         line=lineno, utt=utt)
    if "utt2dur" in tables:
        path = data_dir / "utt2dur"
        for utt, (lineno, value) in tables["utt2dur"].items():
            if not value:
                continue
            try:
                dur = float(value)
            except ValueError:
                dur = float("nan")
            if not (math.isfinite(dur) and dur > 0):
                problems.add(path, f"duration must be a positive number, got '{value}'",
                             line=lineno, utt=utt)
    path = data_dir / "wav.scp"
    for utt, (lineno, wav) in tables["wav.scp"].items():
        if wav and not wav.endswith("|") and len(wav.split()) > 1:
            problems.add(path, f"entry has {len(wav.split()) + 1} fields, expected '<id> <path>' or "
                         f"'<id> <command> |': the path '{wav}' contains whitespace, which Kaldi's "
                         "tools split on (link the audio under a whitespace-free path)",
                         line=lineno, utt=utt)
        if wav.endswith("|") and not allow_pipes:
            problems.add(path, "piped command entries are refused (set allow_pipes: true in the "
                         "corpus conf to accept them)", line=lineno, utt=utt)
