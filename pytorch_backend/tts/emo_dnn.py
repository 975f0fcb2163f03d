"""Emotion-label controlled Tacotron 2 through a prosody network ("emotion DNN").

emotion label (or a soft label: a probability vector over emotions)
  -> learned emotion embedding (``weights @ table``)
  -> MLP (``prosody_layers`` x Linear+ReLU, then Linear+tanh) -> prosody vector
  -> fed to the model where ``prosody_target`` says:
       ``attention``: combined with every encoder state (the attention's memory), by
                      ``prosody_combine`` concat | add;
       ``decoder``:   into the decoder itself: concat = appended to the decoder LSTM input at
                      every step, add = projected and added to the prenet output.
A soft label interpolates in embedding space before the non-linear prosody network, so
intensity (neutral -> emotion) and mixtures of two emotions are smooth.
"""

from __future__ import annotations

from torch import nn

from pytorch_backend.tts.tacotron2 import Tacotron2

PROSODY_TARGETS = ("attention", "decoder")


class EmotionDNNTacotron2(Tacotron2):
    """Tacotron 2 whose emotion (soft) label reaches the model through a prosody network."""

    def __init__(self, num_tokens: int, num_speakers: int = 1, num_emotions: int = 1, n_mels: int = 80,
                 *, emotion_dim: int = 64, prosody_layers: int = 2, prosody_hidden: int = 128,
                 prosody_dim: int = 64, prosody_dropout: float = 0.0, prosody_target: str = "attention",
                 prosody_combine: str = "concat", **kwargs):
        if prosody_target not in PROSODY_TARGETS:
            raise ValueError(f"prosody_target must be one of {PROSODY_TARGETS}, got '{prosody_target}'")
        if prosody_layers < 0:
            raise ValueError(f"prosody_layers must be >= 0, got {prosody_layers}")
        self._prosody_args = dict(target=prosody_target, combine=prosody_combine, dim=prosody_dim)
        super().__init__(num_tokens, num_speakers, num_emotions, n_mels, use_emotion=False, **kwargs)
        # the label path of this model: its own table, read through the prosody network
        self.emotion_table = nn.Embedding(num_emotions, emotion_dim)
        layers, width = [], emotion_dim
        for _ in range(prosody_layers):
            layers += [nn.Linear(width, prosody_hidden), nn.ReLU(), nn.Dropout(prosody_dropout)]
            width = prosody_hidden
        layers += [nn.Linear(width, prosody_dim), nn.Tanh()]
        self.prosody_net = nn.Sequential(*layers)

    @property
    def controls(self) -> tuple[str, ...]:
        return self.CONTROLS  # its label path is emotion_table (Tacotron 2's embedding is off)

    def _add_extra_conditions(self) -> None:
        a = self._prosody_args
        if a["target"] == "attention":
            self.conditioner.add_input("prosody", a["dim"], a["combine"])
        else:
            if a["combine"] not in ("concat", "add"):
                raise ValueError(f"prosody_combine must be concat or add, got '{a['combine']}'")
            self.decoder_cond_dim, self.decoder_cond_mode = a["dim"], a["combine"]

    def prosody_vector(self, emotion_weights):
        """(B, prosody_dim) prosody vectors of soft labels (B, num_emotions)."""
        if emotion_weights is None:
            raise ValueError("emo_dnn needs an emotion label or soft label")
        return self.prosody_net(emotion_weights @ self.emotion_table.weight)

    def label_embedding(self, emotion_weights):
        return self.prosody_vector(emotion_weights)

    def _extra_vectors(self, mels, mel_lens, style, emotion_weights) -> dict:
        if self._prosody_args["target"] != "attention":
            return {}
        return {"prosody": self.prosody_vector(emotion_weights)}

    def _decoder_condition(self, emotion_weights):
        if self._prosody_args["target"] != "decoder":
            return None
        return self.prosody_vector(emotion_weights)
