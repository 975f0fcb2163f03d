"""The training skeleton every trainer runs on (TTS models, neural vocoders, the emotion classifier).

A trainer subclasses :class:`TrainingLoop` and supplies what differs: the batches
(:meth:`~TrainingLoop.next_batch`: the arguments of one step), one optimizer step
(:meth:`~TrainingLoop.train_step`, loss terms as floats), validation (:meth:`~TrainingLoop.validate`) and the tensors its checkpoint
holds (:meth:`~TrainingLoop.trainer_state` / :meth:`~TrainingLoop.load_trainer_state`). The
skeleton owns what they share:

- **checkpoints** ``<out>/checkpoints/step_<N>.pt``: written atomically every ``save_interval``
  steps and when training stops, the newest ``keep_checkpoints`` kept; each holds the
  trainer's tensors plus the step, the training seconds so far, the history, the open
  log-interval window, the RNG states (every rank's under data parallelism) and a ``finished``
  flag;
- **resume** from the newest checkpoint that loads (a damaged newer one is skipped with a
  warning, temporary files of a killed write removed). Checkpoints are always loaded onto the
  CPU: model and optimizer tensors reach the training device through ``load_state_dict``, RNG
  states are restored on the CPU (numpy and ``torch.set_rng_state`` need CPU tensors). A
  checkpoint whose ``meta["fingerprint"]`` differs from this run's (another model or conf) is
  moved aside into ``stale_<fingerprint>/``, never deleted, and training starts afresh;
- **a wall-clock budget** ``max_minutes``: the training seconds of every run of this exp dir
  count (a resumed run continues the budget); training stops cleanly after the step that
  reaches it, with its final validation and checkpoint;
- **interval logging**: loss terms averaged over ``log_interval`` steps into
  ``history["train"]`` and the log; validation every ``eval_interval`` steps and at the end,
  under a forked, freshly seeded RNG (CPU and every CUDA device) so it never changes the
  training stream;
- **data parallelism**: every rank takes part in the same collectives in the same order, to the
  very end -- the stop decision, checkpoint writes (RNG states gathered to rank 0, which alone
  writes) and the final barrier; a rank that stops answering becomes an error naming the rank
  and the step after the process-group timeout (``train/distributed.py``).

A run stopped at step k (killed, or ``stop_after``) and resumed ends where an uninterrupted
run ends (bit for bit on CPU; on CUDA with deterministic kernels).
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from pytorch_backend.train import checkpoints as ckpt
from pytorch_backend.train import distributed as ddp
from pytorch_backend.train.device import forked_rng, get_rng_state, set_rng_state, set_seed

log = logging.getLogger("emotts.train")

STOP_REASONS = ("max_steps", "max_minutes", "stop_after")
# rank r of a data-parallel job draws from seed + RANK_SEED_STRIDE * r (rank 0: the single-process stream)
RANK_SEED_STRIDE = 1000003


class TrainingLoop:
    """Step counter, checkpoints, resume, time budget, logging and RNG state of one training run.

    ``conf`` holds the loop settings: ``max_steps`` (required), ``max_minutes``,
    ``log_interval`` (20), ``eval_interval`` and ``save_interval`` (default: ``max_steps``),
    ``keep_checkpoints`` (3; <= 0 keeps all). ``meta`` is stored in every checkpoint; its
    ``fingerprint`` (if any) must match for a checkpoint to be resumed.
    """

    progress_label = "train"

    def __init__(self, out_dir, conf: dict, *, seed: int, device=None, dist: ddp.DistContext | None = None,
                 meta: dict | None = None, progress: bool = True):
        self.dist = dist or ddp.DistContext(device=torch.device(device or "cpu"))
        self.is_main = self.dist.is_main
        self.device = self.dist.device if dist is not None else torch.device(device or "cpu")
        self.out = Path(out_dir)
        self.ckpt_dir = self.out / "checkpoints"
        self.seed = int(seed)
        self.meta = dict(meta or {})
        self.progress = progress
        self.max_steps = int(conf["max_steps"])
        self.max_minutes = conf.get("max_minutes")
        self.log_interval = max(1, int(conf.get("log_interval") or 20))
        self.eval_interval = max(1, int(conf.get("eval_interval") or self.max_steps))
        self.save_interval = max(1, int(conf.get("save_interval") or self.max_steps))
        self.keep = int(conf.get("keep_checkpoints", 3))
        # what checkpoints carry, besides the trainer's own state
        self.step = 0
        self.train_seconds = 0.0
        self.history: dict = {"train": [], "dev": []}
        self.window: dict[str, float] = {}  # sums of the loss terms since the last logged step
        self.window_n = 0
        self.resumed_from: int | None = None
        self.stopped: str | None = None
        self.evaluated_at: int | None = None  # the step of the latest validation of this run

    # -- what a trainer supplies --------------------------------------------------------------
    def trainer_state(self) -> dict:
        """The trainer's tensors and plain values for a checkpoint (model, optimizers, ...)."""
        raise NotImplementedError

    def load_trainer_state(self, state: dict) -> None:
        """Restore :meth:`trainer_state` from a checkpoint loaded onto the CPU: move tensors to
        ``self.device`` (``load_state_dict`` of modules and optimizers does)."""
        raise NotImplementedError

    def next_batch(self) -> tuple:
        """The positional arguments of :meth:`train_step` for optimizer step ``self.step + 1``."""
        raise NotImplementedError

    def train_step(self, *batch) -> dict[str, float]:
        """One optimizer step; returns the loss terms as floats (``loss`` among them)."""
        raise NotImplementedError

    def validate(self) -> None:
        """Dev scores at ``self.step`` (append to ``self.history["dev"]``); called on every rank."""

    def check_checkpoint(self, state: dict, path: Path) -> None:
        """Raise when ``state`` may never be resumed by this trainer (e.g. another model type)."""

    def after_checkpoint(self) -> None:
        """Called on rank 0 after each checkpoint write (e.g. to redraw curves)."""

    def log_line(self, avg: dict[str, float]) -> str:
        return " ".join(f"{k} {v:.4f}" for k, v in avg.items())

    # -- checkpoints --------------------------------------------------------------------------
    def state_dict(self, finished: bool = False, rng_per_rank: list | None = None) -> dict:
        return {
            **self.trainer_state(),
            "step": self.step,
            "train_seconds": self.train_seconds,
            "history": self.history,
            "log_window": {"sums": dict(self.window), "n": self.window_n},
            "rng": get_rng_state(),
            "rng_per_rank": rng_per_rank or [],
            "world_size": self.dist.world_size,
            "finished": bool(finished),
            "meta": self.meta,
        }

    def load_state_dict(self, state: dict) -> None:
        self.load_trainer_state(state)
        self.step = int(state["step"])
        self.train_seconds = float(state.get("train_seconds", 0.0))
        history = state.get("history") or {"train": [], "dev": []}
        self.history = json.loads(history) if isinstance(history, str) else history  # older vocoder checkpoints
        window = state.get("log_window") or {}
        self.window = {k: float(v) for k, v in (window.get("sums") or {}).items()}
        self.window_n = int(window.get("n", 0))
        self.restore_rng(state)

    def restore_rng(self, state: dict) -> None:
        """This rank's generators from a checkpoint (on the CPU, whatever the training device)."""
        per_rank = state.get("rng_per_rank") or []
        if len(per_rank) == self.dist.world_size or (self.dist.rank == 0 and "rng" in state):
            set_rng_state(per_rank[self.dist.rank] if len(per_rank) == self.dist.world_size else state["rng"])
        else:  # written by another number of ranks: a fresh stream for this rank, still seeded
            log.warning("checkpoint of %d rank(s) resumed by %d: rank %d reseeds its RNG",
                        max(1, len(per_rank)), self.dist.world_size, self.dist.rank)
            set_seed(self.seed + RANK_SEED_STRIDE * self.dist.rank + self.step)

    def save_checkpoint(self, finished: bool = False) -> None:
        """Every rank calls this (the RNG states are gathered); rank 0 writes and prunes."""
        rngs = ddp.gather_object(get_rng_state(), self.dist, "gathering RNG states for a checkpoint") \
            if self.dist.distributed else None
        if self.is_main:
            ckpt.save_atomic(self.state_dict(finished, rngs), ckpt.checkpoint_path(self.ckpt_dir, self.step))
            ckpt.prune(self.ckpt_dir, self.keep)
            self.after_checkpoint()

    def resume(self) -> dict | None:
        """Load the newest loadable checkpoint of this run (None: start from scratch).

        Rank 0 picks the file (or sets stale ones aside) and tells the others, which load the
        same file; an error on rank 0 (an incompatible checkpoint) is raised on every rank.
        """
        state = path = error = None
        if self.is_main:
            try:
                for directory in (self.ckpt_dir, self.out):  # leftovers of a write cut short by a kill
                    ckpt.remove_stale_temps(directory)
                state, path = ckpt.load_newest(self.ckpt_dir, map_location="cpu")
                if state is not None:
                    self.check_checkpoint(state, path)
                    theirs = (state.get("meta") or {}).get("fingerprint")
                    ours = self.meta.get("fingerprint")
                    if ours and theirs != ours:
                        self.set_aside_stale(theirs)
                        state = path = None
            except Exception as exc:  # noqa: BLE001 -- re-raised below, after telling the other ranks
                error = exc
        if self.dist.distributed:
            shared = ddp.broadcast_object(("error", str(error)) if error is not None else
                                          ("path", None if path is None else str(path)), self.dist,
                                          what="sharing the checkpoint to resume")
            if error is None and shared[0] == "error":
                raise RuntimeError(f"rank {self.dist.rank}: rank 0 could not resume: {shared[1]}")
            if shared[0] == "path" and shared[1] is not None and not self.is_main:
                path = Path(shared[1])
                state = ckpt.load_checkpoint(path, map_location="cpu")
        if error is not None:
            raise error
        if state is None:
            return None
        self.load_state_dict(state)
        self.resumed_from = self.step
        log.info("resumed from %s (step %d)", path, self.step)
        return state

    def stale_files(self) -> list[Path]:
        """Outputs besides checkpoints/ that belong to the checkpoints (moved aside with them)."""
        return []

    def set_aside_stale(self, fingerprint) -> Path:
        """Checkpoints of another model/conf: move them (and :meth:`stale_files`) aside."""
        stale = self.out / f"stale_{fingerprint or 'unknown'}"
        n = 0
        while stale.exists():
            n += 1
            stale = self.out / f"stale_{fingerprint or 'unknown'}.{n}"
        stale.mkdir(parents=True)
        self.ckpt_dir.rename(stale / self.ckpt_dir.name)
        for path in self.stale_files():
            if path.exists():
                shutil.move(str(path), str(stale / path.name))
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        log.warning("checkpoints in %s were trained with another conf; moved to %s, training from "
                    "scratch", self.ckpt_dir, stale)
        return stale

    # -- the loop -------------------------------------------------------------------------------
    def seed_rank(self) -> None:
        """Seed this rank's generators: rank 0 the single-process stream, others their own."""
        set_seed(self.seed + RANK_SEED_STRIDE * self.dist.rank)

    def time_up(self) -> bool:
        return bool(self.max_minutes) and self.train_seconds >= float(self.max_minutes) * 60.0

    def done_training(self) -> bool:
        return self.step >= self.max_steps or self.time_up()

    def agree(self, flag: bool, what: str = "agreeing on a decision") -> bool:
        """True on every rank when it is true on any (clocks and files differ between ranks)."""
        if not self.dist.distributed:
            return bool(flag)
        return ddp.all_reduce_sum([1.0 if flag else 0.0], self.dist, what)[0] > 0

    def run_validation(self) -> None:
        with forked_rng(self.seed):
            self.validate()
        self.evaluated_at = self.step

    def _log_window(self, rate: float) -> dict[str, float]:
        avg = {k: v / self.window_n for k, v in self.window.items()}
        self.history["train"].append({"step": self.step, **{k: round(v, 5) for k, v in avg.items()}})
        extra = f" lr {avg['lr']:.2e}" if "lr" in avg else ""
        log.info("step %d: %s%s (%.2f steps/s)", self.step,
                 self.log_line({k: v for k, v in avg.items() if k != "lr"}), extra, rate)
        self.window, self.window_n = {}, 0
        return avg

    def run(self, stop_after: int | None = None) -> str:
        """Train from ``self.step`` until ``max_steps`` or the time budget; returns why it stopped.

        ``stop_after``: stop after that many steps of this call (like a kill after a checkpoint:
        no final validation), to test resuming.
        """
        if self.done_training():
            self.stopped = "max_steps" if self.step >= self.max_steps else "max_minutes"
            return self.stopped
        bar = tqdm(total=self.max_steps, initial=self.step, desc=self.progress_label, unit="step",
                   mininterval=1.0 if sys.stderr.isatty() else 30.0, file=sys.stderr, dynamic_ncols=True,
                   disable=not (self.progress and self.is_main))
        window_t0 = t_last = time.time()
        steps_this_call = 0
        reason = None
        try:
            while reason is None:
                batch = self.next_batch()
                self.dist.step = self.step + 1
                with ddp.collective_errors(self.dist, "a training step (DDP gradient all-reduce)", mixed=True):
                    terms = self.train_step(*batch)
                bad = {k: v for k, v in terms.items() if not math.isfinite(v)}
                if bad:
                    raise FloatingPointError(f"non-finite loss at step {self.step + 1}: {bad}")
                self.step += 1
                steps_this_call += 1
                bar.update(1)
                for k, v in terms.items():
                    self.window[k] = self.window.get(k, 0.0) + v
                self.window_n += 1
                if self.step % self.log_interval == 0:
                    avg = self._log_window(self.log_interval / max(1e-9, time.time() - window_t0))
                    bar.set_postfix(loss=f"{avg.get('loss', math.nan):.3f}")
                    window_t0 = time.time()
                self.train_seconds += time.time() - t_last
                t_last = time.time()
                time_up = self.agree(self.time_up(), "agreeing on the time budget") if self.max_minutes else False
                if self.step >= self.max_steps:
                    reason = "max_steps"
                elif time_up:
                    reason = "max_minutes"
                    log.info("max_minutes (%s) reached at step %d", self.max_minutes, self.step)
                elif stop_after is not None and steps_this_call >= stop_after:
                    reason = "stop_after"
                if self.step % self.eval_interval == 0 or reason in ("max_steps", "max_minutes"):
                    self.run_validation()
                now = time.time()  # step and validation time count (before the checkpoint
                self.train_seconds += now - t_last  # records it)
                t_last = now
                if self.step % self.save_interval == 0 or reason is not None:
                    self.save_checkpoint(finished=reason in ("max_steps", "max_minutes"))
        finally:
            bar.close()
        self.stopped = reason
        return reason
