"""GPU slot allocator: concurrent jobs never share a GPU id, slots come back after a crash."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytorch_backend.utils import gpu_slots
from pytorch_backend.utils.gpu_slots import GpuSlotError, acquire, detect_pool
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent

# A fake GPU job: claims a marker file per visible id (O_EXCL: a second holder fails), works,
# gives the markers back. Exit 3 = an id was handed out twice.
FAKE_JOB = textwrap.dedent("""
    import os, sys, time
    held = sys.argv[1]
    ids = [i for i in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if i]
    assert len(ids) == int(sys.argv[2]), ids
    made = []
    for i in ids:
        try:
            os.close(os.open(os.path.join(held, i), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            sys.exit(3)
        made.append(os.path.join(held, i))
    with open(os.path.join(held, "log"), "a") as fh:
        fh.write(",".join(ids) + "\\n")
    time.sleep(0.3)
    for m in made:
        os.unlink(m)
""")


def job_env(tmp_path, pool="0,1,2", **extra):
    env = dict(os.environ)
    env.pop("SLURM_JOB_ID", None)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    env.update({"EMOTTS_GPUS": pool, "EMOTTS_GPU_LOCK_DIR": str(tmp_path / "locks"),
                "PYTHONPATH": str(REPO)})
    env.update(extra)
    return env


def with_gpus(n, *cmd, timeout=None):
    extra = ["--timeout", str(timeout)] if timeout is not None else []
    return [sys.executable, "-m", "steps.with_gpus", "--gpus", str(n), *extra, "--", *cmd]


def test_pool_from_env_and_visible_devices():
    assert detect_pool({"EMOTTS_GPUS": "0, 2,3"}) == ["0", "2", "3"]
    assert detect_pool({"CUDA_VISIBLE_DEVICES": "1,3"}) == ["1", "3"]
    assert detect_pool({"EMOTTS_GPUS": "4", "CUDA_VISIBLE_DEVICES": "1"}) == ["4"]
    assert detect_pool({"CUDA_VISIBLE_DEVICES": ""}) == []
    with pytest.raises(GpuSlotError, match="EMOTTS_GPUS: 'x1' is not a GPU index"):
        detect_pool({"EMOTTS_GPUS": "0,x1"})
    with pytest.raises(GpuSlotError, match="listed twice"):
        detect_pool({"EMOTTS_GPUS": "0,0"})


def test_acquire_takes_free_ids_and_releases(tmp_path):
    with acquire(2, ["0", "1", "2"], tmp_path) as a:
        assert a.ids == ["0", "1"]
        with acquire(1, ["0", "1", "2"], tmp_path) as b:
            assert b.ids == ["2"]
            with pytest.raises(GpuSlotError, match="no 1 free GPU"):
                acquire(1, ["0", "1", "2"], tmp_path, timeout=0.2, poll=0.05)
    with acquire(3, ["0", "1", "2"], tmp_path) as c:
        assert c.ids == ["0", "1", "2"]
    with pytest.raises(GpuSlotError, match="4 GPU\\(s\\) requested but the pool has 3"):
        acquire(4, ["0", "1", "2"], tmp_path)


def test_concurrent_jobs_never_share_an_id(tmp_path):
    held = tmp_path / "held"
    held.mkdir()
    script = tmp_path / "job.py"
    script.write_text(FAKE_JOB)
    sizes = [1, 2, 1, 1, 2, 1, 3, 1]
    procs = [subprocess.Popen(with_gpus(n, sys.executable, str(script), str(held), str(n)),
                              env=job_env(tmp_path), cwd=REPO, stderr=subprocess.PIPE, text=True)
             for n in sizes]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0] * len(sizes), results
    runs = (held / "log").read_text().split()
    assert sorted(len(r.split(",")) for r in runs) == sorted(sizes)
    assert all(set(r.split(",")) <= {"0", "1", "2"} for r in runs)
    assert sorted(p.name for p in held.iterdir()) == ["log"]


def test_slots_of_a_killed_job_are_freed(tmp_path):
    """The job holds the lock itself (exec); SIGKILL -> the kernel drops it -> the next job gets the id."""
    env = job_env(tmp_path, pool="0")
    ready = tmp_path / "ready"
    hold = f"import os, time; open({str(ready)!r}, 'w').write(os.environ['CUDA_VISIBLE_DEVICES']); time.sleep(60)"
    holder = subprocess.Popen(with_gpus(1, sys.executable, "-c", hold), env=env, cwd=REPO)
    try:
        for _ in range(600):
            if ready.exists() and ready.read_text():
                break
            assert holder.poll() is None
            time.sleep(0.05)
        assert ready.read_text() == "0"
        busy = run_in_group(with_gpus(1, sys.executable, "-c", "pass", timeout=0.3), env=env, cwd=REPO,
                              capture_output=True, text=True)
        assert busy.returncode == 1 and "no 1 free GPU(s) among 0" in busy.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    after = run_in_group(with_gpus(1, sys.executable, "-c", "import os; print(os.environ['CUDA_VISIBLE_DEVICES'])",
                                     timeout=10), env=env, cwd=REPO, capture_output=True, text=True)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "0"


def test_no_slots_without_gpus_request_or_under_slurm(tmp_path):
    show = [sys.executable, "-c", "import os; print(os.environ.get('CUDA_VISIBLE_DEVICES', 'unset'))"]
    out = run_in_group(with_gpus(0, *show), env=job_env(tmp_path), cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "unset"
    slurm = job_env(tmp_path, SLURM_JOB_ID="42", CUDA_VISIBLE_DEVICES="5")
    out = run_in_group(with_gpus(2, *show), env=slurm, cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "5"
    no_gpu = job_env(tmp_path, pool="")
    no_gpu["CUDA_VISIBLE_DEVICES"] = ""
    out = run_in_group(with_gpus(1, *show), env=no_gpu, cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == ""
    too_many = run_in_group(with_gpus(4, *show), env=job_env(tmp_path), cwd=REPO, capture_output=True,
                              text=True)
    assert too_many.returncode == 1
    assert "ERROR: --gpus: 4 GPU(s) requested but the pool has 3 (0,1,2)" in too_many.stderr


def test_detect_pool_without_driver_does_not_import_torch(monkeypatch):
    monkeypatch.setattr(gpu_slots.os.path, "exists", lambda p: False)
    assert detect_pool({}) == []
