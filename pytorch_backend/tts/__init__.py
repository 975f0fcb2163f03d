"""Text-to-speech acoustic models, chosen by name from ``MODELS``.

Every model derives from :class:`pytorch_backend.tts.base.TTSModel` (the protocol the trainer,
decoder and emotion controls rely on). Adding a model: one module, one ``MODELS.register`` line
here, ``conf/tts/<name>.yaml`` and tests.
"""

from __future__ import annotations

from pytorch_backend.tts.base import TTSModel
from pytorch_backend.tts.emo_cvae import CVAETacotron2
from pytorch_backend.tts.emo_dnn import EmotionDNNTacotron2
from pytorch_backend.tts.fastspeech2 import FastSpeech2
from pytorch_backend.tts.gst import GSTTacotron2
from pytorch_backend.tts.tacotron2 import Tacotron2
from pytorch_backend.tts.vae import VAETacotron2
from pytorch_backend.utils.registry import Registry

# arguments that come from the data, never from model_conf
DATA_ARGS = ("num_tokens", "num_speakers", "num_emotions", "n_mels")

MODELS = Registry("model", name_key="model", conf_key="model_conf", data_args=DATA_ARGS)
MODELS.register("tacotron2", Tacotron2)
MODELS.register("gst", GSTTacotron2)
MODELS.register("vae", VAETacotron2)
MODELS.register("emo_dnn", EmotionDNNTacotron2)
MODELS.register("emo_cvae", CVAETacotron2)
MODELS.register("fastspeech2", FastSpeech2)


def build_model(name: str, conf: dict | None, num_tokens: int, num_speakers: int, num_emotions: int,
                n_mels: int, source="<conf>") -> TTSModel:
    """Instantiate ``MODELS[name](num_tokens, num_speakers, num_emotions, n_mels, **conf)``.

    An unknown name (key ``model``) or keyword (``model_conf.<kw>``), or a value the model
    rejects (``model_conf``), is a ConfigError naming ``source`` (the conf file) and the key.
    """
    return MODELS.build(name, conf, source, num_tokens, num_speakers, num_emotions, n_mels)


def needs_prosody(name: str, source="<conf>") -> bool:
    """Whether model ``name`` trains on pitch/energy features (its class's ``NEEDS_PROSODY``)."""
    return bool(MODELS.lookup(name, source).NEEDS_PROSODY)


__all__ = ["MODELS", "DATA_ARGS", "TTSModel", "build_model", "needs_prosody"]
