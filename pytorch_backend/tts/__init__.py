"""Text-to-speech acoustic models, chosen by name from ``MODELS``."""

from __future__ import annotations

import inspect

from pytorch_backend.errors import ConfigError
from pytorch_backend.tts.emo_cvae import CVAETacotron2
from pytorch_backend.tts.emo_dnn import EmotionDNNTacotron2
from pytorch_backend.tts.fastspeech2 import FastSpeech2
from pytorch_backend.tts.gst import GSTTacotron2
from pytorch_backend.tts.tacotron2 import Tacotron2
from pytorch_backend.tts.vae import VAETacotron2

MODELS = {"tacotron2": Tacotron2, "gst": GSTTacotron2, "vae": VAETacotron2, "emo_dnn": EmotionDNNTacotron2,
          "emo_cvae": CVAETacotron2}
MODELS["fastspeech2"] = FastSpeech2

# arguments that come from the data, never from model_conf
DATA_ARGS = ("num_tokens", "num_speakers", "num_emotions", "n_mels")


def model_keywords(cls) -> set[str]:
    """The model_conf keywords a model class accepts (walking up **kwargs to its bases)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in klass.__dict__ or klass is object:
            continue
        params = inspect.signature(klass.__init__).parameters
        names.update(n for n, p in params.items()
                     if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            break
    return names - set(DATA_ARGS)


def build_model(name: str, conf: dict | None, num_tokens: int, num_speakers: int, num_emotions: int,
                n_mels: int, source="<conf>"):
    """Instantiate ``MODELS[name](num_tokens, num_speakers, num_emotions, n_mels, **conf)``.

    An unknown name or keyword, or a value the model rejects, is a ConfigError naming
    ``source`` (the conf file) and the key.
    """
    if name not in MODELS:
        raise ConfigError(source, f"unknown model '{name}' (known: {', '.join(sorted(MODELS))})", key="model")
    cls = MODELS[name]
    conf = dict(conf or {})
    known = model_keywords(cls)
    for key in conf:
        if key not in known:
            raise ConfigError(source, f"unknown keyword of model '{name}' (known: {', '.join(sorted(known))})",
                              key=f"model_conf.{key}")
    try:
        return cls(num_tokens, num_speakers, num_emotions, n_mels, **conf)
    except (TypeError, ValueError) as exc:
        raise ConfigError(source, f"invalid model_conf for '{name}': {exc}", key="model_conf") from None
