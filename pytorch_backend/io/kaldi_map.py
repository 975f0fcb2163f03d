"""Reading and writing Kaldi-style "key value" text files (wav.scp, text, utt2spk, ...)."""

from __future__ import annotations

from pathlib import Path

from pytorch_backend.errors import DataError
from pytorch_backend.utils.fileio import atomic_open


def read_kv_lines(path):
    """Return ``[(line_number, key, value), ...]`` of a Kaldi map file.

    Raises DataError naming the file and line for a line without a key or a value.
    Duplicate and order checks are the validator's job (pytorch_backend.data.validate).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.rstrip("\n")
            parts = line.strip().split(maxsplit=1)
            if not parts:
                raise DataError(path, "empty line", line=lineno)
            if len(parts) == 1 or not parts[1].strip():
                raise DataError(path, f"no value after key '{parts[0]}'", line=lineno, utt=parts[0])
            rows.append((lineno, parts[0], parts[1].strip()))
    return rows


def read_kv(path) -> dict[str, str]:
    """Read a Kaldi map file into an ordered dict; a duplicate key is an error naming its line."""
    out: dict[str, str] = {}
    for lineno, key, value in read_kv_lines(path):
        if key in out:
            raise DataError(path, f"duplicate id '{key}'", line=lineno, utt=key)
        out[key] = value
    return out


def c_sorted(keys):
    """Sort like ``LC_ALL=C sort``: by the UTF-8 bytes."""
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def write_kv(path, mapping) -> None:
    """Write ``mapping`` as "key value" lines in C order, atomically."""
    with atomic_open(path) as fh:
        for key in c_sorted(mapping):
            fh.write(f"{key} {mapping[key]}\n")


def spk2utt_from_utt2spk(utt2spk: dict[str, str]) -> dict[str, str]:
    groups: dict[str, list[str]] = {}
    for utt in c_sorted(utt2spk):
        groups.setdefault(utt2spk[utt], []).append(utt)
    return {spk: " ".join(utts) for spk, utts in groups.items()}
