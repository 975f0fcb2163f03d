"""The confs one Snakemake invocation reads, each read and checked once."""

from __future__ import annotations

import functools
from pathlib import Path

from pipeline import resolve
from pytorch_backend.config import EVAL_SCHEMA, FEATS_SCHEMA, load_checked
from pytorch_backend.errors import ConfigError

# exp/<corpus>_ser: the shared emotion classifier; exp/<corpus>_asr: the recognizer;
# exp/<corpus>_real: the real recordings scored by the judges; exp/<corpus>_textemo: the text
# emotion classifier
RESERVED_MODEL_NAMES = ("ser", "asr", "real", "textemo")
RESERVED_MODEL_PREFIXES = ("voc_",)  # exp/<corpus>_voc_<vocoder> are the shared trained vocoders


class ConfLookup:
    """Which corpora and TTS models ``conf_dir`` defines, and their resolved confs (cached).

    Experiment look-ups take Snakemake wildcards (anything with ``corpus`` and ``model``
    attributes), so rules can pass the methods themselves as input and params functions.
    """

    def __init__(self, conf_dir):
        self.conf_dir = Path(conf_dir)
        self.corpora = resolve.list_confs(self.conf_dir, "corpus")
        self.models = resolve.list_confs(self.conf_dir, "tts")
        for name in self.models:
            if name in RESERVED_MODEL_NAMES:
                raise ConfigError(self.tts_path(name),
                                  f"'{name}' is reserved for exp/<corpus>_{name}; rename the model conf")
            for prefix in RESERVED_MODEL_PREFIXES:
                if name.startswith(prefix):
                    raise ConfigError(self.tts_path(name),
                                      f"model names starting with '{prefix}' are reserved for "
                                      f"exp/<corpus>_{prefix}<vocoder>; rename the model conf")
        self.corpus_conf = functools.cache(lambda corpus: resolve.load_corpus_conf(self.conf_dir, corpus))
        self.feats_conf = functools.cache(
            lambda name: load_checked(self.conf_dir / "feats" / f"{name}.yaml", FEATS_SCHEMA))
        self.vocoder_conf = functools.cache(lambda name: resolve.load_vocoder_conf(self.conf_dir, name))
        self.exp_conf = functools.cache(
            lambda corpus, model: resolve.resolve_experiment(self.conf_dir, corpus, model))
        self.eval_conf = functools.cache(lambda: load_checked(self.conf_dir / "eval.yaml", EVAL_SCHEMA))

    # -- conf files, for messages and --source arguments -----------------------------------------
    def corpus_path(self, corpus: str) -> Path:
        return self.conf_dir / "corpus" / f"{corpus}.yaml"

    def tts_path(self, model: str) -> Path:
        return self.conf_dir / "tts" / f"{model}.yaml"

    def vocoder_path(self, vocoder: str) -> Path:
        return self.conf_dir / "vocoder" / f"{vocoder}.yaml"

    # -- look-ups ------------------------------------------------------------------------------
    def corpora_of_recipe(self, recipe: str) -> list[str]:
        """The corpora whose conf names ``recipe`` (``local/<recipe>/``)."""
        return [c for c in self.corpora if self.corpus_conf(c)["recipe"] == recipe]

    def exp(self, wc) -> dict:
        """The resolved config of experiment ``<wc.corpus>_<wc.model>``."""
        return self.exp_conf(wc.corpus, wc.model)

    def needs_prosody(self, wc) -> bool:
        """Whether the experiment's model trains on pitch and energy (its class's NEEDS_PROSODY)."""
        from pytorch_backend.tts import MODELS  # torch: only once an experiment is asked for

        name = self.exp(wc)["tts"]["model"]
        if name not in MODELS:
            raise ConfigError(self.tts_path(wc.model), f"unknown model '{name}' (known: "
                              f"{', '.join(sorted(MODELS))})", key="model")
        return bool(getattr(MODELS[name], "NEEDS_PROSODY", False))

    @staticmethod
    def vocoder_is_trained(voc: dict) -> bool:
        """A vocoder conf with a ``train`` section is a neural vocoder trained per corpus."""
        return bool(voc.get("train"))
