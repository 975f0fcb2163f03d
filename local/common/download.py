"""Fetch, verify and extract a public corpus into its conf's root.

Each entry of ``prep.download`` is ``{url, sha256 | md5 (| none: then bytes is checked), bytes,
strip, into, extract}``: the file is fetched with urllib (``file://`` works too) into
``<archive_dir>/<file name>.part``, its checksum (or size) verified, renamed, and the archive
extracted into a temporary directory next to ``root``; its top-level entries (after dropping
``strip`` leading path components) are then renamed into ``root/<into>``. ``extract: false`` copies
the file itself into ``root/<into>``. A verified archive is not fetched again, and a corpus whose
layout is already complete at ``root`` is not fetched at all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from pytorch_backend.errors import ConfigError, DataError

log = logging.getLogger("emotts.download")
ENTRY_KEYS = {"url", "sha256", "md5", "bytes", "strip", "into", "extract"}
CHUNK = 1 << 20


def check_entries(entries, source: str) -> list[dict]:
    if not isinstance(entries, list) or not entries:
        raise ConfigError(source, "expected a non-empty list of {url, sha256|md5, ...}", key="prep.download")
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "url" not in entry:
            raise ConfigError(source, "each entry needs a url", key=f"prep.download[{i}]")
        unknown = set(entry) - ENTRY_KEYS
        if unknown:
            raise ConfigError(source, f"unknown key (known keys: {', '.join(sorted(ENTRY_KEYS))})",
                              key=f"prep.download[{i}].{sorted(unknown)[0]}")
        out.append({"sha256": None, "md5": None, "bytes": None, "strip": 0, "into": ".", "extract": True,
                    **entry})
    return out


def file_name(url: str) -> str:
    name = PurePosixPath(urllib.request.urlparse(url).path).name
    if not name:
        raise ConfigError("prep.download", f"cannot tell a file name from the url {url!r}")
    return name


def _digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, entry: dict) -> None:
    """Raise DataError when ``path`` does not match the entry's checksum (or size)."""
    for algo in ("sha256", "md5"):
        if entry.get(algo):
            got = _digest(path, algo)
            if got.lower() != str(entry[algo]).lower():
                raise DataError(path, f"{algo} mismatch: expected {entry[algo]}, got {got} "
                                f"(from {entry['url']}); delete it to fetch it again")
            return
    size = path.stat().st_size
    if entry.get("bytes") is not None and size != int(entry["bytes"]):
        raise DataError(path, f"size mismatch: expected {entry['bytes']} bytes, got {size} (no checksum "
                        f"is published for {entry['url']})")
    log.warning("%s: no checksum is known for %s; checked %s", path.name, entry["url"],
                "its size" if entry.get("bytes") is not None else "nothing but the layout after extraction")


def fetch(entry: dict, archive_dir: Path) -> Path:
    """The verified local copy of ``entry['url']`` (fetched unless a verified copy exists)."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    dest = archive_dir / file_name(entry["url"])
    if dest.is_file():
        try:
            verify(dest, entry)
            log.info("%s: already fetched and verified", dest)
            return dest
        except DataError:
            log.warning("%s: present but does not verify; fetching it again", dest)
            dest.unlink()
    part = dest.with_name(dest.name + ".part")
    log.info("fetching %s -> %s", entry["url"], dest)
    try:
        with urllib.request.urlopen(entry["url"], timeout=60) as resp, open(part, "wb") as out:
            shutil.copyfileobj(resp, out, CHUNK)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise DataError(entry["url"], f"download failed: {exc}") from None
    try:
        verify(part, entry)
    except DataError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)
    return dest


def _strip(path: str, n: int) -> str | None:
    """``path`` without its first ``n`` components (None: nothing left, or macOS metadata)."""
    parts = PurePosixPath(path).parts
    if parts and parts[0] == "__MACOSX":
        return None
    return None if len(parts) <= n else str(PurePosixPath(*parts[n:]))


def _safe(member: str) -> bool:
    p = PurePosixPath(member)
    return not p.is_absolute() and ".." not in p.parts


def extract(archive: Path, root: Path, strip: int = 0, into: str = ".") -> None:
    """Extract ``archive`` into ``root/into`` via a temporary directory next to ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    target = (root / into).resolve()
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{archive.name}.", dir=root.parent) as tmp:
        tmp = Path(tmp)
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    name = _strip(info.filename, strip)
                    if name is None:
                        continue
                    if not _safe(name):
                        raise DataError(archive, f"unsafe member path {info.filename!r}")
                    dest = tmp / name
                    if info.is_dir():
                        dest.mkdir(parents=True, exist_ok=True)
                        continue
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(dest, "wb") as out:
                        shutil.copyfileobj(src, out, CHUNK)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                members = []
                for member in tf.getmembers():
                    name = _strip(member.name, strip)
                    if name is None:
                        continue
                    if not _safe(name):
                        raise DataError(archive, f"unsafe member path {member.name!r}")
                    member.name = name
                    if member.islnk():  # a hard link names another member: strip it the same way
                        member.linkname = _strip(member.linkname, strip) or member.linkname
                    members.append(member)
                tf.extractall(tmp, members=members, filter="data")
        else:
            raise DataError(archive, "neither a zip nor a tar archive")
        for entry in sorted(tmp.iterdir()):
            dest = target / entry.name
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            elif dest.exists() or dest.is_symlink():
                dest.unlink()
            os.replace(entry, dest)


def install(entries, root, archive_dir, layout=(), source: str = "prep.download") -> None:
    """Make ``root`` hold the corpus: skip when ``layout`` is complete, else fetch + extract all."""
    from local.common.source import missing_layout

    root = Path(root)
    entries = check_entries(entries, source)
    if layout and not missing_layout(root, layout):
        log.info("%s already holds the corpus layout; nothing to fetch", root)
        return
    for entry in entries:
        path = fetch(entry, Path(archive_dir))
        if entry["extract"]:
            log.info("extracting %s into %s", path.name, root / entry["into"])
            extract(path, root, int(entry["strip"]), entry["into"])
        else:
            dest = root / entry["into"]
            dest = dest / path.name if entry["into"] in (".", "") or dest.is_dir() else dest
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.tmp")
            shutil.copyfile(path, tmp)
            os.replace(tmp, dest)
    missing = missing_layout(root, layout)
    if missing:
        raise DataError(root, f"after extraction the corpus layout is incomplete: nothing matches "
                        f"{', '.join(missing)}")
