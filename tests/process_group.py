"""Running a command from a test in its own process group, the whole group killed on timeout.

``subprocess.run(..., timeout=...)`` kills only the child it started: a Snakemake run, or a
step with worker pools, would leave its own children running after the test failed. Here the
child leads a new session, and on a timeout (or any error while waiting) every process of
that group gets SIGKILL before the exception propagates.
"""

from __future__ import annotations

import os
import signal
import subprocess

DEFAULT_TIMEOUT = 900.0  # seconds: longer than any single command of the suite


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL every process of ``proc``'s group (it leads it), then reap ``proc``."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def run(cmd, *, timeout: float | None = DEFAULT_TIMEOUT, capture_output: bool = False, text: bool = False,
        input=None, check: bool = False, **popen_kwargs) -> subprocess.CompletedProcess:
    """Like ``subprocess.run`` (same arguments and result), in a new process group."""
    if "start_new_session" in popen_kwargs or "process_group" in popen_kwargs:
        raise ValueError("run() always starts a new session; do not pass start_new_session/process_group")
    if capture_output:
        popen_kwargs.setdefault("stdout", subprocess.PIPE)
        popen_kwargs.setdefault("stderr", subprocess.PIPE)
    if input is not None:
        popen_kwargs.setdefault("stdin", subprocess.PIPE)
    proc = subprocess.Popen(cmd, text=text, start_new_session=True, **popen_kwargs)
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except BaseException:
        kill_group(proc)
        raise
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    if check:
        result.check_returncode()
    return result
