"""Processes started by tests: each in its own process group, the whole group killed on exit."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

URL = re.compile(r"http://127\.0\.0\.1:(\d+)/")


def kill_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the process group of ``proc`` (started with start_new_session), SIGKILL after
    ``grace`` seconds, and reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # children left in the group
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


class Server:
    """``python -m steps.serve -m MODEL --port 0 ...`` on 127.0.0.1; ``url`` once it serves.
    The log is read on a thread (kept in ``lines``) so the pipe never fills."""

    def __init__(self, model, *args: str, cwd=None, timeout: float = 180.0):
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        self.cmd = [sys.executable, "-m", "steps.serve", "-m", str(model), "--port", "0", *args]
        self.proc = subprocess.Popen(self.cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        self.lines: list[str] = []
        self.url: str | None = None
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.lines.append(line)
                m = URL.search(line)
                if m and self.url is None:
                    self.url = f"http://127.0.0.1:{m.group(1)}"
                    ready.set()
            ready.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.2):
            if time.monotonic() > deadline:
                self.close()
                raise TimeoutError(f"server did not start in {timeout:g} s:\n{self.log}")
        if self.url is None:
            self.close()
            raise RuntimeError(f"server exited ({self.proc.returncode}) before serving:\n{self.log}")

    @property
    def log(self) -> str:
        return "".join(self.lines[-80:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        kill_group(self.proc)
        self._reader.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
