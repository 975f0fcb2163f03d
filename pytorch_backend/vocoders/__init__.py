"""Vocoder registry: ``VOCODERS`` maps a conf name to its class; ``build_vocoder`` builds one.

A vocoder conf (conf/vocoder/<name>.yaml) is ``{name: <registry name>, conf: {keyword: value}}``;
the keywords go to the class constructor together with the feats conf. Neural vocoders
(``NeuralVocoder`` subclasses) also have a ``train`` section (vocoders/train.py TRAIN_SCHEMA) and
load the generator trained from it out of ``model_dir`` (exp/<corpus>_voc_<conf name>/model.pt).
Adding a vocoder is one module, one line here, one conf file and tests.
"""

from __future__ import annotations

import inspect

from pytorch_backend.errors import ConfigError
from pytorch_backend.vocoders.base import Vocoder, VocoderArgError
from pytorch_backend.vocoders.griffin_lim import GriffinLim
from pytorch_backend.vocoders.hifigan import HiFiGAN
from pytorch_backend.vocoders.melgan import MelGAN, MultiBandMelGAN
from pytorch_backend.vocoders.neural import NeuralVocoder
from pytorch_backend.vocoders.parallel_wavegan import ParallelWaveGAN
from pytorch_backend.vocoders.waveglow import WaveGlow
from pytorch_backend.vocoders.wavenet import WaveNet

# Neural vocoders (NeuralVocoder subclasses) are trained into exp/<corpus>_voc_<conf name>/
# (vocoders/train.py, steps/train_vocoder.py) and load model.pt from there.
VOCODERS: dict[str, type[Vocoder]] = {
    "griffin_lim": GriffinLim,
    "hifigan": HiFiGAN,
    "parallel_wavegan": ParallelWaveGAN,
    "melgan": MelGAN,
    "multiband_melgan": MultiBandMelGAN,
    "wavenet": WaveNet,
    "waveglow": WaveGlow,
}


def _check_keywords(cls, conf: dict, source) -> None:
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    allowed = sorted(k for k in params if k not in ("self", "feats_conf"))
    for key in conf:
        if key not in params or key in ("self", "feats_conf"):
            raise ConfigError(source, f"unknown keyword of vocoder {cls.__name__} "
                                      f"(known: {', '.join(allowed)})", key=f"conf.{key}")


def build_vocoder(name: str, conf: dict | None, feats_conf: dict, source=None, model_dir=None) -> Vocoder:
    """Build registered vocoder ``name`` with keywords ``conf`` for features ``feats_conf``.

    ``source`` is the conf file named in errors (default conf/vocoder/<name>.yaml); an unknown
    name or keyword, or a bad value, is a ConfigError naming the key. ``model_dir`` holds the
    checkpoint of trained (neural) vocoders and is ignored by the others.
    """
    source = source or f"conf/vocoder/{name}.yaml"
    conf = dict(conf or {})
    if name not in VOCODERS:
        raise ConfigError(source, f"unknown vocoder '{name}' (known: {', '.join(sorted(VOCODERS))})",
                          key="name")
    cls = VOCODERS[name]
    _check_keywords(cls, conf, source)
    if cls.needs_model_dir and model_dir is None:
        raise ConfigError(source, f"vocoder '{name}' needs a trained model directory (--model-dir)")
    try:
        return cls.build(conf, feats_conf, model_dir=model_dir)
    except VocoderArgError as exc:
        raise ConfigError(source, str(exc), key=f"conf.{exc.key}") from None
    except TypeError as exc:  # e.g. a keyword the signature check could not see
        raise ConfigError(source, f"bad vocoder keywords: {exc}", key="conf") from None


__all__ = ["VOCODERS", "GriffinLim", "NeuralVocoder", "Vocoder", "build_vocoder"]
