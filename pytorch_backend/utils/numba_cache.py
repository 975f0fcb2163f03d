"""Compile librosa's numba kernels once, in one process, before anything runs in parallel.

librosa builds its ``@numba.guvectorize(cache=True)`` kernels when their module is imported. numba
caches each of them as two files (the kernel and its gufunc wrapper) written one after the other;
when two processes compile at once, the pair on disk can come from different processes, whose
internal function names differ, and every later load of that kernel crashes the interpreter with a
segmentation fault (numba issue 10128, open for numba 0.61-0.68). A fresh install that starts two
pytest workers or two Snakemake jobs is exactly that case: CI's suite died in ``librosa.yin`` on it.

``warm()`` imports those modules under an exclusive file lock and leaves a stamp (named after the
librosa and numba versions) next to the cache, so only the first caller pays for the compile and
later callers pay two ``stat`` calls. ``make setup``, the pytest controller and the Snakefile call it
before they start workers. ``python -m pytorch_backend.utils.numba_cache`` runs it by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import importlib.metadata
import importlib.util
import os
import tempfile
from pathlib import Path

# librosa 0.11's modules that define guvectorize kernels with cache=True (compiled at import)
GUFUNC_MODULES = ("librosa.util.utils", "librosa.core.audio", "librosa.core.pitch", "librosa.beat")


def cache_dir() -> Path:
    """Where numba writes librosa's cache: NUMBA_CACHE_DIR, else librosa's own __pycache__."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    spec = importlib.util.find_spec("librosa")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("librosa is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "__pycache__"


def stamp_name() -> str:
    """The stamp's name: librosa's and numba's versions, and when librosa's files were written
    (numba's cache goes stale when a source file's time changes, as on a reinstall)."""
    spec = importlib.util.find_spec("librosa.util.utils")
    written = os.stat(spec.origin).st_mtime_ns if spec is not None and spec.origin else 0
    versions = [importlib.metadata.version(name) for name in ("librosa", "numba")]
    return "emotts-numba-warm-librosa{}-numba{}-{}".format(*versions, written)


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _writable_dir(path: Path) -> Path | None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def warm(modules: tuple[str, ...] = GUFUNC_MODULES) -> bool:
    """Import ``modules`` under a lock unless the stamp says it was done; True when it compiled.

    When librosa's directory is read-only, numba caches elsewhere (per user) and there is no place
    for a stamp: the import then runs under a lock in the temporary directory on every call, which
    still keeps two processes from compiling at once.
    """
    stamp_dir = _writable_dir(cache_dir())
    stamp = stamp_dir / stamp_name() if stamp_dir is not None else None
    if stamp is not None and stamp.exists():
        return False
    lock = (stamp_dir or Path(tempfile.gettempdir())) / "emotts-numba-warm.lock"
    with _exclusive(lock):
        if stamp is not None and stamp.exists():  # another process finished while we waited
            return False
        for name in modules:
            importlib.import_module(name)
        if stamp is not None:
            stamp.write_text(" ".join(modules) + "\n")
    return True


if __name__ == "__main__":
    print("librosa's numba kernels: " + ("compiled" if warm() else "already compiled"))
