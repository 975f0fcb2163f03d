"""Resolving the config of an experiment from the files under ``conf/``.

An experiment ``<corpus>_<model>`` is ``conf/corpus/<corpus>.yaml`` + ``conf/tts/<model>.yaml``
+ the feats and vocoder confs the corpus names + ``conf/eval.yaml`` + the optional
``conf/exp/<corpus>_<model>.yaml`` overrides. Each file is checked against its schema in
:mod:`pytorch_backend.config` (an unknown key is an error naming the file and the key path).
"""

from __future__ import annotations

from pathlib import Path

from pytorch_backend.config import (CORPUS_SCHEMA, EVAL_SCHEMA, EXP_SCHEMA, FEATS_SCHEMA, TTS_SCHEMA,
                                    VOCODER_SCHEMA, check_keys, deep_merge, load_checked, load_yaml)
from pytorch_backend.errors import ConfigError

TOKEN_TYPES = ("char", "phn", "bpe")
PROSODY_FEATS_KEYS = ("pitch_energy", "f0_method", "f0_floor", "f0_ceil")  # pitch/energy dump only


def list_confs(conf_dir, kind: str) -> list[str]:
    """The names of ``conf/<kind>/*.yaml``, sorted."""
    return sorted(p.stem for p in (Path(conf_dir) / kind).glob("*.yaml"))


def load_corpus_conf(conf_dir, corpus: str) -> dict:
    """``conf/corpus/<corpus>.yaml`` with defaults; ``name`` and ``recipe`` filled in."""
    path = Path(conf_dir) / "corpus" / f"{corpus}.yaml"
    conf = load_checked(path, CORPUS_SCHEMA)
    conf["name"] = conf["name"] or corpus
    if conf["name"] != corpus:
        raise ConfigError(path, f"name '{conf['name']}' differs from the file name '{corpus}'", key="name")
    conf["recipe"] = conf["recipe"] or corpus
    if conf["token_type"] not in TOKEN_TYPES:
        raise ConfigError(path, f"token_type must be char, phn or bpe, got '{conf['token_type']}'",
                          key="token_type")
    if not conf["emotions"] or len(set(conf["emotions"])) != len(conf["emotions"]):
        raise ConfigError(path, "emotions must be a non-empty list of distinct labels", key="emotions")
    return conf


def load_vocoder_conf(conf_dir, name: str) -> dict:
    """``conf/vocoder/<name>.yaml`` with defaults; its registry ``name`` defaults to the file name."""
    voc = load_checked(Path(conf_dir) / "vocoder" / f"{name}.yaml", VOCODER_SCHEMA)
    voc["name"] = voc["name"] or name
    return voc


def resolve_experiment(conf_dir, corpus: str, model: str) -> dict:
    """The full config of experiment ``<corpus>_<model>``:
    ``{exp, corpus, feats, feats_name, tts, vocoders: {name: {name, conf, train}}, eval}``."""
    conf_dir = Path(conf_dir)
    corpus_conf = load_corpus_conf(conf_dir, corpus)
    tts_path = conf_dir / "tts" / f"{model}.yaml"
    tts_conf = load_checked(tts_path, TTS_SCHEMA)
    if not tts_conf["model"]:
        raise ConfigError(tts_path, "missing the registry name of the model", key="model")
    resolved = {
        "exp": f"{corpus}_{model}",
        "corpus": corpus_conf,
        "feats": load_checked(conf_dir / "feats" / f"{corpus_conf['feats']}.yaml", FEATS_SCHEMA),
        "tts": tts_conf,
        "vocoders": {},
        "eval": load_checked(conf_dir / "eval.yaml", EVAL_SCHEMA),
    }
    exp_path = conf_dir / "exp" / f"{corpus}_{model}.yaml"
    if exp_path.is_file():
        override = load_yaml(exp_path)
        check_keys(override, EXP_SCHEMA, exp_path)
        resolved = deep_merge(resolved, override)
    for name in resolved["corpus"]["vocoders"]:
        if name not in resolved["vocoders"]:
            resolved["vocoders"][name] = load_vocoder_conf(conf_dir, name)
    resolved["feats_name"] = resolved["corpus"]["feats"]
    return resolved


def resolve_ser(conf_dir, corpus: str) -> dict:
    """What the corpus's shared emotion classifier depends on: not the pitch/energy options of
    the feats conf (it reads log-mels only, so editing those must not retrain it)."""
    corpus_conf = load_corpus_conf(conf_dir, corpus)
    feats_conf = load_checked(Path(conf_dir) / "feats" / f"{corpus_conf['feats']}.yaml", FEATS_SCHEMA)
    eval_conf = load_checked(Path(conf_dir) / "eval.yaml", EVAL_SCHEMA)
    mel_conf = {k: v for k, v in feats_conf.items() if k not in PROSODY_FEATS_KEYS}
    return {"emotions": corpus_conf["emotions"], "feats_name": corpus_conf["feats"],
            "feats": mel_conf, "ser": eval_conf["ser"]}


def resolve_asr(conf_dir, corpus: str) -> dict:
    """What the corpus's recognizer depends on: its text language, the log-mel options (not the
    pitch/energy ones) and ``eval.asr``."""
    corpus_conf = load_corpus_conf(conf_dir, corpus)
    feats_conf = load_checked(Path(conf_dir) / "feats" / f"{corpus_conf['feats']}.yaml", FEATS_SCHEMA)
    eval_conf = load_checked(Path(conf_dir) / "eval.yaml", EVAL_SCHEMA)
    mel_conf = {k: v for k, v in feats_conf.items() if k not in PROSODY_FEATS_KEYS}
    return {"language": corpus_conf["language"], "feats_name": corpus_conf["feats"], "feats": mel_conf,
            "asr": eval_conf["asr"]}
