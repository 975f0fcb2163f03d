"""The TTS training loop on the shared skeleton (``pytorch_backend/train/loop.py``): bucketed
batches, optimizer + schedule, AMP, validation with attention plots, best.pt, train.done.

Output directory layout (``out_dir``)::

    checkpoints/step_<N>.pt  model, optimizer, schedule, AMP scaler, epoch, batches consumed in
                             the epoch, best so far + what the skeleton adds (step, history, RNG
                             states, train seconds, finished flag, meta)
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
stop, final validation) are taken on rank 0 and shared, and every rank runs the same
collectives in the same order up to the final barrier. Checkpoints carry every rank's RNG state.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import torch

from pytorch_backend.data.sampler import BucketBatchSampler, DistributedBucketBatchSampler
from pytorch_backend.data.tts_dataset import collate
from pytorch_backend.plots.attention import plot_attention
from pytorch_backend.plots.curves import plot_curves
from pytorch_backend.train import checkpoints as ckpt
from pytorch_backend.train import distributed as ddp
from pytorch_backend.train.device import forked_rng
from pytorch_backend.train.loop import TrainingLoop
from pytorch_backend.train.schedulers import LRSchedule, build_optimizer
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.train")

LOSS_TERMS_FOR_SELECTION = ("mel", "stop", "attn")


def dev_score(terms: dict) -> float:
    """The number best.pt is chosen by: mel + stop + (unweighted) guided-attention loss, so
    scores of different steps compare even when the guided-attention weight decays."""
    return float(sum(terms[k] for k in LOSS_TERMS_FOR_SELECTION if k in terms))


class Trainer(TrainingLoop):
    """Trains ``model`` (a :class:`pytorch_backend.tts.base.TTSModel`) on ``train_set``,
    validating on ``dev_set``.

    ``conf`` is the ``train`` section of a TTS conf; ``meta`` is stored in best.pt so decoding
    can rebuild the model (name, model_conf, sizes, speakers, emotions, ...). ``dist`` is the
    process's place in a data-parallel job (None: one process on ``device``).
    """

    def __init__(self, model, train_set, dev_set, conf: dict, out_dir, device=None, meta: dict | None = None,
                 source="<conf>", dist: ddp.DistContext | None = None):
        super().__init__(out_dir, conf, seed=int(conf.get("seed", 1)), device=device, dist=dist, meta=meta)
        self.model = model
        self.train_set = train_set
        self.dev_set = dev_set
        self.conf = conf
        self.r = getattr(model, "r", 1)
        self.grad_clip = conf.get("grad_clip")
        self.use_amp = bool(conf.get("amp", True)) and self.device.type == "cuda"
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
        # trainer state that checkpoints carry (the skeleton adds step, history, RNG, ...)
        self.epoch = 0
        self.batch_in_epoch = 0
        self.best_dev_loss: float | None = None
        self.best_step: int | None = None
        self._batches = None
        self.num_params = sum(p.numel() for p in self.model.parameters())

    # -- state ---------------------------------------------------------------------------
    def trainer_state(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "best_dev_loss": self.best_dev_loss,
            "best_step": self.best_step,
        }

    def load_trainer_state(self, state: dict) -> None:
        # loaded on the CPU: load_state_dict copies into the device's parameters, and the
        # optimizer moves its state to the device of each parameter
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.epoch = int(state["epoch"])
        self.batch_in_epoch = int(state["batch_in_epoch"])
        self.best_dev_loss = state.get("best_dev_loss")
        self.best_step = state.get("best_step")
        self._batches = None

    def stale_files(self) -> list[Path]:
        return [self.out / "best.pt"]

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
    def next_batch(self) -> tuple:
        """``(indices,)``: this rank's share of the next global batch; a new epoch when the
        sampler runs out."""
        for _ in range(2):
            if self._batches is None:
                self.sampler.set_epoch(self.epoch, self.batch_in_epoch)
                self._batches = iter(self.sampler)
            for indices in self._batches:
                self.batch_in_epoch += 1
                return (indices,)
            self.epoch += 1
            self.batch_in_epoch = 0
            self._batches = None
        raise ValueError(f"no training batch in epoch {self.epoch} ({len(self.train_set)} utterances)")

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
            # one all-reduce of every term, on the training device (gloo: CPU, NCCL: the GPU)
            values = torch.stack([torch.as_tensor(terms[k]).detach().float().reshape(()).to(self.device)
                                  for k in names])
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

    def log_line(self, avg: dict[str, float]) -> str:
        return f"epoch {self.epoch}: " + super().log_line(avg)

    # -- validation ------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self) -> dict:
        """Teacher-forced dev losses (batch-size weighted) and an attention plot.

        Runs under forked, freshly seeded generators (CPU and CUDA) so it never changes the
        training randomness.
        """
        self.model.eval()
        sums: dict[str, float] = {}
        count = 0
        with forked_rng(self.seed):
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

    def validate(self) -> None:
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

    # -- main loop -------------------------------------------------------------------------
    def train(self, stop_after: int | None = None) -> dict:
        """Train until ``max_steps`` (or ``max_minutes``); returns the summary.

        ``stop_after`` stops (like a kill) after that many steps of this call, without the
        final outputs: used to test resuming.
        """
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
        done_marker = self.out / "train.done"
        self.seed_rank()
        state = self.resume()
        finished = bool(state and state.get("finished")) and self.done_training()
        action = "train"
        if self.is_main:
            if finished and done_marker.is_file() and (self.out / "best.pt").is_file():
                action = "done"
            else:
                done_marker.unlink(missing_ok=True)
                if finished or self.done_training():  # e.g. the checkpoint says done but outputs are missing
                    action = "finish"
        action = ddp.broadcast_object(action, self.dist, what="sharing whether training is done")
        if action == "done":
            log.info("training already finished at step %d; nothing to do", self.step)
            return self.summary()
        if action == "finish":
            return self._finish(evaluated=False)
        log.info("training %s parameters on %s from step %d to %d", f"{self.num_params:,}", self.device,
                 self.step, self.max_steps)
        if self.run(stop_after) == "stop_after":
            return self.summary()
        return self._finish(evaluated=self.evaluated_at == self.step)

    def _finish(self, evaluated: bool) -> dict:
        """The end-of-training protocol. Every rank runs the same collectives in this order:
        the final-validation agreement, (if agreed) the final checkpoint's RNG gather, and the
        barrier after rank 0's final outputs, so no rank is left waiting for another."""
        need = self.is_main and (not evaluated or not (self.out / "best.pt").is_file())
        if self.agree(need, "agreeing on a final validation"):
            self.run_validation()
            self.save_checkpoint(finished=True)
        summary = self.summary()
        if self.is_main:
            plot_curves(self.history, self.out / "curves.png", title=self.out.parent.name)
            write_text_atomic(self.out / "train.json", json.dumps(summary, indent=2) + "\n")
            write_text_atomic(self.out / "train.done", f"steps {self.step}\n")
            log.info("training finished: %d steps, %.1f s, best dev %.4f at step %s", self.step,
                     self.train_seconds, self.best_dev_loss if self.best_dev_loss is not None else math.nan,
                     self.best_step)
        ddp.barrier(self.dist, "waiting for rank 0's final outputs")
        return summary
