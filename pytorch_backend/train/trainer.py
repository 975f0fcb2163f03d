"""The TTS training loop: bucketed batches, optimizer + schedule, validation, atomic
checkpoints, automatic resume, curves and attention plots.

Output directory layout (``out_dir``)::

    checkpoints/step_<N>.pt  model, optimizer, schedule, step, epoch, batches consumed in the
                             epoch, RNG states, AMP scaler, history, best so far, train seconds
    best.pt                  model weights + metadata of the lowest dev loss
    attention/step_<N>.png   teacher-forced alignment of one dev utterance
    curves.png               train and dev loss terms
    train.json               summary (see ``summary()``)
    train.done               written last

Resuming restores every piece of state, so a run stopped at step k and resumed ends with the
same parameters as one that never stopped (on CPU, where kernels are deterministic; on CUDA
with ``deterministic: true``).

Data-parallel training (``dist`` with several ranks, see ``train/distributed.py``): every rank
builds the same global batches and trains on its share; the training forward runs through
DistributedDataParallel, each rank's loss is weighted by its share of the global batch so the
averaged gradient is the global batch's, and the logged loss terms are summed over the ranks.
Only rank 0 validates and writes files; decisions that depend on files or clocks (resume,
stop, final outputs) are taken on rank 0 and shared, so the ranks never disagree about when
to stop. Checkpoints carry every rank's RNG state.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from pytorch_backend.data.sampler import BucketBatchSampler, DistributedBucketBatchSampler
from pytorch_backend.data.tts_dataset import collate
from pytorch_backend.plots.attention import plot_attention
from pytorch_backend.plots.curves import plot_curves
from pytorch_backend.train import checkpoints as ckpt
from pytorch_backend.train import distributed as ddp
from pytorch_backend.train.device import get_rng_state, set_rng_state, set_seed
from pytorch_backend.train.schedulers import LRSchedule, build_optimizer
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.train")

LOSS_TERMS_FOR_SELECTION = ("mel", "stop", "attn")


def dev_score(terms: dict) -> float:
    """The number best.pt is chosen by: mel + stop + (unweighted) guided-attention loss, so
    scores of different steps compare even when the guided-attention weight decays."""
    return float(sum(terms[k] for k in LOSS_TERMS_FOR_SELECTION if k in terms))


class Trainer:
    """Trains ``model`` (a Tacotron 2 family model) on ``train_set``, validating on ``dev_set``.

    ``conf`` is the ``train`` section of a TTS conf; ``meta`` is stored in best.pt so decoding
    can rebuild the model (name, model_conf, sizes, speakers, emotions, ...). ``dist`` is the
    process's place in a data-parallel job (None: one process on ``device``).
    """

    def __init__(self, model, train_set, dev_set, conf: dict, out_dir, device=None, meta: dict | None = None,
                 source="<conf>", dist: ddp.DistContext | None = None):
        self.dist = dist or ddp.DistContext(device=torch.device(device or "cpu"))
        self.is_main = self.dist.is_main
        device = self.dist.device if dist is not None else device
        self.model = model
        self.train_set = train_set
        self.dev_set = dev_set
        self.conf = conf
        self.out = Path(out_dir)
        self.device = torch.device(device or "cpu")
        self.meta = dict(meta or {})
        self.r = getattr(model, "r", 1)
        self.seed = int(conf.get("seed", 1))
        self.max_steps = int(conf["max_steps"])
        self.eval_interval = max(1, int(conf.get("eval_interval") or self.max_steps))
        self.save_interval = max(1, int(conf.get("save_interval") or self.max_steps))
        self.log_interval = max(1, int(conf.get("log_interval") or 20))
        self.keep = int(conf.get("keep_checkpoints", 3))
        self.grad_clip = conf.get("grad_clip")
        self.max_minutes = conf.get("max_minutes")
        self.use_amp = bool(conf.get("amp", True)) and self.device.type == "cuda"
        self.ckpt_dir = self.out / "checkpoints"
        self.model.to(self.device)
        # before the optimizer: on CUDA, wrapping swaps BatchNorm modules for SyncBatchNorm ones
        self.forward_train = ddp.wrap(self.model, self.dist, self.use_amp)
        self.optimizer = build_optimizer(self.model.parameters(), conf["optimizer"], source)
        self.schedule = LRSchedule.from_conf(conf, source)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.sampler = DistributedBucketBatchSampler(train_set.lengths, conf["batch_frames"],
                                                     conf.get("max_batch_size", 64), self.seed,
                                                     shuffle=bool(conf.get("bucket_shuffle", True)),
                                                     rank=self.dist.rank, world_size=self.dist.world_size)
        dev_sampler = BucketBatchSampler(dev_set.lengths, conf["batch_frames"],
                                         conf.get("max_batch_size", 64), self.seed, shuffle=False)
        self.dev_batches = dev_sampler.batches(0)
        # the dev utterance whose attention is plotted: the median-length one
        order = sorted(range(len(dev_set)), key=lambda i: (dev_set.lengths[i], i))
        self.plot_index = order[len(order) // 2] if order else None
        # state that checkpoints carry
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.train_seconds = 0.0
        self.history: dict = {"train": [], "dev": []}
        self.best_dev_loss: float | None = None
        self.best_step: int | None = None
        self.resumed_from: int | None = None
        self.num_params = sum(p.numel() for p in self.model.parameters())

    # -- state ---------------------------------------------------------------------------
    def state_dict(self, finished: bool = False, rng_per_rank: list | None = None) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "rng": get_rng_state(),
            "rng_per_rank": rng_per_rank or [],
            "world_size": self.dist.world_size,
            "history": self.history,
            "best_dev_loss": self.best_dev_loss,
            "best_step": self.best_step,
            "train_seconds": self.train_seconds,
            "finished": finished,
            "meta": self.meta,
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.step = int(state["step"])
        self.epoch = int(state["epoch"])
        self.batch_in_epoch = int(state["batch_in_epoch"])
        self.history = state.get("history") or {"train": [], "dev": []}
        self.best_dev_loss = state.get("best_dev_loss")
        self.best_step = state.get("best_step")
        self.train_seconds = float(state.get("train_seconds", 0.0))
        per_rank = state.get("rng_per_rank") or []
        if self.dist.rank == 0 or len(per_rank) == self.dist.world_size:
            set_rng_state(per_rank[self.dist.rank] if per_rank else state["rng"])
        else:  # written by another number of ranks: a fresh stream per rank, still seeded
            log.warning("checkpoint of %d rank(s) resumed by %d: rank %d reseeds its RNG",
                        max(1, len(per_rank)), self.dist.world_size, self.dist.rank)
            set_seed(self.seed + 1000003 * self.dist.rank + self.step)

    def save_checkpoint(self, finished: bool = False) -> None:
        """Rank 0 writes the checkpoint (every rank must call this: it gathers the RNG states)."""
        rngs = ddp.gather_object(get_rng_state(), self.dist) if self.dist.distributed else None
        if self.is_main:
            ckpt.save_atomic(self.state_dict(finished, rngs), ckpt.checkpoint_path(self.ckpt_dir, self.step))
            ckpt.prune(self.ckpt_dir, self.keep)

    def save_best(self) -> None:
        meta = dict(self.meta, step=self.step, dev_loss=self.best_dev_loss)
        ckpt.save_atomic({"model": self.model.state_dict(), "meta": meta}, self.out / "best.pt")

    def summary(self) -> dict:
        return {"num_params": self.num_params, "train_seconds": round(self.train_seconds, 2),
                "steps": self.step, "best_dev_loss": self.best_dev_loss, "best_step": self.best_step,
                "seed": self.seed, "device": str(self.device), "world_size": self.dist.world_size,
                "resumed_from": self.resumed_from,
                "last_dev": self.history["dev"][-1] if self.history["dev"] else None,
                "last_train": self.history["train"][-1] if self.history["train"] else None}

    # -- one step --------------------------------------------------------------------------
    def _to_device(self, batch: dict) -> dict:
        return {k: v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}

    def _forward_loss(self, batch: dict) -> dict:
        """Loss terms and the model output (``_out``) through the bare model (validation)."""
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.use_amp):
            out = self.model.forward_batch(batch)
        terms = self.model.compute_loss(out, batch, self.step)
        terms["_out"] = out
        return terms

    def train_step(self, indices: list[int]) -> dict:
        """One optimizer step on ``indices`` (this rank's :class:`Shard` when distributed)."""
        self.model.train()
        batch = self._to_device(collate([self.train_set[i] for i in indices], self.r))
        lr = self.schedule.apply(self.optimizer, self.step + 1)
        terms = dict(self.forward_train(batch, self.step))
        loss = terms["loss"]
        if self.dist.distributed:
            # DDP averages gradients over the ranks: weight each rank's loss by its share of the
            # global batch (x world size) so the average is the global batch's gradient
            weight = float(getattr(indices, "weight", 1.0 / self.dist.world_size))
            names = list(terms)
            values = torch.stack([terms[k].detach().float().reshape(()) for k in names])
            values = values * weight if weight else torch.zeros_like(values)  # a filler adds nothing
            reported = dict(zip(names, ddp.all_reduce_tensor(values, self.dist).tolist()))
            loss = loss * (weight * self.dist.world_size)
        else:
            reported = {k: float(v.detach()) for k, v in terms.items()}
        if not math.isfinite(reported["loss"]):
            raise FloatingPointError(f"non-finite loss at step {self.step + 1}: {reported['loss']}")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.grad_clip:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), float(self.grad_clip))
        self.scaler.step(self.optimizer)
        self.scaler.update()
        reported["lr"] = lr
        return reported

    # -- validation ------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self) -> dict:
        """Teacher-forced dev losses (batch-size weighted) and an attention plot.

        Runs under a forked, freshly seeded RNG so it never changes the training randomness.
        """
        self.model.eval()
        sums: dict[str, float] = {}
        count = 0
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            for indices in self.dev_batches:
                batch = self._to_device(collate([self.dev_set[i] for i in indices], self.r))
                terms = self._forward_loss(batch)
                terms.pop("_out")
                for k, v in terms.items():
                    sums[k] = sums.get(k, 0.0) + float(v) * len(indices)
                count += len(indices)
            if self.plot_index is not None:
                item = self.dev_set[self.plot_index]
                batch = self._to_device(collate([item], self.r))
                align = self._forward_loss(batch)["_out"]["alignments"][0].float().cpu().numpy()
                plot_attention(align, self.out / "attention" / f"step_{self.step}.png",
                               title=f"{item['utt']} (dev, teacher-forced) step {self.step}")
        return {k: v / max(1, count) for k, v in sums.items()}

    # -- main loop -------------------------------------------------------------------------
    def resume(self) -> bool:
        """Load the newest loadable checkpoint; True when it was written at the end of a run.

        Rank 0 chooses the checkpoint (or sets stale ones aside); the other ranks load the same file.
        """
        state = path = None
        if self.is_main:
            for directory in (self.ckpt_dir, self.out):  # leftovers of a write cut short by a kill
                ckpt.remove_stale_temps(directory)
            state, path = ckpt.load_newest(self.ckpt_dir, map_location=self.device)
            if state is not None:
                theirs = (state.get("meta") or {}).get("fingerprint")
                ours = self.meta.get("fingerprint")
                if ours and theirs != ours:
                    self._set_aside_stale(theirs)
                    state = path = None
        if self.dist.distributed:
            path = ddp.broadcast_object(None if path is None else str(path), self.dist)
            if path is not None and not self.is_main:
                state = ckpt.load_checkpoint(path, map_location=self.device)
            path = None if path is None else Path(path)
        if state is None:
            return False
        self.load_state_dict(state)
        self.resumed_from = self.step
        log.info("resumed from %s (step %d, epoch %d, batch %d of the epoch)", path, self.step,
                 self.epoch, self.batch_in_epoch)
        return bool(state.get("finished"))

    def _set_aside_stale(self, fingerprint) -> None:
        """Checkpoints of a different model/conf: move them (and best.pt) aside, never delete them."""
        stale = self.out / f"stale_{fingerprint or 'unknown'}"
        n = 0
        while stale.exists():
            n += 1
            stale = self.out / f"stale_{fingerprint or 'unknown'}.{n}"
        stale.mkdir(parents=True)
        self.ckpt_dir.rename(stale / self.ckpt_dir.name)
        if (self.out / "best.pt").is_file():
            (self.out / "best.pt").rename(stale / "best.pt")
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        log.warning("checkpoints in %s were trained with another conf; moved to %s, training from "
                    "scratch", self.ckpt_dir, stale)

    def _time_up(self) -> bool:
        return bool(self.max_minutes) and self.train_seconds >= float(self.max_minutes) * 60.0

    def _agree(self, flag: bool) -> bool:
        """True on every rank when it is true on any (clocks differ between ranks)."""
        if not self.dist.distributed:
            return flag
        return ddp.all_reduce_sum([1.0 if flag else 0.0], self.dist)[0] > 0

    def train(self, stop_after: int | None = None) -> dict:
        """Train until ``max_steps`` (or ``max_minutes``); returns the summary.

        ``stop_after`` stops (like a kill) after that many steps of this call, without the
        final outputs: used to test resuming.
        """
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
        done_marker = self.out / "train.done"
        # rank 0 draws the single-process stream; other ranks their own (dropout differs per rank)
        set_seed(self.seed + 1000003 * self.dist.rank)
        finished = self.resume() and (self.step >= self.max_steps or self._time_up())
        action = "train"
        if self.is_main:
            if finished and done_marker.is_file() and (self.out / "best.pt").is_file():
                action = "done"
            else:
                done_marker.unlink(missing_ok=True)
                if finished or self._time_up():  # e.g. the checkpoint says done but outputs are missing
                    action = "finish"
        action = ddp.broadcast_object(action, self.dist)
        if action == "done":
            log.info("training already finished at step %d; nothing to do", self.step)
            return self.summary()
        if action == "finish":
            return self._finish(evaluated=False)
        log.info("training %s parameters on %s from step %d to %d", f"{self.num_params:,}", self.device,
                 self.step, self.max_steps)
        self.sampler.set_epoch(self.epoch, self.batch_in_epoch)
        interactive = sys.stderr.isatty()
        bar = tqdm(total=self.max_steps, initial=self.step, desc="train", unit="step",
                   mininterval=1.0 if interactive else 30.0, file=sys.stderr, dynamic_ncols=True,
                   disable=not self.is_main)
        window: dict[str, float] = {}
        window_n = 0
        window_t0 = time.time()
        t_last = time.time()
        steps_this_call = 0
        evaluated = False
        stop = False
        while not stop:
            for indices in self.sampler:
                terms = self.train_step(indices)
                self.step += 1
                self.batch_in_epoch += 1
                steps_this_call += 1
                bar.update(1)
                for k, v in terms.items():
                    window[k] = window.get(k, 0.0) + v
                window_n += 1
                evaluated = False
                if self.step % self.log_interval == 0:
                    avg = {k: v / window_n for k, v in window.items()}
                    rate = window_n / max(1e-9, time.time() - window_t0)
                    self.history["train"].append({"step": self.step, **{k: round(v, 5) for k, v in avg.items()}})
                    bar.set_postfix(loss=f"{avg['loss']:.3f}", attn=f"{avg.get('attn', 0):.3f}")
                    log.info("step %d epoch %d: %s lr %.2e (%.2f steps/s)", self.step, self.epoch,
                             " ".join(f"{k} {v:.4f}" for k, v in avg.items() if k != "lr"), avg["lr"], rate)
                    window, window_n, window_t0 = {}, 0, time.time()
                self.train_seconds += time.time() - t_last
                t_last = time.time()
                time_up = self._agree(self._time_up()) if self.max_minutes else False
                stop = (self.step >= self.max_steps or time_up
                        or (stop_after is not None and steps_this_call >= stop_after))
                if self.step % self.eval_interval == 0 or (stop and stop_after is None):
                    self._validate()
                    evaluated = True
                now = time.time()  # step and validation time count (before the checkpoint
                self.train_seconds += now - t_last  # records it)
                t_last = now
                if self.step % self.save_interval == 0 or stop:
                    self.save_checkpoint(finished=stop and stop_after is None)
                if stop:
                    break
            else:
                self.epoch += 1
                self.batch_in_epoch = 0
                self.sampler.set_epoch(self.epoch)
        bar.close()
        if stop_after is not None and self.step < self.max_steps and not self._time_up():
            return self.summary()
        return self._finish(evaluated)

    def _validate(self) -> None:
        """Dev losses, best.pt and curves (rank 0 only; other ranks return at once)."""
        if not self.is_main:
            return
        terms = self.evaluate()
        score = dev_score(terms)
        row = {"step": self.step, **{k: round(v, 5) for k, v in terms.items()}}
        self.history["dev"].append(row)
        improved = self.best_dev_loss is None or score < self.best_dev_loss
        if improved:
            self.best_dev_loss = round(score, 6)
            self.best_step = self.step
            self.save_best()
        plot_curves(self.history, self.out / "curves.png", title=self.out.parent.name)
        log.info("dev step %d: %s score %.4f%s", self.step,
                 " ".join(f"{k} {v:.4f}" for k, v in terms.items()), score, " (best)" if improved else "")

    def _finish(self, evaluated: bool) -> dict:
        need = self.is_main and (not evaluated or not (self.out / "best.pt").is_file())
        if self._agree(need):
            self._validate()
            self.save_checkpoint(finished=True)
        summary = self.summary()
        if not self.is_main:
            ddp.barrier(self.dist)  # rank 0 writes the final outputs
            return summary
        plot_curves(self.history, self.out / "curves.png", title=self.out.parent.name)
        write_text_atomic(self.out / "train.json", json.dumps(summary, indent=2) + "\n")
        write_text_atomic(self.out / "train.done", f"steps {self.step}\n")
        log.info("training finished: %d steps, %.1f s, best dev %.4f at step %s", self.step,
                 self.train_seconds, self.best_dev_loss if self.best_dev_loss is not None else math.nan,
                 self.best_step)
        ddp.barrier(self.dist)
        return summary
