"""Lazy, bounded-memory access to the matrices and vectors behind a Kaldi scp (feats.scp,
pitch.scp, energy.scp): what the training datasets read at corpus scale.

Nothing of the data is kept in memory. An entry's shape comes from its ark header alone
(a few bytes read at the entry's offset), so an index of a whole split costs one small read
per utterance; a whole matrix is read with kaldiio, and a range of rows of an uncompressed
float matrix (the vocoder's training segments) with one positioned read of just those rows.
Files are opened per read (no descriptors held, nothing shared between DataLoader workers or
DDP ranks beyond the page cache of the operating system).

Entries that are not a plain ``<ark path>:<offset>`` of a binary ``FM``/``DM``/``FV``/``DV``
object (compressed matrices, kaldiio ranges ``[a:b]``, pipes) still work: their shape and rows
come from loading the whole object with kaldiio.

Errors are :class:`~pytorch_backend.errors.DataError` naming the scp, its line and the
utterance.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

import kaldiio
import numpy as np

from pytorch_backend.errors import DataError
from pytorch_backend.io.kaldi_map import read_kv_lines

# binary Kaldi object types read directly: token -> (numpy dtype, number of dimensions)
_PLAIN = {"FM": ("<f4", 2), "DM": ("<f8", 2), "FV": ("<f4", 1), "DV": ("<f8", 1)}


class ArkObject:
    """Where the data of one plain binary ark object lies: ``path``, ``data_offset`` (first byte
    of the values), ``dtype`` and ``shape``."""

    __slots__ = ("path", "data_offset", "dtype", "shape")

    def __init__(self, path: str, data_offset: int, dtype: str, shape: tuple[int, ...]):
        self.path, self.data_offset, self.dtype, self.shape = path, data_offset, dtype, shape

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows ``[start, stop)`` (clipped to the object) as a new float32 array."""
        rows = self.shape[0]
        stop = rows if stop is None else min(int(stop), rows)
        start = min(max(0, int(start)), stop)
        row = int(np.prod(self.shape[1:], dtype=np.int64)) if len(self.shape) > 1 else 1
        item = np.dtype(self.dtype).itemsize
        count = (stop - start) * row
        with open(self.path, "rb") as fh:
            buf = os.pread(fh.fileno(), count * item, self.data_offset + start * row * item)
        if len(buf) != count * item:
            raise EOFError(f"{self.path} ends inside the object at byte {self.data_offset}")
        out = np.frombuffer(buf, dtype=self.dtype).astype(np.float32)  # a writable copy
        return out.reshape((stop - start,) + tuple(self.shape[1:]))


def probe(spec: str) -> ArkObject | None:
    """The :class:`ArkObject` of scp value ``spec`` from its header, or None when ``spec`` is not
    a plain ``path:offset`` of an uncompressed binary matrix/vector (then load it whole).
    Raises OSError/ValueError for an unreadable or truncated entry."""
    spec = spec.strip()
    if not spec or spec.endswith("|") or spec.startswith("|") or "[" in spec:
        return None
    path, sep, offset = spec.rpartition(":")
    if not sep or not offset.isdigit():
        return None
    offset = int(offset)
    with open(path, "rb") as fh:
        head = os.pread(fh.fileno(), 16, offset)
        size = os.fstat(fh.fileno()).st_size
    if head[:2] != b"\0B":
        return None  # text-mode object (or not a Kaldi object at all): kaldiio decides
    space = head.find(b" ", 2)
    token = head[2:space].decode("ascii", "replace") if space > 0 else ""
    if token not in _PLAIN:
        return None  # compressed (CM, CM2, CM3) or another type
    dtype, ndim = _PLAIN[token]
    pos = space + 1
    dims = []
    for _ in range(ndim):
        if head[pos:pos + 1] != b"\4" or len(head) < pos + 5:
            raise ValueError(f"malformed {token} header at byte {offset}")
        dims.append(struct.unpack("<i", head[pos + 1:pos + 5])[0])
        pos += 5
    if any(d < 0 for d in dims):
        raise ValueError(f"negative dimension {dims} in the header at byte {offset}")
    data_offset = offset + pos
    nbytes = int(np.prod(dims, dtype=np.int64)) * np.dtype(dtype).itemsize
    if data_offset + nbytes > size:
        raise ValueError(f"the ark ends inside the object at byte {offset} (truncated file?)")
    return ArkObject(sys.intern(path), data_offset, dtype, tuple(dims))


class FeatsTable:
    """The entries of one scp, opened lazily: ``shape(utt)``, ``load(utt)``, ``rows(utt, a, b)``.

    ``what`` names the content in error messages ("features", "pitch", ...).
    """

    def __init__(self, scp, what: str = "features"):
        self.scp = Path(scp)
        self.what = what
        if not self.scp.is_file():
            raise DataError(self.scp, f"file not found (were the {what} dumped?)")
        self._entries: dict[str, tuple[int, str]] = {}
        for lineno, utt, spec in read_kv_lines(self.scp):
            if utt in self._entries:
                raise DataError(self.scp, f"duplicate id '{utt}' (first on line {self._entries[utt][0]})",
                                line=lineno, utt=utt)
            self._entries[utt] = (lineno, spec)
        self._objects: dict[str, ArkObject | None] = {}

    def __contains__(self, utt: str) -> bool:
        return utt in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def utts(self) -> list[str]:
        """Utterance ids in file order."""
        return list(self._entries)

    def line(self, utt: str) -> int:
        return self._entries[utt][0]

    def spec(self, utt: str) -> str:
        return self._entries[utt][1]

    def error(self, utt: str, message: str) -> DataError:
        return DataError(self.scp, message, line=self._entries[utt][0], utt=utt)

    def _object(self, utt: str) -> ArkObject | None:
        if utt not in self._objects:
            try:
                self._objects[utt] = probe(self._entries[utt][1])
            except (OSError, ValueError) as exc:
                raise self.error(utt, f"cannot read {self.what} '{self._entries[utt][1]}': {exc}") from None
        return self._objects[utt]

    def shape(self, utt: str) -> tuple[int, ...]:
        """The entry's shape, from its header (or by loading it when it has no plain header)."""
        obj = self._object(utt)
        return obj.shape if obj is not None else tuple(self.load(utt).shape)

    def load(self, utt: str) -> np.ndarray:
        """The whole entry as a new float32 array."""
        spec = self._entries[utt][1]
        try:
            return np.array(kaldiio.load_mat(spec), dtype=np.float32)
        except Exception as exc:  # kaldiio raises plain exceptions on damaged entries
            raise self.error(utt, f"cannot load {self.what} '{spec}': {exc}") from None

    def rows(self, utt: str, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)`` (clipped) as a new float32 array, reading only those rows when
        the entry is a plain binary object."""
        obj = self._object(utt)
        if obj is None:
            return np.ascontiguousarray(self.load(utt)[start:stop])
        try:
            return obj.read(start, stop)
        except (OSError, EOFError) as exc:
            raise self.error(utt, f"cannot read {self.what} '{self._entries[utt][1]}': {exc}") from None
