"""The tests' command runner kills the whole process group on timeout, grandchildren included."""

import os
import subprocess
import sys
import time

import pytest

from tests.process_group import run

# a child that starts a grandchild sleeping for a minute, prints its pid, then sleeps itself
SPAWNER = ("import subprocess, sys, time; "
           "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
           "print(p.pid, flush=True); time.sleep(60)")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead too
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_result_matches_subprocess_run(tmp_path):
    out = run([sys.executable, "-c", "import sys; print('hi'); sys.stderr.write('err'); sys.exit(3)"],
              capture_output=True, text=True, cwd=tmp_path)
    assert (out.returncode, out.stdout, out.stderr) == (3, "hi\n", "err")
    echoed = run([sys.executable, "-c", "print(input())"], input="back", capture_output=True, text=True)
    assert echoed.stdout == "back\n"
    with pytest.raises(subprocess.CalledProcessError):
        run([sys.executable, "-c", "raise SystemExit(2)"], check=True)


def test_timeout_kills_the_grandchildren_too(tmp_path):
    pid_file = tmp_path / "out.txt"
    with open(pid_file, "w") as fh, pytest.raises(subprocess.TimeoutExpired):
        run([sys.executable, "-c", SPAWNER], stdout=fh, timeout=3)
    grandchild = int(pid_file.read_text().split()[0])
    deadline = time.time() + 10
    while alive(grandchild) and time.time() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild)


def test_a_caller_cannot_turn_the_new_session_off():
    with pytest.raises(ValueError, match="always starts a new session"):
        run([sys.executable, "-c", "pass"], start_new_session=False)
