"""Train the corpus's emotion classifier on real speech and score it on the real eval split.

Reads ``dump/<corpus>/<feats>/{train,dev,eval}/feats.scp`` + ``stats.npz`` and
``data/<corpus>/{train,dev,eval}/utt2emo``; writes into ``out``:
``model.pt`` (the best-on-dev weights as a plain dict, see ``save_classifier``),
``ser.json`` (scores on the real eval split), ``confusion_real_eval.png``, ``curves.png``
and ``done`` last. The best weights are kept in memory during training and written once
at the end, so a failing run leaves an earlier complete ``model.pt`` untouched.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
import time
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
from pytorch_backend.utils.fileio import atomic_open, atomic_path, write_text_atomic

log = logging.getLogger("emotts.ser")

SPLITS = ("train", "dev", "eval")


def ser_settings(ser_conf: dict) -> tuple[str, dict, dict]:
    """(classifier name, model_conf, train conf with schema defaults filled in)."""
    ser_conf = ser_conf or {}
    train = deep_merge(defaults_of(EVAL_SCHEMA["ser"]["train"]), ser_conf.get("train") or {})
    return ser_conf.get("model") or DEFAULT_CLASSIFIER, dict(ser_conf.get("model_conf") or {}), train


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


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


def train_ser(conf: dict, data_root, dump, out, source="conf/eval.yaml", progress: bool = True) -> dict:
    """Train, select on dev, score on eval; return the ``ser.json`` content."""
    from tqdm import tqdm

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

    seed_everything(int(tc["seed"]))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = build_classifier(model_name, model_conf, len(emotions), n_mels, source=source).to(device)
    predictor = EmotionPredictor(model, emotions, n_mels, device)
    optim = torch.optim.Adam(model.parameters(), lr=float(tc["lr"]), weight_decay=float(tc["weight_decay"]))
    rng = np.random.default_rng(int(tc["seed"]))
    sampler = BatchSampler(len(sets["train"]), int(tc["batch_size"]), rng)
    max_steps, eval_interval = int(tc["max_steps"]), max(1, int(tc["eval_interval"]))
    train = sets["train"]

    history, best = [], {"accuracy": -1.0, "loss": math.inf, "step": 0, "state": None}
    running, count = 0.0, 0
    start = time.time()
    bar = tqdm(range(1, max_steps + 1), desc="train ser", disable=not progress, mininterval=2.0)
    for step in bar:
        model.train()
        idx = sampler.next()
        x, lengths = pad_batch(random_crops([train.feats[i] for i in idx], int(tc["crop_frames"]), rng))
        labels = torch.from_numpy(train.labels[idx]).to(device)
        loss = nn.functional.cross_entropy(model(x.to(device), lengths.to(device)), labels)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        running, count = running + loss.item(), count + 1
        if step % eval_interval == 0 or step == max_steps:
            dev_loss, dev_acc = evaluate_set(predictor, sets["dev"])
            history.append({"step": step, "train_loss": running / count, "dev_loss": dev_loss,
                            "dev_accuracy": dev_acc})
            running, count = 0.0, 0
            if dev_acc > best["accuracy"] or (dev_acc == best["accuracy"] and dev_loss < best["loss"]):
                best = {"accuracy": dev_acc, "loss": dev_loss, "step": step,
                        "state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
            bar.set_postfix(dev_acc=f"{dev_acc:.3f}", best=f"{best['accuracy']:.3f}@{best['step']}")
            log.info("step %d: train loss %.4f, dev loss %.4f, dev accuracy %.4f",
                     step, history[-1]["train_loss"], dev_loss, dev_acc)
    train_seconds = time.time() - start

    out.mkdir(parents=True, exist_ok=True)
    (out / "done").unlink(missing_ok=True)
    save_classifier(out / "model.pt", best["state"], model_name, copy.deepcopy(model_conf), emotions,
                    n_mels, best["step"], best["accuracy"])
    final = EmotionPredictor.load(out / "model.pt", device)
    preds = final.predict(sets["eval"].feats)
    report = classification_report(sets["eval"].labels, preds, emotions)
    result = {
        **report,
        "split": "eval",
        "model_name": model_name,
        "num_params": int(sum(p.numel() for p in model.parameters())),
        "best_step": best["step"],
        "dev_accuracy": best["accuracy"],
        "train_seconds": round(train_seconds, 2),
        "max_steps": max_steps,
        "num_train_utts": len(sets["train"]),
        "num_dev_utts": len(sets["dev"]),
        "device": str(device),
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
             report["accuracy"], best["accuracy"], best["step"], train_seconds)
    return result
