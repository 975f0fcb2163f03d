"""Train the corpus's emotion classifier on real speech and score it on the real eval split.

Reads ``dump/<corpus>/<feats>/{train,dev,eval}/feats.scp`` + ``stats.npz`` and
``data/<corpus>/{train,dev,eval}/utt2emo``; writes into ``out``:
``model.pt`` (the best-on-dev weights as a plain dict, see ``save_classifier``),
``ser.json`` (scores on the real eval split), ``confusion_real_eval.png``, ``curves.png``
and ``done`` last. The best weights travel in the training checkpoints and ``model.pt`` is
written once at the end, so a failing run leaves an earlier complete ``model.pt`` untouched.

Training runs on the shared skeleton (``pytorch_backend/train/loop.py``): checkpoints
``checkpoints/step_<N>.pt`` every ``save_interval`` steps (the last ``keep_checkpoints`` kept)
hold the model, the optimizer, the batch sampler and its generator, the best weights so far
and the RNG states, so a killed run resumes from the newest one and ends exactly where an
uninterrupted run ends; ``max_minutes`` is a wall-clock budget over all runs of ``out``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pytorch_backend.config import EVAL_SCHEMA, deep_merge, defaults_of
from pytorch_backend.ser import DEFAULT_CLASSIFIER, build_classifier
from pytorch_backend.ser.curves import plot_ser_curves
from pytorch_backend.ser.data import BatchSampler, LabelledSet, load_labelled_set, pad_batch, random_crops
from pytorch_backend.ser.infer import EmotionPredictor
from pytorch_backend.ser.metrics import classification_report
from pytorch_backend.train.device import set_seed
from pytorch_backend.train.loop import TrainingLoop
from pytorch_backend.utils.fileio import atomic_open, atomic_path, write_text_atomic

log = logging.getLogger("emotts.ser")

SPLITS = ("train", "dev", "eval")


def ser_settings(ser_conf: dict) -> tuple[str, dict, dict]:
    """(classifier name, model_conf, train conf with schema defaults filled in)."""
    ser_conf = ser_conf or {}
    train = deep_merge(defaults_of(EVAL_SCHEMA["ser"]["train"]), ser_conf.get("train") or {})
    return ser_conf.get("model") or DEFAULT_CLASSIFIER, dict(ser_conf.get("model_conf") or {}), train


# train keys that say how long or how visibly to train, not what is trained: a checkpoint
# written under other values of these is resumed (e.g. max_steps raised = train longer)
LOOP_ONLY_KEYS = ("max_steps", "max_minutes", "eval_interval", "save_interval", "keep_checkpoints",
                  "log_interval")


def ser_fingerprint(model_name: str, model_conf: dict, train: dict, emotions, feats) -> str:
    """A hash of what defines the trained classifier; checkpoints of another one are not resumed."""
    what = {"model": model_name, "model_conf": model_conf, "emotions": list(emotions), "feats": feats,
            "train": {k: v for k, v in train.items() if k not in LOOP_ONLY_KEYS}}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]


def evaluate_set(predictor: EmotionPredictor, data: LabelledSet) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of full utterances."""
    predictor.model.eval()
    logits = torch.from_numpy(predictor.logits(data.feats))
    labels = torch.from_numpy(data.labels)
    loss = float(nn.functional.cross_entropy(logits, labels))
    acc = float((logits.argmax(dim=1) == labels).float().mean())
    return loss, acc


def save_classifier(path, state: dict, model_name: str, model_conf: dict, emotions, n_mels: int,
                    step: int, dev_accuracy: float) -> None:
    """Atomic ``torch.save`` of a plain dict (loadable with ``weights_only=True``)."""
    ckpt = {"model_state": state, "model_name": model_name, "model_conf": model_conf,
            "emotions": list(emotions), "n_mels": int(n_mels), "step": int(step),
            "dev_accuracy": float(dev_accuracy)}
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(ckpt, tmp)


class ClassifierTrainer(TrainingLoop):
    """The emotion classifier's training on the shared skeleton: random crops of shuffled
    batches, Adam, dev accuracy every ``eval_interval`` steps, the best-on-dev weights kept."""

    progress_label = "train ser"

    def __init__(self, model, sets: dict, tc: dict, out, device, meta: dict, progress: bool = True):
        super().__init__(out, tc, seed=int(tc["seed"]), device=device, meta=meta, progress=progress)
        self.model, self.sets, self.tc = model, sets, tc
        self.predictor = EmotionPredictor(model, meta["emotions"], meta["n_mels"], self.device)
        self.optim = torch.optim.Adam(model.parameters(), lr=float(tc["lr"]), weight_decay=float(tc["weight_decay"]))
        self.rng = np.random.default_rng(int(tc["seed"]))  # batches and crops
        self.sampler = BatchSampler(len(sets["train"]), int(tc["batch_size"]), self.rng)
        self.best = {"accuracy": -1.0, "loss": math.inf, "step": 0, "state": None}
        self.running, self.count = 0.0, 0  # train loss since the last evaluation

    def trainer_state(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optim.state_dict(),
                "sampler": {"order": torch.from_numpy(np.asarray(self.sampler.order, dtype=np.int64)),
                            "pos": int(self.sampler.pos), "rng": self.rng.bit_generator.state},
                "best": dict(self.best), "running": self.running, "count": self.count}

    def load_trainer_state(self, state: dict) -> None:
        # loaded on the CPU; load_state_dict moves weights and optimizer state to the device
        self.model.load_state_dict(state["model"])
        self.optim.load_state_dict(state["optimizer"])
        sampler = state["sampler"]
        self.rng.bit_generator.state = sampler["rng"]
        self.sampler.order = sampler["order"].cpu().numpy().astype(np.int64)
        self.sampler.pos = int(sampler["pos"])
        self.best = dict(state["best"])
        self.running, self.count = float(state["running"]), int(state["count"])

    def next_batch(self) -> tuple:
        train = self.sets["train"]
        idx = self.sampler.next()
        x, lengths = pad_batch(random_crops([train.feats[i] for i in idx], int(self.tc["crop_frames"]), self.rng))
        return x, lengths, torch.from_numpy(train.labels[idx])

    def train_step(self, x, lengths, labels) -> dict:
        self.model.train()
        logits = self.model(x.to(self.device), lengths.to(self.device))
        loss = nn.functional.cross_entropy(logits, labels.to(self.device))
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        self.optim.step()
        value = loss.item()
        self.running, self.count = self.running + value, self.count + 1
        return {"loss": value}

    def validate(self) -> None:
        dev_loss, dev_acc = evaluate_set(self.predictor, self.sets["dev"])
        row = {"step": self.step, "train_loss": self.running / max(1, self.count), "dev_loss": dev_loss,
               "dev_accuracy": dev_acc}
        self.history["dev"].append(row)
        self.running, self.count = 0.0, 0
        best = self.best
        if dev_acc > best["accuracy"] or (dev_acc == best["accuracy"] and dev_loss < best["loss"]):
            self.best = {"accuracy": dev_acc, "loss": dev_loss, "step": self.step,
                         "state": {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}}
        log.info("step %d: train loss %.4f, dev loss %.4f, dev accuracy %.4f (best %.4f at step %d)",
                 self.step, row["train_loss"], dev_loss, dev_acc, self.best["accuracy"], self.best["step"])


def train_ser(conf: dict, data_root, dump, out, source="conf/eval.yaml", progress: bool = True,
              stop_after: int | None = None) -> dict:
    """Train (or resume), select on dev, score on eval; return the ``ser.json`` content.

    ``stop_after``: stop after that many steps of this call (as if killed after a checkpoint),
    without the final outputs; returns None then.
    """
    from pytorch_backend.feats.stats import load_stats

    data_root, dump, out = Path(data_root), Path(dump), Path(out)
    emotions = list(conf["emotions"])
    model_name, model_conf, tc = ser_settings(conf.get("ser"))
    mean, std = load_stats(dump / "stats.npz")
    mean, std = np.asarray(mean, dtype=np.float32), np.asarray(std, dtype=np.float32)
    n_mels = int(mean.shape[-1])
    sets = {split: load_labelled_set(dump / split / "feats.scp", data_root / split / "utt2emo",
                                     emotions, mean, std) for split in SPLITS}
    log.info("emotion classifier '%s': %s", model_name,
             ", ".join(f"{s} {len(sets[s])} utts" for s in SPLITS))

    set_seed(int(tc["seed"]))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = build_classifier(model_name, model_conf, len(emotions), n_mels, source=source).to(device)
    meta = {"model_name": model_name, "emotions": emotions, "n_mels": n_mels,
            "fingerprint": ser_fingerprint(model_name, model_conf, tc, emotions, conf.get("feats"))}
    trainer = ClassifierTrainer(model, sets, tc, out, device, meta, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    trainer.resume()
    if trainer.run(stop_after) == "stop_after":
        return None
    best = trainer.best
    max_steps = trainer.max_steps

    (out / "done").unlink(missing_ok=True)
    save_classifier(out / "model.pt", best["state"], model_name, copy.deepcopy(model_conf), emotions,
                    n_mels, best["step"], best["accuracy"])
    final = EmotionPredictor.load(out / "model.pt", device)
    preds = final.predict(sets["eval"].feats)
    report = classification_report(sets["eval"].labels, preds, emotions)
    history = trainer.history["dev"]
    result = {
        **report,
        "split": "eval",
        "model_name": model_name,
        "num_params": int(sum(p.numel() for p in model.parameters())),
        "best_step": best["step"],
        "dev_accuracy": best["accuracy"],
        "train_seconds": round(trainer.train_seconds, 2),
        "max_steps": max_steps,
        "num_train_utts": len(sets["train"]),
        "num_dev_utts": len(sets["dev"]),
        "device": str(device),
        "resumed_from": trainer.resumed_from,
        "history": history,
    }
    with atomic_open(out / "ser.json") as fh:
        json.dump(result, fh, indent=2)
        fh.write("\n")
    from pytorch_backend.plots.confusion import plot_confusion

    plot_confusion(report["confusion"], emotions, out / "confusion_real_eval.png",
                   title=f"SER on real eval speech (accuracy {report['accuracy']:.3f})")
    plot_ser_curves(history, out / "curves.png")
    write_text_atomic(out / "done", f"accuracy {report['accuracy']:.4f}\n")
    log.info("emotion classifier: eval accuracy %.4f (best dev %.4f at step %d, %.1f s of training)",
             report["accuracy"], best["accuracy"], best["step"], trainer.train_seconds)
    return result
