"""The interface every vocoder implements: a list of log-mel matrices in, waveforms out."""

from __future__ import annotations

import numpy as np


class VocoderArgError(ValueError):
    """A bad value for one keyword of a vocoder conf; ``build_vocoder`` names the key."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


class Vocoder:
    """Turns raw log-mel frames (frames x n_mels, the dump scale) into float32 waveforms.

    Subclasses set ``fs`` (the feature sample rate), implement ``__call__`` and, when they
    load trained weights, set ``needs_model_dir = True`` and override ``build``.
    """

    fs: int
    needs_model_dir = False

    @classmethod
    def build(cls, conf: dict, feats_conf: dict, model_dir=None) -> "Vocoder":
        """Construct from the vocoder conf keywords and the feats conf."""
        return cls(feats_conf=feats_conf, **conf)

    def __call__(self, logmels: list[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError
