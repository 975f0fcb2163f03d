"""Device choice, thread count, seeds, and RNG states that survive ``weights_only`` loading."""

from __future__ import annotations

import contextlib
import logging
import os
import random

import numpy as np
import torch

log = logging.getLogger("emotts.train")


def choose_device(gpus: int = 0) -> torch.device:
    """CUDA when it is available and at least one GPU was granted, else CPU."""
    if gpus >= 1 and torch.cuda.is_available():
        if gpus > 1:
            log.warning("%d GPUs granted to one process: it uses cuda:0 (several GPUs train "
                        "through torchrun, as the Snakefile launches them)", gpus)
        return torch.device("cuda", 0)
    if gpus >= 1:
        log.warning("--gpus %d but CUDA is not available: running on the CPU", gpus)
    return torch.device("cpu")


def set_threads(threads: int | None = None) -> int:
    """``torch.set_num_threads`` from the argument, else ``OMP_NUM_THREADS``, else all cores."""
    n = threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or os.cpu_count() or 1
    torch.set_num_threads(int(n))
    return int(n)


def set_deterministic(enabled: bool) -> None:
    """Deterministic kernels on CUDA (the ``train.deterministic`` conf key).

    Sets ``CUBLAS_WORKSPACE_CONFIG`` (needed by cuBLAS for reproducible GEMMs; it must be in
    the environment before the first cuBLAS call, so call this before touching the GPU),
    ``torch.use_deterministic_algorithms`` (warn-only: an op without a deterministic CUDA
    kernel logs a warning instead of stopping a long run) and the cuDNN flags. CPU kernels
    used here are deterministic already. Off: torch's defaults (cuDNN benchmarking stays off:
    with variable-length batches it would re-tune for every new shape).
    """
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    else:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False


def set_seed(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators (CPU and every CUDA device) with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _cpu(t):
    """A generator state as a CPU tensor: a checkpoint loaded with ``map_location=<device>``
    carries its RNG states on that device, and numpy / ``torch.set_rng_state`` need CPU ones."""
    return t.detach().to("cpu") if torch.is_tensor(t) else torch.as_tensor(t)


def get_rng_state() -> dict:
    """Python, numpy, torch (and CUDA) generator states as CPU tensors and plain values."""
    py = random.getstate()
    np_state = np.random.get_state()
    state = {
        "python": {"version": py[0], "state": torch.tensor(py[1], dtype=torch.int64), "gauss": py[2]},
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "torch": torch.get_rng_state(),
        "cuda": [_cpu(s) for s in torch.cuda.get_rng_state_all()] if torch.cuda.is_available() else [],
    }
    return state


def set_rng_state(state: dict) -> None:
    """Restore a :func:`get_rng_state` state, wherever its tensors were loaded (moved to the CPU
    first). CUDA states are restored for the devices both the state and this process have."""
    py = state["python"]
    random.setstate((py["version"], tuple(int(x) for x in _cpu(py["state"]).tolist()), py["gauss"]))
    npy = state["numpy"]
    np.random.set_state(("MT19937", _cpu(npy["keys"]).numpy().astype(np.uint32), int(npy["pos"]),
                         int(npy["has_gauss"]), float(npy["cached_gaussian"])))
    torch.set_rng_state(_cpu(state["torch"]).to(torch.uint8))
    cuda = list(state.get("cuda") or [])
    if cuda and torch.cuda.is_available():
        n = min(len(cuda), torch.cuda.device_count())
        if n < len(cuda):
            log.warning("RNG state of %d CUDA device(s) restored on %d", len(cuda), n)
        for index in range(n):
            torch.cuda.set_rng_state(_cpu(cuda[index]).to(torch.uint8), index)


def rng_fork_devices() -> list[int]:
    """The CUDA devices whose generators a :func:`forked_rng` block must save and restore:
    every visible one (``torch.manual_seed`` reseeds them all), none without CUDA."""
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


@contextlib.contextmanager
def forked_rng(seed: int):
    """Run the block under generators freshly seeded with ``seed`` (Python, numpy, torch CPU and
    CUDA); every generator is put back afterwards, so e.g. a validation never changes the
    training run's random stream (dropout masks, sampling) on any device."""
    saved_py, saved_np = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=rng_fork_devices()):
        set_seed(seed)
        try:
            yield
        finally:
            random.setstate(saved_py)
            np.random.set_state(saved_np)
