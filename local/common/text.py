"""Reading corpus text files whose encoding is not always UTF-8."""

from __future__ import annotations

import codecs
from pathlib import Path

from pytorch_backend.errors import DataError

# Tried in order when a file has no byte-order mark: UTF-8, then the Chinese national standard
# (GB18030 is a superset of GB2312/GBK), then Latin-1 (which accepts any byte).
FALLBACK_ENCODINGS = ("utf-8", "gb18030", "latin-1")


def read_text_lines(path, encoding: str | None = None) -> tuple[list[str], str]:
    """The lines of ``path`` (no line ends) and the encoding used.

    With ``encoding`` None the encoding is detected: a UTF-16/UTF-8 byte-order mark wins, else
    the first of :data:`FALLBACK_ENCODINGS` that decodes the whole file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    raw = path.read_bytes()
    if encoding is None:
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        elif raw.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        else:
            for candidate in FALLBACK_ENCODINGS:
                try:
                    raw.decode(candidate)
                except UnicodeDecodeError:
                    continue
                encoding = candidate
                break
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DataError(path, f"cannot decode as {encoding}: {exc}") from None
    return text.splitlines(), encoding
