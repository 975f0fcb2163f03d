"""Vocoder registry: ``VOCODERS`` maps a conf name to its class; ``build_vocoder`` builds one.

A vocoder conf (conf/vocoder/<name>.yaml) is ``{name: <registry name>, conf: {keyword: value}}``;
the keywords go to the class constructor together with the feats conf. Neural vocoders
(``NeuralVocoder`` subclasses) also have a ``train`` section (vocoders/train.py TRAIN_SCHEMA) and
load the generator trained from it out of ``model_dir`` (exp/<corpus>_voc_<conf name>/model.pt).
Adding a vocoder is one module, one ``VOCODERS.register`` line here, one conf file and tests.
"""

from __future__ import annotations

from pytorch_backend.errors import ConfigError
from pytorch_backend.utils.registry import Registry
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
VOCODERS = Registry("vocoder", name_key="name", conf_key="conf", data_args=("feats_conf",))
VOCODERS.register("griffin_lim", GriffinLim)
VOCODERS.register("hifigan", HiFiGAN)
VOCODERS.register("parallel_wavegan", ParallelWaveGAN)
VOCODERS.register("melgan", MelGAN)
VOCODERS.register("multiband_melgan", MultiBandMelGAN)
VOCODERS.register("wavenet", WaveNet)
VOCODERS.register("waveglow", WaveGlow)


def build_vocoder(name: str, conf: dict | None, feats_conf: dict, source=None, model_dir=None) -> Vocoder:
    """Build registered vocoder ``name`` with keywords ``conf`` for features ``feats_conf``.

    ``source`` is the conf file named in errors (default conf/vocoder/<name>.yaml); an unknown
    name (key ``name``) or keyword (``conf.<kw>``), or a bad value, is a ConfigError naming the
    key. ``model_dir`` holds the checkpoint of trained (neural) vocoders and is ignored by the others.
    """
    source = source or f"conf/vocoder/{name}.yaml"
    conf = dict(conf or {})
    cls = VOCODERS.lookup(name, source)
    VOCODERS.check_keywords(name, conf, source)
    if cls.needs_model_dir and model_dir is None:
        raise ConfigError(source, f"vocoder '{name}' needs a trained model directory (--model-dir)")
    try:
        return cls.build(conf, feats_conf, model_dir=model_dir)
    except VocoderArgError as exc:
        raise ConfigError(source, str(exc), key=f"conf.{exc.key}") from None
    except TypeError as exc:  # e.g. a keyword the signature check could not see
        raise ConfigError(source, f"bad vocoder keywords: {exc}", key="conf") from None


__all__ = ["VOCODERS", "GriffinLim", "NeuralVocoder", "Vocoder", "build_vocoder"]
