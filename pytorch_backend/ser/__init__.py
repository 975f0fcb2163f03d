"""Speech-emotion classifiers (registry) used to score the emotion of synthesized speech."""

from __future__ import annotations

from pytorch_backend.ser.cnn_pool import CnnPoolClassifier
from pytorch_backend.utils.registry import Registry

CLASSIFIERS = Registry("classifier", name_key="ser.model", conf_key="ser.model_conf",
                       data_args=("num_classes", "n_mels"))
CLASSIFIERS.register("cnn_pool", CnnPoolClassifier)

DEFAULT_CLASSIFIER = "cnn_pool"


def build_classifier(name: str, conf: dict | None, num_classes: int, n_mels: int, source="conf/eval.yaml"):
    """Instantiate ``CLASSIFIERS[name](num_classes, n_mels, **conf)``.

    An unknown name or keyword (or a value the class rejects) is a ConfigError naming
    ``source`` and the key (``ser.model`` / ``ser.model_conf.<kw>`` / ``ser.model_conf``).
    """
    return CLASSIFIERS.build(name, conf, source, num_classes=num_classes, n_mels=n_mels)
