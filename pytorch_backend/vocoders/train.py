"""Training a neural vocoder on a corpus: ``exp/<corpus>_voc_<name>/``.

Layout: ``checkpoints/step_<N>.pt`` (atomic, newest complete one resumed), ``train.json``
(conf, history, how it stopped), ``curves.png``, ``model.pt`` (the generator, for
synthesis; written last). Batches are random segments (vocoders/data.py) drawn from a
generator seeded by (seed, step), so a resumed run sees the batches the uninterrupted
run would have seen.

Objectives (the vocoder class's ``objective``):

- ``gan``: the generator is trained on reconstruction losses (``lambda_mel`` x log-mel L1,
  ``lambda_stft`` x multi-resolution STFT, ``lambda_subband_stft`` on PQMF sub-bands) from
  step 0; from ``disc_start_step`` on, the discriminators are updated (every
  ``disc_interval`` steps) with least-squares GAN losses and the generator also gets
  ``lambda_adv`` x adversarial + ``lambda_fm`` x feature-matching losses. Learning rates
  decay by ``lr_decay`` every ``lr_decay_interval`` steps (generator and discriminator).
- ``likelihood``: the generator's own ``loss`` (WaveNet cross-entropy / mixture NLL,
  WaveGlow flow NLL).

Fine-tuning (Shen et al. 2018): with ``teacher_forced: <tts model>`` the input mels are the
teacher-forced outputs of the trained TTS experiment ``<corpus>_<model>`` (vocoders/teacher_forced.py,
frame-aligned with the real audio) instead of the dumped real mels; with ``init_from: <vocoder>``
a new run starts from that trained vocoder's generator.

The loop itself -- resume from the newest complete checkpoint, the ``max_minutes`` wall-clock
budget (counted over every run of the exp dir; training stops cleanly after the step that
reaches it and writes its final files like a completed run, ``train.json`` says ``stopped:
max_minutes``), interval logging, keeping the last ``keep_checkpoints`` checkpoints, RNG
states -- is the shared skeleton of ``pytorch_backend/train/loop.py``. Checkpoints of another
vocoder type are an error; those of the same vocoder trained with another conf (a changed
generator, loss weight, learning rate, ...) are moved aside into ``stale_<fingerprint>/``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch

from pytorch_backend.config import FREE, check_keys, deep_merge, defaults_of
from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.plots.curves import plot_curves
from pytorch_backend.train.checkpoints import checkpoint_path, save_atomic
from pytorch_backend.train.loop import TrainingLoop
from pytorch_backend.utils.fileio import atomic_open
from pytorch_backend.vocoders.base import VocoderArgError
from pytorch_backend.vocoders.data import SegmentData
from pytorch_backend.vocoders.losses import (MelLoss, MultiResolutionSTFTLoss, discriminator_loss,
                                             feature_matching_loss, generator_adv_loss)
from pytorch_backend.vocoders.neural import MODEL_FILE, NeuralVocoder, feats_signature, load_model_file

log = logging.getLogger("emotts.vocoder")

TRAIN_SCHEMA = {
    "seed": 1,
    "max_steps": 2000,
    "max_minutes": None,  # wall-clock cap; stops cleanly (None: no cap)
    "batch_size": 8,
    "segment_frames": 32,  # frames per training segment (x hop samples)
    "generator": FREE,  # keywords of the generator class
    "discriminator": FREE,  # keywords of the discriminator class (GAN vocoders)
    "lr_g": 2.0e-4,
    "lr_d": 2.0e-4,
    "betas": [0.8, 0.99],
    "weight_decay": 0.0,
    "lr_decay": 1.0,  # multiply both learning rates by this ...
    "lr_decay_interval": 1000,  # ... every this many steps
    "grad_clip": 0.0,  # max gradient norm (0: no clipping)
    "disc_start_step": 0,  # generator-only warm-up before adversarial training
    "disc_interval": 1,  # discriminator update every this many steps (after the start)
    "lambda_mel": 0.0,
    "lambda_stft": 0.0,
    "lambda_subband_stft": 0.0,
    "lambda_adv": 1.0,
    "lambda_fm": 0.0,
    "stft_resolutions": [[1024, 120, 600], [2048, 240, 1200], [512, 50, 240]],
    "subband_stft_resolutions": [[384, 30, 150], [683, 60, 300], [171, 10, 60]],
    "log_interval": 20,
    "eval_interval": 200,
    "save_interval": 200,
    "keep_checkpoints": 2,
    "dev_utts": 4,  # dev utterances scored at each evaluation
    "num_threads": None,  # torch CPU threads (default: the job's)
    "init_from": None,  # fine-tuning: start from exp/<corpus>_voc_<init_from>/model.pt (same generator)
    "teacher_forced": None,  # fine-tuning: train on exp/<corpus>_<teacher_forced>/teacher_forced/ mels
}


def resolve_train_conf(cls: type[NeuralVocoder], train: dict, source) -> dict:
    """TRAIN_SCHEMA defaults < the class's defaults < the conf's ``train`` section (checked)."""
    check_keys(train or {}, TRAIN_SCHEMA, source, "train")
    conf = deep_merge(defaults_of(TRAIN_SCHEMA), cls.default_train)
    conf = deep_merge(conf, train or {})
    if int(conf["max_steps"]) < 1:
        raise ConfigError(source, "must be >= 1", key="train.max_steps")
    if int(conf["segment_frames"]) < 1 or int(conf["batch_size"]) < 1:
        raise ConfigError(source, "segment_frames and batch_size must be >= 1", key="train")
    return conf


# keys that say how long or how visibly to train, not what is trained (a checkpoint written
# under other values is resumed: e.g. max_steps raised = train longer)
LOOP_ONLY_KEYS = ("max_steps", "max_minutes", "log_interval", "eval_interval", "save_interval",
                  "keep_checkpoints", "dev_utts", "num_threads")


def vocoder_fingerprint(name: str, train_conf: dict, feats_conf: dict) -> str:
    """A hash of what defines the trained vocoder; checkpoints of another one are not resumed."""
    what = {"vocoder": name, "train": {k: v for k, v in train_conf.items() if k not in LOOP_ONLY_KEYS},
            "feats": feats_signature(feats_conf)}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]


class VocoderTrainer(TrainingLoop):
    """Builds the models and losses of one vocoder and runs (or resumes) its training."""

    def __init__(self, cls: type[NeuralVocoder], train_conf: dict, feats_conf: dict, out_dir,
                 source="<conf>", device: str = "cpu", progress: bool = True):
        super().__init__(out_dir, train_conf, seed=int(train_conf["seed"]), device=device,
                         meta={"vocoder": cls.name,
                               "fingerprint": vocoder_fingerprint(cls.name, train_conf, feats_conf)},
                         progress=progress)
        self.progress_label = f"train {cls.name}"
        self.cls, self.conf, self.feats_conf = cls, train_conf, feats_conf
        self.out_dir, self.source = Path(out_dir), source
        torch.manual_seed(int(train_conf["seed"]))
        try:
            self.generator = cls.build_generator(train_conf["generator"], feats_conf).to(self.device)
            self.discriminator = None
            if cls.objective == "gan":
                self.discriminator = cls.build_discriminator(train_conf["discriminator"]).to(self.device)
        except VocoderArgError as exc:
            raise ConfigError(source, str(exc), key=f"train.{exc.key}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(source, f"bad model keywords: {exc}", key="train") from None
        betas = tuple(float(b) for b in train_conf["betas"])
        self.opt_g = torch.optim.AdamW(self.generator.parameters(), float(train_conf["lr_g"]), betas=betas,
                                       weight_decay=float(train_conf["weight_decay"]))
        self.opt_d = None
        if self.discriminator is not None:
            self.opt_d = torch.optim.AdamW(self.discriminator.parameters(), float(train_conf["lr_d"]),
                                           betas=betas, weight_decay=float(train_conf["weight_decay"]))
        self.mel_loss = MelLoss(feats_conf).to(self.device)
        self.stft_loss = MultiResolutionSTFTLoss(train_conf["stft_resolutions"]).to(self.device)
        self.subband_loss = MultiResolutionSTFTLoss(train_conf["subband_stft_resolutions"]).to(self.device)
        self.train_data: SegmentData | None = None
        self.dev_data: SegmentData | None = None

    # -- checkpoints -----------------------------------------------------------------------
    def trainer_state(self) -> dict:
        return {"vocoder": self.cls.name, "model": self.generator.state_dict(),
                "generator_conf": copy.deepcopy(self.conf["generator"]),
                "feats": feats_signature(self.feats_conf),
                "discriminator": self.discriminator.state_dict() if self.discriminator is not None else {},
                "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict() if self.opt_d is not None else {}}

    def check_checkpoint(self, state: dict, path) -> None:
        if state.get("vocoder") != self.cls.name:
            raise DataError(path, f"checkpoint of a '{state.get('vocoder')}' vocoder, this run trains "
                                  f"'{self.cls.name}' (use another exp dir)")

    def load_trainer_state(self, state: dict) -> None:
        # loaded on the CPU; load_state_dict moves weights and optimizer state to the device
        self.generator.load_state_dict(state["model"])
        self.opt_g.load_state_dict(state["opt_g"])
        if self.discriminator is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.opt_d.load_state_dict(state["opt_d"])

    def after_checkpoint(self) -> None:
        self.plot()

    def init_generator(self, path) -> None:
        """Start from the generator of another trained vocoder (fine-tuning)."""
        state = load_model_file(path, self.cls.name, self.feats_conf)
        if state["generator_conf"] != self.conf["generator"]:
            raise DataError(path, "its generator differs from train.generator of this conf "
                                  f"({state['generator_conf']} vs {self.conf['generator']})")
        self.generator.load_state_dict(state["model"])
        log.info("initialized the generator from %s (step %s)", path, state.get("step"))

    # -- one step ----------------------------------------------------------------------------
    def lr_scale(self) -> float:
        return float(self.conf["lr_decay"]) ** (self.step // max(1, int(self.conf["lr_decay_interval"])))

    def _set_lr(self) -> None:
        scale = self.lr_scale()
        for opt, key in ((self.opt_g, "lr_g"), (self.opt_d, "lr_d")):
            if opt is not None:
                for group in opt.param_groups:
                    group["lr"] = float(self.conf[key]) * scale

    def _clip(self, params) -> None:
        if float(self.conf["grad_clip"]) > 0:
            torch.nn.utils.clip_grad_norm_(params, float(self.conf["grad_clip"]))

    def reconstruction(self, fake: torch.Tensor, real: torch.Tensor, bands=None) -> dict:
        c, terms = self.conf, {}
        if float(c["lambda_mel"]) > 0:
            terms["mel"] = self.mel_loss(fake, real)
        if float(c["lambda_stft"]) > 0:
            sc, mag = self.stft_loss(fake, real)
            terms["stft"] = sc + mag
        if bands is not None and float(c["lambda_subband_stft"]) > 0:
            sc, mag = self.subband_loss(bands[0], bands[1])
            terms["subband_stft"] = sc + mag
        return terms

    def train_step(self, mel: torch.Tensor, wav: torch.Tensor) -> dict:
        self._set_lr()
        self.generator.train()
        mel, wav = mel.to(self.device), wav.to(self.device)
        c = self.conf
        if self.cls.objective == "likelihood":
            terms = self.generator.loss(wav, mel)
            self.opt_g.zero_grad(set_to_none=True)
            terms["loss"].backward()
            self._clip(self.generator.parameters())
            self.opt_g.step()
            return {k: float(v.detach()) for k, v in terms.items()}

        bands = None
        if getattr(self.generator, "bands", 1) > 1:  # sub-band generator (multi-band MelGAN)
            sub = self.generator.forward_bands(mel)
            fake = self.generator.synthesize_bands(sub)
            bands = (sub, self.generator.analyze(wav.unsqueeze(1)))
        else:
            fake = self.generator(mel)
        fake = fake[..., :wav.shape[-1]]
        out = {}
        adversarial = self.step >= int(c["disc_start_step"])
        if adversarial and (self.step - int(c["disc_start_step"])) % max(1, int(c["disc_interval"])) == 0:
            self.discriminator.train()
            real_outs, _ = self.discriminator(wav.unsqueeze(1))
            fake_outs, _ = self.discriminator(fake.detach())
            d_loss = discriminator_loss(real_outs, fake_outs)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self._clip(self.discriminator.parameters())
            self.opt_d.step()
            out["disc"] = float(d_loss.detach())
        terms = self.reconstruction(fake.squeeze(1), wav, bands)
        total = sum(float(c[f"lambda_{k}"]) * v for k, v in terms.items())
        if adversarial:
            fake_outs, fake_feats = self.discriminator(fake)
            terms["adv"] = generator_adv_loss(fake_outs)
            total = total + float(c["lambda_adv"]) * terms["adv"]
            if float(c["lambda_fm"]) > 0:
                with torch.no_grad():
                    _, real_feats = self.discriminator(wav.unsqueeze(1))
                terms["fm"] = feature_matching_loss(real_feats, fake_feats)
                total = total + float(c["lambda_fm"]) * terms["fm"]
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self._clip(self.generator.parameters())
        self.opt_g.step()
        out.update({k: float(v.detach()) for k, v in terms.items()})
        out["loss"] = float(total.detach())
        return out

    # -- evaluation --------------------------------------------------------------------------
    def evaluate(self, dev: SegmentData) -> dict:
        """GAN vocoders: log-mel L1 of whole dev utterances generated from their mels;
        likelihood vocoders: their loss on fixed dev segments."""
        self.generator.eval()
        n = min(len(dev), int(self.conf["dev_utts"]))
        with torch.no_grad():
            if self.cls.objective == "likelihood":
                rng = np.random.default_rng([int(self.conf["seed"]), 7])
                mel, wav = dev.batch(rng, max(1, n), int(self.conf["segment_frames"]))
                return {k: float(v) for k, v in self.generator.loss(wav.to(self.device), mel.to(self.device)).items()}
            total = 0.0
            for i in range(n):
                mel = torch.tensor(dev.mels[i]).T.unsqueeze(0).to(self.device)
                fake = self.generator.infer(mel)[..., :len(dev.wavs[i])]
                real = torch.tensor(dev.wavs[i]).unsqueeze(0).to(self.device)
                total += float(self.mel_loss(fake, real))
            return {"mel": total / max(n, 1)}

    # -- the loop ----------------------------------------------------------------------------
    def next_batch(self):
        """``(mel, wav)``: random segments of step ``self.step``, drawn from generators seeded by
        (seed, step), so a resumed run sees the batches the uninterrupted run would have seen."""
        seed = int(self.conf["seed"])
        rng = np.random.default_rng([seed, self.step])
        torch.manual_seed(seed * 1_000_003 + self.step)
        return self.train_data.batch(rng, int(self.conf["batch_size"]), int(self.conf["segment_frames"]))

    def validate(self) -> None:
        if self.dev_data is not None and len(self.dev_data):
            self.history["dev"].append({"step": self.step, **self.evaluate(self.dev_data)})
            log.info("dev step %d: %s", self.step, self.history["dev"][-1])

    def fit(self, train: SegmentData, dev: SegmentData | None, progress: bool = True) -> dict:
        """Train (from the resumed step) to ``max_steps`` or the time budget; the final
        checkpoint, dev scores and curves are written; returns the run's summary."""
        self.train_data, self.dev_data, self.progress = train, dev, progress
        start_step = self.step
        t0 = time.monotonic()
        stopped = self.run()
        if dev is not None and len(dev) and (not self.history["dev"] or self.history["dev"][-1]["step"] != self.step):
            self.run_validation()
        if not checkpoint_path(self.ckpt_dir, self.step).exists():
            self.save_checkpoint(finished=True)
        self.plot()
        wall = time.monotonic() - t0
        info = {"vocoder": self.cls.name, "steps": self.step, "steps_this_run": self.step - start_step,
                "stopped": stopped, "wall_seconds_this_run": round(wall, 1),
                "train_seconds": round(self.train_seconds, 2), "resumed_from": self.resumed_from,
                "generator_params": sum(p.numel() for p in self.generator.parameters()),
                "dev": self.history["dev"][-1] if self.history["dev"] else None}
        return info

    def plot(self) -> None:
        plot_curves(self.history, self.out_dir / "curves.png", title=f"{self.cls.name} vocoder")

    def write_model(self) -> Path:
        """The generator for synthesis (written last: a present model.pt is a finished run)."""
        path = self.out_dir / MODEL_FILE
        save_atomic({"vocoder": self.cls.name, "step": self.step, "model": self.generator.state_dict(),
                     "generator_conf": copy.deepcopy(self.conf["generator"]),
                     "feats": feats_signature(self.feats_conf)}, path)
        return path


def train_vocoder(name: str, voc_conf: dict, feats_conf: dict, data_root, dump_dir, out_dir,
                  source=None, allow_pipes: bool = False, threads: int | None = None,
                  device: str = "cpu", progress: bool = True, init_model=None) -> dict:
    """Train (or resume) vocoder ``voc_conf`` = {name, conf, train} on ``data_root``/{train,dev}
    with the log-mels of ``dump_dir`` (``<split>/feats.scp``; teacher-forced ones when fine-tuning);
    ``init_model``: a model.pt to start from when there is no checkpoint yet. Writes ``out_dir``
    (see the module doc)."""
    from pytorch_backend.vocoders import VOCODERS

    source = source or f"conf/vocoder/{name}.yaml"
    reg = voc_conf.get("name") or name
    cls = VOCODERS.get(reg)
    if cls is None or not issubclass(cls, NeuralVocoder):
        trainable = sorted(k for k, v in VOCODERS.items() if issubclass(v, NeuralVocoder))
        raise ConfigError(source, f"'{reg}' is not a trainable vocoder (trainable: {', '.join(trainable)})",
                          key="name")
    conf = resolve_train_conf(cls, voc_conf.get("train") or {}, source)
    n_threads = conf["num_threads"] or threads
    if n_threads:
        torch.set_num_threads(int(n_threads))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    trainer = VocoderTrainer(cls, conf, feats_conf, out_dir, source=source, device=device, progress=progress)
    if trainer.resume() is None and init_model is not None:
        trainer.init_generator(init_model)
    data_root, dump_dir = Path(data_root), Path(dump_dir)
    train = SegmentData(data_root / "train", dump_dir / "train" / "feats.scp", feats_conf, allow_pipes,
                        progress=progress)
    dev = None
    if (dump_dir / "dev" / "feats.scp").is_file() and int(conf["dev_utts"]) > 0:
        dev = SegmentData(data_root / "dev", dump_dir / "dev" / "feats.scp", feats_conf, allow_pipes,
                          max_utts=int(conf["dev_utts"]))
    info = trainer.fit(train, dev, progress=progress)
    info["conf"] = conf
    info["history"] = trainer.history
    with atomic_open(out_dir / "train.json") as fh:
        json.dump(info, fh, indent=1)
        fh.write("\n")
    trainer.write_model()
    log.info("trained %s: %d steps (%s), dev %s", cls.name, info["steps"], info["stopped"], info["dev"])
    return info
