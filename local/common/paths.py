"""Audio paths a Kaldi ``wav.scp`` can hold: absolute and free of whitespace.

Kaldi's tools split ``wav.scp`` lines on whitespace (``<id> <path>``, or ``<id> <command> |``), so a
path with a space in it (ESD's top folder is ``Emotion Speech Dataset``) breaks them. A path that
has whitespace is written through a symbolic link under ``<data_dir>/links/``: the deepest folder
of the path whose name has whitespace gets one link (``Emotion_Speech_Dataset-<hash>`` ->
``.../Emotion Speech Dataset``) and the rest of the path is kept below it; a file whose own name
has whitespace gets a link of its own (``<utt>-<hash>.wav``). Link names carry a hash of their
target, so a link never changes target and a previous run's data dirs stay valid. When the data
dir's own absolute path has whitespace no link can help: that is a DataError naming the data dir.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from pytorch_backend.errors import DataError

LINK_DIR = "links"
_WHITESPACE = re.compile(r"\s")
_RUNS = re.compile(r"\s+")


def has_whitespace(text: str) -> bool:
    return bool(_WHITESPACE.search(text))


def _tag(target: Path) -> str:
    return hashlib.sha1(str(target).encode("utf-8", "surrogateescape")).hexdigest()[:8]


def ensure_link(link: Path, target: Path) -> None:
    """Make ``link`` a symbolic link to ``target`` (atomically; kept when it already is one)."""
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.tmp{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(str(target), tmp)
    os.replace(tmp, link)


class ScpPaths:
    """``paths(wav, utt)`` -> the absolute, whitespace-free path to write into ``wav.scp``."""

    def __init__(self, data_dir):
        self.data_dir = Path(os.path.abspath(data_dir))
        self.link_dir = self.data_dir / LINK_DIR
        self.links: dict[str, str] = {}  # link -> target, of the links this preparation uses

    def _link(self, name: str, target: Path) -> Path:
        if has_whitespace(str(self.link_dir)):
            raise DataError(self.data_dir, f"the data dir's absolute path has whitespace, so wav.scp "
                            f"cannot point at {target} (Kaldi splits wav.scp lines on whitespace): "
                            "run from a directory whose path has no spaces")
        link = self.link_dir / name
        ensure_link(link, target)
        self.links[str(link)] = str(target)
        return link

    def __call__(self, wav, utt: str) -> str:
        path = Path(os.path.abspath(wav))
        if not has_whitespace(str(path)):
            return str(path)
        parts = path.parts
        last = max(i for i, part in enumerate(parts) if has_whitespace(part))
        if last == len(parts) - 1:  # the file name itself
            suffix = "" if has_whitespace(path.suffix) else path.suffix
            return str(self._link(f"{utt}-{_tag(path)}{suffix}", path))
        anchor = Path(*parts[:last + 1])
        name = _RUNS.sub("_", anchor.name.strip()) or "dir"
        return str(self._link(f"{name}-{_tag(anchor)}", anchor).joinpath(*parts[last + 1:]))
