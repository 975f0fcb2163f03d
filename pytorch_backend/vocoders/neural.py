"""The shared part of every trained (neural) vocoder: the registry-facing ``NeuralVocoder``
(load a trained generator from ``exp/<corpus>_voc_<name>/model.pt`` and synthesize) and the
checkpoint contract the trainer (vocoders/train.py) writes.

A subclass names its generator and discriminator classes, its objective (``gan``: generator
+ discriminators with reconstruction, adversarial and feature-matching losses; ``likelihood``:
the generator's own ``loss``), and its training defaults. Generators implement
``infer(mel (B, n_mels, T)) -> (B, T * hop)``; GAN generators also ``forward(mel) -> (B, 1, samples)``,
likelihood ones ``loss(wav, mel) -> {term: tensor}`` with the optimized total under ``loss``.

Model files are plain dicts (``torch.load(weights_only=True)``) holding ``vocoder`` (the
registry name), ``generator_conf`` (keywords), ``feats`` (the feature settings trained on)
and ``model`` (the generator's state dict); loading a file of another vocoder type or of
other features is a DataError naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pytorch_backend.errors import DataError
from pytorch_backend.feats.logmel import LogMelExtractor
from pytorch_backend.utils.registry import constructor_keywords
from pytorch_backend.vocoders.base import Vocoder, VocoderArgError
from pytorch_backend.vocoders.layers import remove_weight_norm

MODEL_FILE = "model.pt"
FEATS_KEYS = ("fs", "hop_length", "n_mels", "n_fft", "fmin", "fmax", "log_floor")


def feats_signature(feats_conf: dict) -> dict:
    """The feature settings a trained vocoder depends on (checked when it is loaded)."""
    ext = LogMelExtractor.from_conf(feats_conf)
    return {"fs": ext.fs, "hop_length": ext.hop_length, "n_mels": ext.n_mels, "n_fft": ext.n_fft,
            "fmin": ext.fmin, "fmax": ext.fmax, "log_floor": ext.log_floor}


def check_kwargs(cls, kwargs: dict, where: str) -> None:
    """Unknown keywords of a model class are a VocoderArgError naming the key."""
    known = constructor_keywords(cls)
    for key in kwargs:
        if key not in known:
            raise VocoderArgError(f"{where}.{key}", f"unknown keyword of {cls.__name__} "
                                                    f"(known: {', '.join(sorted(known))})")


def load_model_file(path, expected: str, feats_conf: dict | None = None) -> dict:
    """Load a vocoder model/checkpoint file, checking it holds vocoder ``expected``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, f"trained vocoder file not found (train exp/<corpus>_voc_{expected} first)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise DataError(path, f"cannot load vocoder file: {exc}") from None
    if not isinstance(state, dict) or "vocoder" not in state or "model" not in state:
        raise DataError(path, "not a vocoder model file (no 'vocoder'/'model' entries)")
    if state["vocoder"] != expected:
        raise DataError(path, f"holds a '{state['vocoder']}' vocoder, but the conf asks for '{expected}'")
    if feats_conf is not None:
        want = feats_signature(feats_conf)
        got = state.get("feats", {})
        diff = [k for k in want if k in got and not np.isclose(float(got[k]), float(want[k]))]
        if diff:
            raise DataError(path, "trained on other features: " + ", ".join(
                f"{k} {got[k]} (now {want[k]})" for k in diff))
    return state


class NeuralVocoder(Vocoder):
    """A trained generator behind the Vocoder interface (log-mels in, float32 waveforms out)."""

    needs_model_dir = True
    name = ""  # registry name, written into model files
    objective = "gan"
    generator_cls: type = None
    discriminator_cls: type | None = None
    default_generator: dict = {}
    default_discriminator: dict = {}
    default_train: dict = {}  # overrides of vocoders.train.TRAIN_DEFAULTS

    def __init__(self, feats_conf: dict, batch_size: int = 1, device: str = "cpu", num_threads=None,
                 model_file: str = MODEL_FILE, model_dir=None):
        if int(batch_size) < 1:
            raise VocoderArgError("batch_size", f"must be >= 1, got {batch_size}")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if str(device).startswith("cuda") and not torch.cuda.is_available():
            raise VocoderArgError("device", "CUDA is not available on this machine (use cpu or auto)")
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        if num_threads:
            torch.set_num_threads(int(num_threads))
        ext = LogMelExtractor.from_conf(feats_conf)
        self.fs, self.hop_length, self.n_mels = ext.fs, ext.hop_length, ext.n_mels
        self.pad_value = float(np.log(ext.log_floor))
        self.generator = None
        if model_dir is not None:
            path = Path(model_dir) / model_file
            state = load_model_file(path, self.name, feats_conf)
            self.generator = self.build_generator(state["generator_conf"], feats_conf, source=path)
            self.generator.load_state_dict(state["model"])
            self.prepare_inference()

    @classmethod
    def build(cls, conf: dict, feats_conf: dict, model_dir=None) -> "NeuralVocoder":
        return cls(feats_conf=feats_conf, model_dir=model_dir, **conf)

    @classmethod
    def from_generator(cls, generator, feats_conf: dict, **kwargs) -> "NeuralVocoder":
        """Wrap an in-memory generator (training previews, tests, benchmarks)."""
        voc = cls(feats_conf=feats_conf, **kwargs)
        voc.generator = generator
        voc.prepare_inference()
        return voc

    # -- model construction ----------------------------------------------------------------
    @classmethod
    def build_generator(cls, gen_conf: dict, feats_conf: dict, source=None) -> torch.nn.Module:
        kwargs = {**cls.default_generator, **(gen_conf or {})}
        check_kwargs(cls.generator_cls, kwargs, "generator")
        sig = feats_signature(feats_conf)
        gen = cls.generator_cls(**cls.feats_kwargs(sig), **kwargs)
        hop = getattr(gen, "hop", sig["hop_length"])
        if hop != sig["hop_length"]:
            raise VocoderArgError("generator", f"the generator upsamples by {hop}, the features' hop "
                                               f"length is {sig['hop_length']}")
        return gen

    @classmethod
    def feats_kwargs(cls, sig: dict) -> dict:
        """Generator keywords taken from the features (default: the mel count)."""
        return {"in_channels": sig["n_mels"]}

    @classmethod
    def build_discriminator(cls, disc_conf: dict) -> torch.nn.Module | None:
        if cls.discriminator_cls is None:
            return None
        kwargs = {**cls.default_discriminator, **(disc_conf or {})}
        check_kwargs(cls.discriminator_cls, kwargs, "discriminator")
        return cls.discriminator_cls(**kwargs)

    def prepare_inference(self) -> None:
        self.generator = remove_weight_norm(self.generator).to(self.device).eval()

    # -- synthesis -------------------------------------------------------------------------
    def __call__(self, logmels: list[np.ndarray]) -> list[np.ndarray]:
        """One float32 waveform per log-mel matrix, ``frames * hop_length`` samples long."""
        if self.generator is None:
            raise RuntimeError(f"{type(self).__name__} has no trained generator loaded")
        order = sorted(range(len(logmels)), key=lambda i: len(logmels[i]))
        out: list[np.ndarray | None] = [None] * len(logmels)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                mats = [np.asarray(logmels[i], dtype=np.float32) for i in chunk]
                for m in mats:
                    if m.ndim != 2 or m.shape[1] != self.n_mels or m.shape[0] == 0:
                        raise ValueError(f"expected a frames x {self.n_mels} log-mel matrix, got {m.shape}")
                longest = max(len(m) for m in mats)
                batch = np.full((len(mats), longest, self.n_mels), self.pad_value, dtype=np.float32)
                for j, m in enumerate(mats):
                    batch[j, :len(m)] = m
                mel = torch.from_numpy(batch).transpose(1, 2).to(self.device)
                wav = self.generator.infer(mel).float().cpu().numpy()
                for j, (i, m) in enumerate(zip(chunk, mats)):
                    w = np.clip(wav[j, :len(m) * self.hop_length], -1.0, 1.0)
                    out[i] = np.ascontiguousarray(w, dtype=np.float32)
        return out
