"""Speech-emotion classifiers (registry) used to score the emotion of synthesized speech."""

from __future__ import annotations

import inspect

from pytorch_backend.errors import ConfigError
from pytorch_backend.ser.cnn_pool import CnnPoolClassifier

CLASSIFIERS = {
    "cnn_pool": CnnPoolClassifier,
}

DEFAULT_CLASSIFIER = "cnn_pool"


def build_classifier(name: str, conf: dict | None, num_classes: int, n_mels: int, source="conf/eval.yaml"):
    """Instantiate ``CLASSIFIERS[name](num_classes, n_mels, **conf)``.

    An unknown name or keyword (or a value the class rejects) is a ConfigError naming
    ``source`` and the key (``ser.model`` / ``ser.model_conf.<kw>``).
    """
    if name not in CLASSIFIERS:
        raise ConfigError(source, f"unknown classifier '{name}' (known: {', '.join(sorted(CLASSIFIERS))})",
                          key="ser.model")
    cls = CLASSIFIERS[name]
    conf = dict(conf or {})
    params = inspect.signature(cls.__init__).parameters
    allowed = [p for p in params if p not in ("self", "num_classes", "n_mels")]
    for key in conf:
        if key not in allowed:
            raise ConfigError(source, f"unknown keyword of classifier '{name}' (known: {', '.join(allowed)})",
                              key=f"ser.model_conf.{key}")
    try:
        return cls(num_classes=num_classes, n_mels=n_mels, **conf)
    except (TypeError, ValueError) as exc:
        raise ConfigError(source, f"bad arguments for classifier '{name}': {exc}", key="ser.model_conf") from None
