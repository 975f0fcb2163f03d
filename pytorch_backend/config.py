"""The schemas of the conf files, and the helpers to load, check and merge them.

Every conf file is checked against its schema below: an unknown key is an error naming the file
and the key path. Sections marked FREE hold the keyword arguments of a registered class (checked
by that registry) or corpus-specific preparation options (checked by ``local/<corpus>/``).
Resolving an experiment from the files under ``conf/`` is the workflow layer's job
(``pipeline/resolve.py``); the trainers here use the schemas for their own defaults.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from pytorch_backend.errors import ConfigError

FREE = object()  # a section whose keys are not fixed by this schema

CORPUS_SCHEMA = {
    "name": None,  # defaults to the file name
    "recipe": None,  # the package local/<recipe>/ that prepares it; defaults to name
    "language": "en",
    "root": None,  # where the downloaded (or generated) corpus lives
    "fs": 22050,  # native sample rate of the corpus audio
    "emotions": ["neutral"],  # the emotts label set of this corpus
    "label_map": FREE,  # corpus label -> emotts label
    "feats": "mel80",  # conf/feats/<feats>.yaml
    "token_type": "phn",  # char | phn | bpe
    "bpe_vocab_size": 200,
    "vocoders": ["griffin_lim"],  # conf/vocoder/<name>.yaml, one synth/eval dir each
    "allow_pipes": False,  # accept "cmd |" entries in wav.scp
    "prep": FREE,  # options of local/<recipe>/ (checked there)
}

FEATS_SCHEMA = {
    "fs": 22050,
    "n_fft": 1024,
    "hop_length": 256,
    "win_length": 1024,
    "window": "hann",
    "n_mels": 80,
    "fmin": 0.0,
    "fmax": 8000.0,
    "log_floor": 1e-5,
    "resample": True,  # resample audio whose rate differs from fs; error when False
    "trim_silence": True,
    "trim_top_db": 40.0,
    "trim_pad_ms": 20.0,
    "nj": 2,
    "pitch_energy": True,  # also dump frame-level F0 (pitch.scp) and log energy (energy.scp)
    "f0_method": "dio",  # dio (+ stonemask) | harvest (pyworld)
    "f0_floor": 60.0,  # F0 search range, Hz
    "f0_ceil": 700.0,
}

TTS_SCHEMA = {
    "model": None,  # registry name in pytorch_backend.tts
    "model_conf": FREE,  # keyword arguments of the model class
    "train": {
        "seed": 1,
        "max_steps": 2000,
        "batch_frames": 4000,  # a batch holds at most this many (padded) target frames
        "max_batch_size": 64,
        "bucket_shuffle": True,
        "optimizer": {"name": "adam", "lr": 1.0e-3, "betas": [0.9, 0.999], "eps": 1.0e-6,
                      "weight_decay": 1.0e-6},
        "scheduler": {"name": "noam", "warmup_steps": 400, "min_lr": 1.0e-5},
        "grad_clip": 1.0,
        "eval_interval": 200,
        "save_interval": 200,
        "keep_checkpoints": 3,
        "log_interval": 20,
        "ngpu": 1,
        "amp": True,  # used on CUDA only
        "num_threads": None,  # torch threads on CPU; default: the job's cores
        "max_minutes": None,  # optional wall-clock budget; training stops cleanly when reached
        "deterministic": False,  # CUDA: deterministic kernels (slower); CPU training is deterministic
    },
    "decode": {
        "split": "eval",
        "threshold": 0.5,
        "maxlenratio": 12.0,  # max output frames per input token
        "minlenratio": 0.0,
        "attention_window": None,  # [back, forward]: attention constraint of autoregressive decoding
        # emotion controls (pytorch_backend/tts/controls.py)
        "emotion": None,  # one label for every utterance (None: each utterance's own)
        "intensity": 1.0,  # 0..1, interpolation from `neutral` to the emotion
        "neutral": "neutral",  # the label of intensity 0
        "mix": FREE,  # {label_a: w, label_b: 1 - w}: a mixture of two emotions ({} or null: none)
        "style": "emotion_mean",  # latent models: emotion_mean | prior (emo_cvae)
        "reference_wav": None,  # gst/vae/emo_cvae: take the style of this recording
        "gst_weights": None,  # gst: manual style-token weights
        # spectral-contrast postfilter on the decoded log-mel (tts/postfilter.py); strength 1: none
        "postfilter": {"strength": 1.0, "width": 5},
        "num_attention_plots": 4,
        "seed": 1,
    },
}

VOCODER_SCHEMA = {
    "name": None,  # registry name in pytorch_backend.vocoders
    "conf": FREE,  # keyword arguments of the vocoder class
    "train": FREE,  # neural vocoders: training of exp/<corpus>_voc_<name> (vocoders/train.py TRAIN_SCHEMA)
}

EVAL_SCHEMA = {
    "split": "eval",
    "mcd": {"mcep_dim": None, "alpha": None},  # None: chosen by fs (ESPnet protocol)
    "f0": {"f0_floor": 60.0, "f0_ceil": 700.0, "frame_period": 5.0},
    "floor": True,  # analysis-synthesis floor: real mels through the same vocoder
    "intensity": {  # intensity check (eval/intensity.py): P(target emotion) at each level
        "levels": [0.0, 0.25, 0.5, 0.75, 1.0],
        "utts_per_emotion": 3,  # eval utterances per non-neutral emotion
        "griffin_lim": FREE,  # keywords of the Griffin-Lim vocoder used for it
    },
    "emotion_space": {  # 2-D maps of the train utterances' emotion embeddings (eval/emotion_space.py)
        "max_utts": 1000,
        "tsne": True,
        "perplexity": 30.0,
        "seed": 0,
    },
    # judges of synthesized speech from outside the corpus's emotion classifier
    "dnsmos": {  # naturalness: DNSMOS P.835 (signal, background, overall) + P.808 (eval/dnsmos.py)
        "enabled": True,
        "personalized": False,  # the personalized P.835 model (penalizes interfering talkers)
        "max_windows": None,  # 9.01-s windows scored per utterance at most (None: all, the DNS procedure)
    },
    "pocketsphinx": {  # word error rate of PocketSphinx's en-us model (eval/pocketsphinx_wer.py)
        "enabled": "auto",  # auto: English corpora not in skip_corpora; true; false
        "skip_corpora": [],  # corpora where auto leaves it off (e.g. eSpeak voices: too weak a judge)
    },
    "speaker_similarity": {  # Resemblyzer speaker embeddings (eval/speaker_sim.py)
        "enabled": "auto",  # auto: corpora with at least two speakers in the scored split; true; false
    },
    "asr": {  # intelligibility: a CTC recognizer trained on the real train split (pytorch_backend/asr)
        "model": "conv_bigru",  # registry name in pytorch_backend.asr.RECOGNIZERS
        "model_conf": FREE,
        "train": {
            "seed": 1,
            "max_steps": 1200,
            "batch_size": 24,  # utterances per step
            "lr": 2.0e-3,  # Adam peak learning rate
            "warmup_steps": 100,  # linear warm-up, then cosine decay to final_lr_ratio * lr
            "final_lr_ratio": 0.05,
            "weight_decay": 1.0e-6,
            "grad_clip": 5.0,
            "eval_interval": 200,  # steps between dev CER evaluations (the best is kept)
            "save_interval": 200,  # steps between checkpoints (training resumes from the newest)
            "log_interval": 50,
            "keep_checkpoints": 2,
            "max_minutes": None,  # optional wall-clock budget
        },
    },
    "ser": {
        "model": "cnn_pool",  # registry name in pytorch_backend.ser.CLASSIFIERS
        "model_conf": FREE,
        "train": {
            "seed": 1,
            "max_steps": 1500,
            "batch_size": 32,
            "lr": 1.0e-3,
            "weight_decay": 1.0e-4,
            "eval_interval": 100,
            "crop_frames": 200,
            # the training skeleton (pytorch_backend/train/loop.py): checkpoints, budget, logging
            "save_interval": 100,  # steps between checkpoints (a killed run resumes from the newest)
            "keep_checkpoints": 2,
            "log_interval": 50,
            "max_minutes": None,  # optional wall-clock budget; training stops cleanly when reached
        },
    },
}

EXP_SCHEMA = {
    "corpus": CORPUS_SCHEMA,
    "feats": FEATS_SCHEMA,
    "tts": TTS_SCHEMA,
    "vocoders": FREE,
    "eval": EVAL_SCHEMA,
}


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key, line: int):
        super().__init__(f"key '{key}' appears twice in one mapping (line {line}): the later one would "
                         "silently replace the earlier")
        self.key, self.line = key, line


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping (PyYAML keeps the last one quietly)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise _DuplicateKey(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path) -> dict:
    """``yaml.safe_load`` a mapping, refusing repeated keys; errors name the file (and line)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, "config file not found")
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except _DuplicateKey as exc:
        raise ConfigError(path, str(exc), key=str(exc.key)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, f"invalid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, f"expected a mapping at the top level, got {type(data).__name__}")
    return data


def check_keys(data: dict, schema, path, prefix: str = "") -> None:
    """Raise ConfigError for any key of ``data`` the schema does not know."""
    if schema is FREE or not isinstance(schema, dict):
        return
    if not isinstance(data, dict):
        raise ConfigError(path, f"expected a mapping, got {type(data).__name__}", key=prefix or None)
    for key, value in data.items():
        where = f"{prefix}.{key}" if prefix else str(key)
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise ConfigError(path, f"unknown key (known keys: {known})", key=where)
        sub = schema[key]
        if isinstance(sub, dict) and value is not None:
            check_keys(value, sub, path, where)


def defaults_of(schema) -> dict:
    out = {}
    for key, value in schema.items():
        if value is FREE:
            out[key] = {}
        elif isinstance(value, dict):
            out[key] = defaults_of(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def deep_merge(base: dict, override: dict) -> dict:
    """Return ``base`` updated recursively with ``override`` (neither is modified)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_checked(path, schema) -> dict:
    data = load_yaml(path)
    check_keys(data, schema, path)
    return deep_merge(defaults_of(schema), data)


def dump_yaml(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
