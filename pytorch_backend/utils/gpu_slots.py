"""GPU slots for concurrent local jobs: each job gets GPU ids no other running job holds.

Snakemake counts ``--resources gpu=N`` but assigns no device ids, so two jobs started side
by side would both use GPU 0. Here every GPU id of a pool has a lock file
(``<lock_dir>/gpu<id>.lock``); a job takes ``flock`` exclusive locks on as many free ids as
it needs and sets ``CUDA_VISIBLE_DEVICES`` to them. The lock belongs to the open file: the
kernel drops it when the last process holding the file dies, however it dies (SIGKILL,
OOM, a crash), so slots never leak and there is no stale-lock clean-up.

:func:`run_with_gpus` ``exec``\\ s the job with the lock files still open (inheritable
descriptors), so the job itself -- not a wrapper that could die first -- holds its slots.

The pool is ``EMOTTS_GPUS`` (e.g. ``0,1,2,3``), else the ids in ``CUDA_VISIBLE_DEVICES``,
else ``0..torch.cuda.device_count()-1``. The lock dir is ``EMOTTS_GPU_LOCK_DIR``, else
``<tmp>/emotts-gpu-locks-<uid>`` (per machine: ids mean nothing elsewhere). Under a batch
scheduler (``SLURM_JOB_ID`` set) the scheduler already gives each job its own devices, so no
slots are taken.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("emotts.gpu")

POLL_SECONDS = 0.5


class GpuSlotError(RuntimeError):
    """A request no pool can satisfy (more GPUs than exist, a malformed pool, a timeout)."""


def parse_ids(text: str, source: str) -> list[str]:
    """``"0,1, 3"`` -> ``["0", "1", "3"]``; ids are device indices or GPU UUIDs (``GPU-...``)."""
    ids = [t.strip() for t in text.split(",") if t.strip()]
    for i in ids:
        if not (i.isdigit() or i.startswith(("GPU-", "MIG-"))):
            raise GpuSlotError(f"{source}: '{i}' is not a GPU index or UUID (expected e.g. 0,1,2)")
    if len(set(ids)) != len(ids):
        raise GpuSlotError(f"{source}: GPU id listed twice in '{text}'")
    return ids


def _cuda_device_count() -> int:
    """Visible CUDA devices; 0 without an NVIDIA driver (checked first: importing torch is slow)."""
    if not (os.path.exists("/proc/driver/nvidia") or os.path.exists("/dev/nvidia0")):
        return 0
    try:
        import torch

        return int(torch.cuda.device_count())
    except Exception:  # a broken driver: no GPUs rather than a failed job
        return 0


def detect_pool(env=None) -> list[str]:
    """The GPU ids jobs share (see the module doc); empty on a machine without GPUs."""
    env = os.environ if env is None else env
    if env.get("EMOTTS_GPUS", "").strip():
        return parse_ids(env["EMOTTS_GPUS"], "EMOTTS_GPUS")
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return parse_ids(visible, "CUDA_VISIBLE_DEVICES") if visible.strip() not in ("", "-1") else []
    return [str(i) for i in range(_cuda_device_count())]


def default_lock_dir(env=None) -> Path:
    env = os.environ if env is None else env
    if env.get("EMOTTS_GPU_LOCK_DIR"):
        return Path(env["EMOTTS_GPU_LOCK_DIR"])
    return Path(tempfile.gettempdir()) / f"emotts-gpu-locks-{os.getuid()}"


@dataclass
class Slots:
    """GPU ids held by this process through open, locked files (released by :meth:`release`
    or when the process ends)."""

    ids: list[str]
    files: list = field(default_factory=list)

    def release(self) -> None:
        for fh in self.files:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            finally:
                fh.close()
        self.files = []

    def __enter__(self) -> "Slots":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _try_lock(lock_dir: Path, gpu: str):
    """The open lock file of ``gpu`` when this call got its lock, else None."""
    fh = open(lock_dir / f"gpu{gpu}.lock", "a+")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        fh.close()
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")  # who holds it, for people looking at the dir
    fh.flush()
    return fh


def acquire(n: int, pool: list[str] | None = None, lock_dir=None, timeout: float | None = None,
            poll: float = POLL_SECONDS) -> Slots:
    """Lock ``n`` free ids of ``pool``, waiting (up to ``timeout`` seconds) while they are busy.

    Ids are taken all at once or not at all (a job holding half its GPUs while waiting for
    the rest could deadlock with another one doing the same).
    """
    pool = detect_pool() if pool is None else list(pool)
    if n <= 0:
        return Slots([])
    if n > len(pool):
        raise GpuSlotError(f"{n} GPU(s) requested but the pool has {len(pool)} ({','.join(pool) or 'none'}); "
                           "set EMOTTS_GPUS or lower the job's gpu resource")
    lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir()
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = None if timeout is None else time.monotonic() + timeout
    waited = False
    while True:
        held: list[tuple[str, object]] = []
        for gpu in pool:
            fh = _try_lock(lock_dir, gpu)
            if fh is not None:
                held.append((gpu, fh))
                if len(held) == n:
                    return Slots([g for g, _ in held], [f for _, f in held])
        for _, fh in held:  # not enough: give back what we took and wait
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()
        if deadline is not None and time.monotonic() >= deadline:
            raise GpuSlotError(f"no {n} free GPU(s) among {','.join(pool)} within {timeout} s "
                               f"(locks in {lock_dir})")
        if not waited:
            log.info("waiting for %d free GPU(s) among %s", n, ",".join(pool))
            waited = True
        time.sleep(poll)


def scheduler_assigns_devices(env=None) -> bool:
    """True under a batch scheduler that gives each job its own GPUs (SLURM)."""
    env = os.environ if env is None else env
    return bool(env.get("SLURM_JOB_ID"))


def run_with_gpus(n: int, command: list[str], timeout: float | None = None) -> None:
    """Take ``n`` GPU slots, set ``CUDA_VISIBLE_DEVICES`` and ``exec`` ``command`` (never returns).

    ``n == 0``, a scheduler that assigns devices, or a machine without GPUs: ``command`` runs
    as it is (on a machine without GPUs it then runs on the CPU).
    """
    if not command:
        raise GpuSlotError("no command to run")
    env = os.environ
    slots = Slots([])
    if n > 0 and not scheduler_assigns_devices():
        pool = detect_pool()
        if pool:
            slots = acquire(n, pool, timeout=timeout)
            env["CUDA_VISIBLE_DEVICES"] = ",".join(slots.ids)
            log.info("GPU slot(s) %s for: %s", ",".join(slots.ids), " ".join(command))
        else:
            log.info("no GPUs on this machine: running on the CPU")
    for fh in slots.files:  # the job keeps the locks across exec
        os.set_inheritable(fh.fileno(), True)
    os.execvpe(command[0], command, env)
