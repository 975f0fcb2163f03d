"""Optimizers and learning-rate schedules from the ``train`` conf.

Schedules are pure functions of the step (no hidden state), so resuming at step k gives
exactly the learning rate an uninterrupted run would use:

- ``noam``: linear warmup to ``lr`` over ``warmup_steps``, then ``lr * sqrt(warmup/step)``;
- ``exponential``: linear warmup, then exponential decay reaching ``min_lr`` at ``max_steps``;
- ``none``: constant ``lr``.

``noam`` and ``exponential`` never go below ``min_lr`` after the warmup.

The ``exponential`` decay is spread over ``max_steps``, so for it ``max_steps`` defines the
schedule, not only how long to train: :func:`schedule_defining_keys` says so, and a trainer
that resumes checkpoints written under other values of "how long" keys (a raised
``max_steps``) must treat it as part of what is trained (the TTS fingerprint does: raising
``max_steps`` of an exponential schedule retrains from scratch instead of resuming with a
learning rate that jumps back up).
"""

from __future__ import annotations

import math

import torch

from pytorch_backend.errors import ConfigError

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
SCHEDULES = ("noam", "exponential", "none")
# train-conf keys outside ``scheduler`` that a schedule's learning rate at a given step depends on
SCHEDULE_TRAIN_KEYS = {"exponential": ("max_steps",)}


def schedule_defining_keys(train_conf: dict) -> tuple[str, ...]:
    """The keys of a ``train`` conf (outside ``scheduler``) that change the learning rate of a
    given step under its schedule: ``("max_steps",)`` for ``exponential``, none otherwise."""
    name = (train_conf.get("scheduler") or {}).get("name", "none")
    return SCHEDULE_TRAIN_KEYS.get(name, ())


def build_optimizer(params, conf: dict, source="<conf>"):
    conf = dict(conf)
    name = conf.pop("name", "adam")
    if name not in OPTIMIZERS:
        raise ConfigError(source, f"unknown optimizer '{name}' (known: {', '.join(OPTIMIZERS)})",
                          key="train.optimizer.name")
    try:
        return OPTIMIZERS[name](params, lr=float(conf["lr"]), betas=tuple(conf.get("betas", (0.9, 0.999))),
                                eps=float(conf.get("eps", 1e-8)),
                                weight_decay=float(conf.get("weight_decay", 0.0)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(source, f"invalid optimizer settings: {exc}", key="train.optimizer") from None


class LRSchedule:
    def __init__(self, base_lr: float, name: str = "noam", warmup_steps: int = 0, min_lr: float = 0.0,
                 max_steps: int = 1, source="<conf>"):
        if name not in SCHEDULES:
            raise ConfigError(source, f"unknown scheduler '{name}' (known: {', '.join(SCHEDULES)})",
                              key="train.scheduler.name")
        self.base_lr = float(base_lr)
        self.name = name
        self.warmup = max(0, int(warmup_steps or 0))
        self.min_lr = float(min_lr or 0.0)
        self.max_steps = max(1, int(max_steps))

    @classmethod
    def from_conf(cls, train_conf: dict, source="<conf>") -> "LRSchedule":
        sched = dict(train_conf.get("scheduler") or {"name": "none"})
        return cls(train_conf["optimizer"]["lr"], sched.get("name", "none"), sched.get("warmup_steps", 0),
                   sched.get("min_lr", 0.0), train_conf["max_steps"], source)

    def lr_at(self, step: int) -> float:
        """Learning rate for optimizer step number ``step`` (1-based)."""
        step = max(1, step)
        if self.name == "none":
            return self.base_lr
        if self.warmup and step <= self.warmup:
            return self.base_lr * step / self.warmup
        if self.name == "noam":
            lr = self.base_lr * math.sqrt(self.warmup / step) if self.warmup else self.base_lr
        else:
            span = max(1, self.max_steps - self.warmup)
            ratio = self.min_lr / self.base_lr if self.min_lr > 0 else 1e-2
            lr = self.base_lr * ratio ** (min(step - self.warmup, span) / span)
        return max(lr, self.min_lr)

    def apply(self, optimizer, step: int) -> float:
        lr = self.lr_at(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        return lr

    def state_dict(self) -> dict:
        return {"name": self.name, "base_lr": self.base_lr, "warmup": self.warmup,
                "min_lr": self.min_lr, "max_steps": self.max_steps}
