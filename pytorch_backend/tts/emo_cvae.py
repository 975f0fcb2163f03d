"""Categorical-VAE emotion space on Tacotron 2 (emotion-label guided conditional VAE).

The latent has one block of ``latent_dim`` dimensions per emotion category (its size is
``latent_dim x num_emotions``). The prior of an utterance labelled y is a unit Gaussian
centred on a learned mean m_y in block y and on 0 in every other block, so the KL term pulls
each utterance's posterior into its own emotion's region; a classifier head on the latent
(``latent_emotion_weight``) makes the regions separable. The decoder sees only the latent.

Synthesis from
- a label y: the prior mean (m_y in block y) or the mean posterior of y's training utterances;
- a soft label w (intensity, mixtures): sum_k w_k * (prior mean of k), i.e. block k scaled by w_k;
- a reference wav: the posterior mean of its mel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.tts.vae import VAETacotron2


class CVAETacotron2(VAETacotron2):
    """``latent_dim`` is the size of one emotion's block of the latent."""

    CONTROLS = VAETacotron2.CONTROLS + ("prior",)

    def __init__(self, num_tokens: int, num_speakers: int = 1, num_emotions: int = 1, n_mels: int = 80,
                 *, latent_emotion_weight: float = 1.0, prior_scale: float = 1.0, **kwargs):
        self.num_categories = num_emotions
        super().__init__(num_tokens, num_speakers, num_emotions, n_mels,
                         latent_emotion_weight=latent_emotion_weight, **kwargs)
        self.block = self.latent_dim // num_emotions
        # learned category means, initialized apart so the regions start separated
        self.prior_means = nn.Parameter(torch.randn(num_emotions, self.block) * float(prior_scale))
        if self.latent_classifier is None:  # the classifier head is part of this model
            self.latent_classifier = nn.Linear(self.latent_dim, num_emotions)
            self.latent_emotion_weight = 1.0

    @property
    def controls(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(super().controls + ("label", "soft_label", "prior")))

    def uses_labels(self) -> bool:
        return False  # labels act through the latent (prior means), not an embedding

    def _latent_size(self, latent_dim: int) -> int:
        return latent_dim * self.num_categories

    def prior_latent(self, emotion_weights) -> torch.Tensor:
        """(B, latent) prior means of soft labels (B, num_emotions) (or (num_emotions,) -> (latent,))."""
        w = torch.as_tensor(emotion_weights, dtype=self.prior_means.dtype, device=self.prior_means.device)
        squeeze = w.dim() == 1
        w = w.view(-1, self.num_categories)
        z = (w.unsqueeze(-1) * self.prior_means.unsqueeze(0)).reshape(w.size(0), -1)
        return z[0] if squeeze else z

    def _prior_mean(self, batch: dict):
        return self.prior_latent(F.one_hot(batch["emotions"], self.num_categories).float())

    def _extra_losses(self, out: dict, batch: dict) -> dict:
        # the classifier reads the sampled latent, the vector the decoder is conditioned on
        logits = self.latent_classifier(out["style"].float())
        return {"emo": (self.latent_emotion_weight, F.cross_entropy(logits, batch["emotions"]))}
