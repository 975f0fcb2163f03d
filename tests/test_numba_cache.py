"""pytorch_backend/utils/numba_cache.py: librosa's numba kernels compiled by one process at a time."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytorch_backend.utils import numba_cache
from tests.process_group import run

REPO = Path(__file__).resolve().parent.parent


def test_cache_dir_follows_numba_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert numba_cache.cache_dir() == tmp_path
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    default = numba_cache.cache_dir()
    assert default.name == "__pycache__" and default.parent.name == "librosa"


def test_stamp_names_versions_and_the_source_time():
    name = numba_cache.stamp_name()
    assert importlib.metadata.version("librosa") in name
    assert importlib.metadata.version("numba") in name
    import librosa.util.utils

    assert name.endswith(str(os.stat(librosa.util.utils.__file__).st_mtime_ns))


def _module(tmp_path: Path, name: str, body: str) -> None:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))


def test_warm_imports_once_then_trusts_the_stamp(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    log = tmp_path / "imports.log"
    _module(tmp_path, "warm_probe_a", f"open({str(log)!r}, 'a').write('a\\n')\n")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert numba_cache.warm(("warm_probe_a",)) is True
    stamp = cache / numba_cache.stamp_name()
    assert stamp.read_text().split() == ["warm_probe_a"]
    sys.modules.pop("warm_probe_a")
    assert numba_cache.warm(("warm_probe_a",)) is False
    assert log.read_text() == "a\n"  # the second call did not import it again


def test_without_a_writable_cache_dir_it_imports_under_a_temporary_lock(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(numba_cache, "_writable_dir", lambda path: None)
    monkeypatch.setattr(numba_cache.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path))
    _module(tmp_path, "warm_probe_b", "")
    assert numba_cache.warm(("warm_probe_b",)) is True
    assert numba_cache.warm(("warm_probe_b",)) is True  # no stamp to trust
    assert (tmp_path / "emotts-numba-warm.lock").exists()
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_a_failed_import_leaves_no_stamp(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ModuleNotFoundError):
        numba_cache.warm(("no_such_module_for_warm",))
    assert not (tmp_path / "cache" / numba_cache.stamp_name()).exists()


def _warm_in_processes(tmp_path: Path, modules: tuple[str, ...], n: int = 2) -> list[str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    code = f"from pytorch_backend.utils.numba_cache import warm; print(warm({modules!r}))"
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True,
                              start_new_session=True) for _ in range(n)]
    outs = []
    try:
        for proc in procs:
            out, _ = proc.communicate(timeout=300)
            assert proc.returncode == 0
            outs.append(out.strip())
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.communicate()
    return outs


def test_concurrent_callers_take_turns(tmp_path):
    """Two processes at once: one imports (slowly), the other waits for it and trusts its stamp."""
    log = tmp_path / "spans.log"
    _module(tmp_path, "warm_probe_slow", f"""
        import os, time
        start = time.monotonic()
        time.sleep(1.0)
        open({str(log)!r}, "a").write(f"{{os.getpid()}} {{start}} {{time.monotonic()}}\\n")
        """)
    outs = _warm_in_processes(tmp_path, ("warm_probe_slow",))
    assert sorted(outs) == ["False", "True"]
    assert len(log.read_text().splitlines()) == 1  # only one process imported it


def test_librosa_kernels_warmed_by_two_processes_at_once_load_cleanly(tmp_path):
    """The CI failure: two processes compiling librosa's guvectorize kernels into one fresh cache
    left files that segfaulted the next librosa.yin. Through warm() they take turns."""
    outs = _warm_in_processes(tmp_path, numba_cache.GUFUNC_MODULES)
    assert sorted(outs) == ["False", "True"]
    use = ("import numpy as np, librosa\n"
           "x = np.random.default_rng(0).standard_normal(22050).astype(np.float32)\n"
           "f0 = librosa.yin(x, fmin=50, fmax=600, sr=22050)\n"
           "z = librosa.zero_crossings(x)\n"
           "print(f0.size, int(z.sum()))\n")
    result = run([sys.executable, "-c", use], capture_output=True, text=True, timeout=300,
                 env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr[-2000:]
    frames, crossings = map(int, result.stdout.split())
    assert frames == 1 + 22050 // 512 and crossings > 5000
