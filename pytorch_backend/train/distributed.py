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
"""

from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from pytorch_backend.train.device import choose_device

log = logging.getLogger("emotts.train")

COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=60)


@dataclass
class DistContext:
    """Where this process sits in the job: rank, world size, its device and the backend."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None

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


def setup(gpus: int = 0) -> DistContext:
    """Initialize the process group when launched by torchrun with several workers.

    Single process: the device of :func:`choose_device`. Several: rank ``r`` uses
    ``cuda:LOCAL_RANK`` (NCCL) when CUDA is available and GPUs were granted, else the CPU (gloo).
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
    if not dist.is_initialized():
        kwargs = {"device_id": device} if backend == "nccl" else {}
        # other ranks wait in a collective while rank 0 validates and writes checkpoints
        dist.init_process_group(backend, rank=rank, world_size=world, timeout=COLLECTIVE_TIMEOUT, **kwargs)
    log.info("rank %d of %d on %s (%s)", rank, world, device, backend)
    return DistContext(rank, world, local_rank, device, backend)


def cleanup(ctx: DistContext | None) -> None:
    if ctx is not None and ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def loss_terms(model: torch.nn.Module, batch: dict, step: int, use_amp: bool = False) -> dict:
    """``model.compute_loss(model.forward_batch(batch), batch, step)``, the forward under
    float16 autocast when ``use_amp`` (the loss itself in float32)."""
    device_type = next(model.parameters()).device.type
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


def all_reduce_sum(values: list[float], ctx: DistContext) -> list[float]:
    """Sum a few floats over the ranks (identity when not distributed)."""
    if not ctx.distributed:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def all_reduce_tensor(t: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum a tensor over the ranks in place (one collective; identity when not distributed)."""
    if ctx.distributed:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def broadcast_object(obj, ctx: DistContext, src: int = 0):
    """Rank ``src``'s ``obj`` on every rank (identity when not distributed)."""
    if not ctx.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src, device=ctx.device if ctx.backend == "nccl" else None)
    return box[0]


def gather_object(obj, ctx: DistContext) -> list | None:
    """Every rank's ``obj`` as a list on rank 0 (None elsewhere); ``[obj]`` when not distributed."""
    if not ctx.distributed:
        return [obj]
    out = [None] * ctx.world_size if ctx.is_main else None
    dist.gather_object(obj, out, dst=0)
    return out


def barrier(ctx: DistContext) -> None:
    if ctx.distributed:
        if ctx.backend == "nccl":
            dist.barrier(device_ids=[ctx.device.index])
        else:
            dist.barrier()
