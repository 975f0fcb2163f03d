"""Multi-process data-parallel training (``torchrun`` + DistributedDataParallel).

``torchrun --standalone --nproc-per-node=N -m steps.train_tts ...`` starts N copies of the
training step with ``RANK``/``LOCAL_RANK``/``WORLD_SIZE`` and a free rendezvous port on
localhost in the environment (``--standalone`` picks the port, so concurrent jobs never
collide on one). :func:`setup` turns that environment into a :class:`DistContext`: one
process per GPU with NCCL, or, without CUDA, the same code path on CPU with gloo (what the
tests run).

The training forward AND the loss run through the DDP wrapper (:class:`LossForward`): DDP
only synchronizes gradients of parameters used inside the wrapped ``forward``, and some
models use parameters in their loss (the GST style classifier). The wrapper returns the loss
terms only, so DDP's search for unused parameters starts from exactly what is
back-propagated. Validation, inference and ``state_dict`` use the bare model, and only rank
0 writes files.

Every collective goes through the helpers below, which name what they were doing: when a
rank stops answering (killed, stuck, or raising on its own), the others fail after the
process-group timeout (``EMOTTS_DIST_TIMEOUT_MINUTES``, else the ``timeout_minutes`` given to
:func:`setup`, else :data:`DEFAULT_TIMEOUT_MINUTES`) with a :class:`CollectiveError` naming
this rank, the training step and the collective, instead of hanging. ``kill -USR1 <pid>`` makes
a rank print every thread's stack (faulthandler), for a job that seems stuck.
"""

from __future__ import annotations

import contextlib
import datetime
import faulthandler
import gc
import logging
import os
import re
import signal
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist

from pytorch_backend.train.device import choose_device

log = logging.getLogger("emotts.train")

# Ranks other than 0 wait in a collective while rank 0 validates and writes a checkpoint: the
# timeout must be longer than the longest validation, short enough that a lost rank is noticed.
DEFAULT_TIMEOUT_MINUTES = 30.0
TIMEOUT_ENV = "EMOTTS_DIST_TIMEOUT_MINUTES"


class CollectiveError(RuntimeError):
    """A collective failed or timed out on this rank: another rank died, hangs or left early."""


def process_group_timeout(minutes: float | None = None) -> datetime.timedelta:
    """The environment's ``EMOTTS_DIST_TIMEOUT_MINUTES``, else ``minutes``, else the default."""
    env = os.environ.get(TIMEOUT_ENV)
    if env:
        try:
            value = float(env)
        except ValueError:
            raise ValueError(f"{TIMEOUT_ENV}={env!r} is not a number of minutes") from None
    else:
        value = float(minutes) if minutes else DEFAULT_TIMEOUT_MINUTES
    if value <= 0:
        raise ValueError(f"the process-group timeout must be positive (got {value} minutes)")
    return datetime.timedelta(minutes=value)


@dataclass
class DistContext:
    """Where this process sits in the job: rank, world size, its device and the backend."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None
    timeout: datetime.timedelta | None = None
    step: int = 0  # the training step in progress (named by collective errors)

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def env_rank() -> int:
    return int(os.environ.get("RANK", "0") or 0)


def setup(gpus: int = 0, timeout_minutes: float | None = None) -> DistContext:
    """Initialize the process group when launched by torchrun with several workers.

    Single process: the device of :func:`choose_device`. Several: rank ``r`` uses
    ``cuda:LOCAL_RANK`` (NCCL) when CUDA is available and GPUs were granted, else the CPU (gloo);
    collectives time out after :func:`process_group_timeout`.
    """
    world = env_world_size()
    if world <= 1:
        return DistContext(device=choose_device(gpus))
    rank, local_rank = env_rank(), int(os.environ.get("LOCAL_RANK", "0") or 0)
    use_cuda = gpus >= 1 and torch.cuda.is_available()
    if use_cuda:
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(f"rank {rank}: LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} "
                               "visible GPU(s); launch as many workers as granted GPUs")
        torch.cuda.set_device(local_rank)
        device, backend = torch.device("cuda", local_rank), "nccl"
    else:
        if gpus >= 1:
            log.warning("rank %d: GPUs requested but CUDA is not available: gloo on CPU", rank)
        device, backend = torch.device("cpu"), "gloo"
    timeout = process_group_timeout(timeout_minutes)
    if not dist.is_initialized():
        kwargs = {"device_id": device} if backend == "nccl" else {}
        dist.init_process_group(backend, rank=rank, world_size=world, timeout=timeout, **kwargs)
    _register_stack_dump()
    log.info("rank %d of %d on %s (%s), collective timeout %s", rank, world, device, backend, timeout)
    return DistContext(rank, world, local_rank, device, backend, timeout)


def _register_stack_dump() -> None:
    """SIGUSR1 prints every thread's stack to stderr (how a test or a person sees where a rank waits)."""
    if hasattr(signal, "SIGUSR1"):
        try:
            faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
        except (ValueError, OSError, AttributeError):  # no usable stderr (e.g. closed)
            pass


def cleanup(ctx: DistContext | None, failed: bool | None = None) -> None:
    """End this rank's part in the job. After success: a last barrier (every rank is done with
    every collective) and the process group destroyed. After an error: the group is aborted
    without waiting for the others (a collective teardown would block on ranks still waiting
    in a collective); torchrun then stops the remaining ranks. ``failed`` None: an error is
    what is being handled (``cleanup`` called from a ``finally`` block while one propagates)."""
    if ctx is None or not ctx.distributed or not dist.is_initialized():
        return
    if failed is None:
        failed = sys.exc_info()[0] is not None
    if failed:
        abort = getattr(dist.GroupMember.WORLD, "abort", None)
        if abort is not None:  # torch without ProcessGroup.abort: teardown is left to process exit
            with contextlib.suppress(Exception):
                abort()
        return
    barrier(ctx, "the end-of-training barrier")
    # A DistributedDataParallel wrapper left to the garbage collector holds the group and gloo's
    # worker threads; freed only at interpreter exit, after the group is gone, it can end the
    # process in std::terminate (SIGABRT; seen once on CI after a stop_after run). Callers drop
    # their trainer first; collecting here frees what reference cycles still keep.
    gc.collect()
    dist.destroy_process_group()


# how gloo/NCCL/c10d failures read when they come out of a block that is not only a collective
_BACKEND_ERROR = re.compile(r"gloo|nccl|c10d|timed out|connection (closed|reset)|processgroup|broken pipe",
                            re.IGNORECASE)


@contextlib.contextmanager
def collective_errors(ctx: DistContext, what: str, mixed: bool = False):
    """Turn a failed/timed-out collective inside the block into a :class:`CollectiveError` that
    names this rank, the step and ``what`` was being done. ``mixed``: the block also runs other
    code (a training step with DDP's gradient all-reduce): only errors of the distributed
    backend are translated, a model's own error passes unchanged."""
    if not ctx.distributed:
        yield
        return
    try:
        yield
    except CollectiveError:
        raise
    except RuntimeError as exc:  # gloo/NCCL errors (DistBackendError and friends) are RuntimeErrors
        if mixed and not (isinstance(exc, getattr(dist, "DistError", ())) or _BACKEND_ERROR.search(str(exc))):
            raise
        others = ", ".join(str(r) for r in range(ctx.world_size) if r != ctx.rank)
        raise CollectiveError(
            f"rank {ctx.rank} of {ctx.world_size}, step {ctx.step}: {what} failed "
            f"(waited up to {ctx.timeout} for rank(s) {others}; one of them died, hangs or stopped "
            f"early): {exc}") from exc


def loss_terms(model: torch.nn.Module, batch: dict, step: int, use_amp: bool = False) -> dict:
    """``model.compute_loss(model.forward_batch(batch), batch, step)``, the forward under
    float16 autocast when ``use_amp`` (the loss itself in float32)."""
    device_type = next(model.parameters()).device.type
    if hasattr(model, "set_train_step"):
        model.set_train_step(step)
    with torch.autocast(device_type, dtype=torch.float16, enabled=use_amp):
        out = model.forward_batch(batch)
    return model.compute_loss(out, batch, step)


class LossForward(torch.nn.Module):
    """``forward(batch, step)`` = the loss terms of a batch: what DistributedDataParallel wraps."""

    def __init__(self, model: torch.nn.Module, use_amp: bool = False):
        super().__init__()
        self.model = model
        self.use_amp = use_amp

    def forward(self, batch: dict, step: int) -> dict:
        return loss_terms(self.model, batch, step, self.use_amp)


def wrap(model: torch.nn.Module, ctx: DistContext, use_amp: bool = False):
    """``f(batch, step) -> loss terms`` for training: DDP over :class:`LossForward` when
    distributed, else :func:`loss_terms` on the model itself.

    BatchNorm layers become SyncBatchNorm on CUDA (batch statistics over the global batch,
    as in single-GPU training); gloo/CPU keeps per-rank statistics (SyncBatchNorm needs a GPU).
    ``find_unused_parameters`` because some models leave parameters out of a step (e.g. a
    style encoder when the batch has no reference).
    """
    if not ctx.distributed:
        return lambda batch, step: loss_terms(model, batch, step, use_amp)
    if ctx.device.type == "cuda":
        torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(LossForward(model, use_amp), device_ids=ids,
                                                     find_unused_parameters=True)


def all_reduce_sum(values: list[float], ctx: DistContext, what: str = "summing values over the ranks") -> list[float]:
    """Sum a few floats over the ranks (identity when not distributed)."""
    if not ctx.distributed:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    with collective_errors(ctx, what):
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def all_reduce_tensor(t: torch.Tensor, ctx: DistContext, what: str = "summing the loss terms") -> torch.Tensor:
    """Sum a tensor over the ranks in place (one collective; identity when not distributed)."""
    if ctx.distributed:
        with collective_errors(ctx, what):
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def broadcast_object(obj, ctx: DistContext, src: int = 0, what: str = "sharing rank 0's decision"):
    """Rank ``src``'s ``obj`` on every rank (identity when not distributed)."""
    if not ctx.distributed:
        return obj
    box = [obj]
    with collective_errors(ctx, what):
        dist.broadcast_object_list(box, src=src, device=ctx.device if ctx.backend == "nccl" else None)
    return box[0]


def gather_object(obj, ctx: DistContext, what: str = "gathering values on rank 0") -> list | None:
    """Every rank's ``obj`` as a list on rank 0 (None elsewhere); ``[obj]`` when not distributed."""
    if not ctx.distributed:
        return [obj]
    out = [None] * ctx.world_size if ctx.is_main else None
    with collective_errors(ctx, what):
        dist.gather_object(obj, out, dst=0)
    return out


def barrier(ctx: DistContext, what: str = "a barrier") -> None:
    if ctx.distributed:
        with collective_errors(ctx, what):
            if ctx.backend == "nccl":
                dist.barrier(device_ids=[ctx.device.index])
            else:
                dist.barrier()
