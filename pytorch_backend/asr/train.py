"""Train the corpus's recognizer on its real train speech; score it on the real eval split.

Reads ``dump/<corpus>/<feats>/{train,dev,eval}/feats.scp`` + ``stats.npz`` and
``data/<corpus>/{train,dev,eval}/text``. Runs on the shared training skeleton
(``pytorch_backend.train.loop``): resumable atomic checkpoints in ``<out>/checkpoints/``, a
wall-clock budget (``max_minutes``), dev CER every ``eval_interval`` steps (the best-on-dev
weights are kept in the checkpoints). CTC loss, Adam, linear warm-up then cosine decay.

Writes into ``out``: ``model.pt`` (best-on-dev weights + vocabulary + normalization, see
``asr/infer.py``), ``asr.json`` (CER and WER on the real eval recordings, dev CER, size, time),
``curves.png`` and ``done`` last.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from pathlib import Path

import numpy as np
import torch

from pytorch_backend.asr import DEFAULT_RECOGNIZER, RECOGNIZERS
from pytorch_backend.asr.data import TranscribedSet, bucket_batches, load_transcribed_set, pad_batch
from pytorch_backend.asr.infer import Recognizer, save_recognizer
from pytorch_backend.asr.vocab import CharVocab
from pytorch_backend.config import EVAL_SCHEMA, deep_merge, defaults_of
from pytorch_backend.train.device import set_seed
from pytorch_backend.train.loop import TrainingLoop
from pytorch_backend.utils.edit_distance import error_rate
from pytorch_backend.utils.fileio import atomic_open, write_text_atomic

log = logging.getLogger("emotts.asr")

SPLITS = ("train", "dev", "eval")
# how long or how visibly to train, not what: checkpoints written under other values are resumed
NOT_FINGERPRINTED = ("max_minutes", "eval_interval", "save_interval", "log_interval", "keep_checkpoints")


def asr_settings(asr_conf: dict | None) -> tuple[str, dict, dict]:
    """(recognizer name, model_conf, train conf with the defaults filled in)."""
    asr_conf = asr_conf or {}
    train = deep_merge(defaults_of(EVAL_SCHEMA["asr"]["train"]), asr_conf.get("train") or {})
    return asr_conf.get("model") or DEFAULT_RECOGNIZER, dict(asr_conf.get("model_conf") or {}), train


def fingerprint(model_name: str, model_conf: dict, train: dict, chars, feats_conf) -> str:
    what = {"model": model_name, "model_conf": model_conf, "chars": list(chars), "feats": feats_conf,
            "train": {k: v for k, v in train.items() if k not in NOT_FINGERPRINTED}}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


def warmup_cosine(step: int, warmup: int, max_steps: int, final_ratio: float) -> float:
    """LR multiplier: linear warm-up over ``warmup`` steps, then cosine down to ``final_ratio``."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    span = max(1, max_steps - warmup)
    progress = min(1.0, (step - warmup) / span)
    return final_ratio + (1.0 - final_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def cer_of(recognizer: Recognizer, data: TranscribedSet) -> tuple[dict, list[str]]:
    hyps = recognizer.decode_normalized(data.feats)
    return error_rate(data.texts, hyps), hyps


class AsrTrainer(TrainingLoop):
    """CTC training of one recognizer on a :class:`TranscribedSet`, dev CER selection."""

    progress_label = "train asr"

    def __init__(self, model, vocab: CharVocab, train_set: TranscribedSet, dev_set: TranscribedSet, tc: dict,
                 out_dir, mean, std, language: str, device="cpu", meta: dict | None = None, progress: bool = True):
        super().__init__(out_dir, tc, seed=int(tc["seed"]), device=device, meta=meta, progress=progress)
        self.model = model.to(self.device)
        self.vocab, self.train_set, self.dev_set, self.tc = vocab, train_set, dev_set, tc
        self.recognizer = Recognizer(self.model, vocab, mean, std, language, self.device)
        self.targets = [torch.tensor(vocab.encode(t), dtype=torch.long) for t in train_set.texts]
        self.lengths = [len(f) for f in train_set.feats]
        self.optim = torch.optim.Adam(self.model.parameters(), lr=float(tc["lr"]),
                                      weight_decay=float(tc["weight_decay"]))
        warm, total, final = int(tc["warmup_steps"]), int(tc["max_steps"]), float(tc["final_lr_ratio"])
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.optim, lambda s: warmup_cosine(s, warm, total, final))
        self.batches: list[list[int]] = []
        self.batch_pos = 0
        self.best = {"cer": math.inf, "loss": math.inf, "step": 0, "state": None}

    # -- what the skeleton asks for ---------------------------------------------------------
    def trainer_state(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optim.state_dict(),
                "scheduler": self.sched.state_dict(), "batches": self.batches, "batch_pos": self.batch_pos,
                "best": self.best}

    def load_trainer_state(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optim.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        self.batches = [list(map(int, b)) for b in state["batches"]]
        self.batch_pos = int(state["batch_pos"])
        self.best = dict(state["best"])

    def check_checkpoint(self, state: dict, path: Path) -> None:
        if "batches" not in state or "best" not in state:
            raise RuntimeError(f"{path} is not a checkpoint of the recognizer trainer")

    def next_batch(self):
        if self.batch_pos >= len(self.batches):
            self.batches, self.batch_pos = bucket_batches(self.lengths, int(self.tc["batch_size"])), 0
        idx = self.batches[self.batch_pos]
        self.batch_pos += 1
        return (idx,)

    def train_step(self, idx) -> dict[str, float]:
        self.model.train()
        x, lengths = pad_batch([self.train_set.feats[i] for i in idx])
        targets = [self.targets[i] for i in idx]
        log_probs, out_len = self.model(x.to(self.device), lengths.to(self.device))
        loss = torch.nn.functional.ctc_loss(
            log_probs.transpose(0, 1), torch.cat(targets).to(self.device), out_len,
            torch.tensor([len(t) for t in targets], device=self.device), blank=0, reduction="mean",
            zero_infinity=True)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        if self.tc.get("grad_clip"):
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), float(self.tc["grad_clip"]))
        self.optim.step()
        lr = self.optim.param_groups[0]["lr"]
        self.sched.step()
        return {"loss": float(loss.detach()), "lr": float(lr)}

    def validate(self) -> None:
        stats, _ = cer_of(self.recognizer, self.dev_set)
        cer = stats["rate"]
        self.history["dev"].append({"step": self.step, "cer": round(cer, 5)})
        if cer < self.best["cer"]:
            self.best = {"cer": cer, "step": self.step,
                         "state": {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}}
        log.info("step %d: dev CER %.4f (best %.4f at step %d)", self.step, cer, self.best["cer"], self.best["step"])


def train_asr(conf: dict, data_root, dump, out, device="cpu", source="conf/eval.yaml", progress: bool = True,
              stop_after: int | None = None) -> dict | None:
    """Train (resuming), select on dev, score on real eval; return the ``asr.json`` content
    (None when ``stop_after`` stopped it early, as a kill would)."""
    from pytorch_backend.feats.stats import load_stats
    from pytorch_backend.plots.curves import plot_curves

    data_root, dump, out = Path(data_root), Path(dump), Path(out)
    language = conf.get("language") or "en"
    model_name, model_conf, tc = asr_settings(conf.get("asr"))
    RECOGNIZERS.check_keywords(model_name, model_conf, source)
    mean, std = load_stats(dump / "stats.npz")
    sets = {s: load_transcribed_set(dump / s / "feats.scp", data_root / s / "text", language, mean, std)
            for s in SPLITS}
    vocab = CharVocab.from_texts(sets["train"].texts)
    for split in ("dev", "eval"):
        unknown = sorted({ch for t in sets[split].texts for ch in t} - set(vocab.chars))
        if unknown:
            log.warning("%s text has characters never seen in train (counted as errors): %s", split,
                        "".join(unknown))
    log.info("recognizer '%s': %d characters; %s", model_name, len(vocab.chars),
             ", ".join(f"{s} {len(sets[s])} utts" for s in SPLITS))
    set_seed(int(tc["seed"]))  # the initial weights come from the seed too
    model = RECOGNIZERS.build(model_name, model_conf, source, vocab_size=len(vocab), n_mels=int(mean.shape[-1]))
    meta = {"fingerprint": fingerprint(model_name, model_conf, tc, vocab.chars, conf.get("feats"))}
    out.mkdir(parents=True, exist_ok=True)
    trainer = AsrTrainer(model, vocab, sets["train"], sets["dev"], tc, out, mean, std, language, device, meta,
                         progress)
    trainer.seed_rank()
    trainer.resume()
    reason = trainer.run(stop_after=stop_after)
    if reason == "stop_after":
        return None
    if trainer.best["state"] is None:  # resumed a finished run that never validated (not expected)
        trainer.run_validation()

    (out / "done").unlink(missing_ok=True)
    save_recognizer(out / "model.pt", trainer.best["state"], model_name, model_conf, vocab, int(mean.shape[-1]),
                    mean, std, language, trainer.best["step"], trainer.best["cer"])
    final = Recognizer.load(out / "model.pt", device)
    cer, hyps = cer_of(final, sets["eval"])
    wer = error_rate([t.split() for t in sets["eval"].texts], [h.split() for h in hyps])
    result = {
        "split": "eval",
        "cer": cer["rate"], "char_errors": cer["errors"], "ref_chars": cer["ref_length"],
        "wer": wer["rate"], "num_utts": len(sets["eval"]),
        "dev_cer": trainer.best["cer"], "best_step": trainer.best["step"],
        "model_name": model_name, "num_params": int(sum(p.numel() for p in model.parameters())),
        "chars": "".join(vocab.chars), "steps": trainer.step, "stopped": reason,
        "train_seconds": round(trainer.train_seconds, 2), "num_train_utts": len(sets["train"]),
        "device": str(trainer.device), "history": trainer.history,
        "examples": [{"utt": u, "ref": r, "hyp": h} for u, r, h in
                     list(zip(sets["eval"].utts, sets["eval"].texts, hyps))[:10]],
    }
    with atomic_open(out / "asr.json") as fh:
        json.dump(result, fh, indent=2)
        fh.write("\n")
    plot_curves(trainer.history, out / "curves.png", title="recognizer (CTC loss, dev CER)")
    write_text_atomic(out / "done", f"cer {cer['rate']:.4f}\n")
    log.info("recognizer: real eval CER %.4f, WER %.4f (best dev CER %.4f at step %d, %.1f s of training)",
             cer["rate"], wer["rate"], trainer.best["cer"], trainer.best["step"], trainer.train_seconds)
    return result
