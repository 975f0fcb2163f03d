"""Tacotron2-VAE (Zhang et al. 2019): Tacotron 2 + a reference encoder -> Gaussian latent.

Training: the target mel goes through the reference encoder to (mu, logvar); a sample z is
projected and combined with every encoder state (``latent_combine``); the loss adds
``kl_weight(step) * KL(q(z|mel) || N(0, I))`` with annealing and a free-bits floor
(pytorch_backend/tts/layers/latent.py). Optionally (``latent_emotion_weight`` > 0) an emotion
classifier on mu adds a cross-entropy term, gathering each emotion's utterances in the latent
space (the semi-supervised variant; 0 = the unsupervised model of the paper).

Synthesis takes z = mu of a reference wav, the mean mu of an emotion's training utterances,
or any interpolation/mixture of such means (intensity from neutral, two emotions): the decoder
sees only z, never a label. See pytorch_backend/tts/controls.py.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.tts.layers.latent import GaussianHead, kl_weight_at, kl_with_floor, sample
from pytorch_backend.tts.layers.reference_encoder import ReferenceEncoder
from pytorch_backend.tts.tacotron2 import Tacotron2


class VAETacotron2(Tacotron2):
    """Tacotron 2 + a variational reference encoder. ``use_emotion`` defaults to False: the
    emotion must come through the latent."""

    CONTROLS = Tacotron2.CONTROLS + ("emotion_mean", "reference")

    def __init__(self, num_tokens: int, num_speakers: int = 1, num_emotions: int = 1, n_mels: int = 80,
                 *, latent_dim: int = 32, ref_channels=(32, 32, 64, 64), ref_kernel: int = 3,
                 ref_gru_dim: int = 128, latent_combine: str = "add", kl_weight: float = 1.0e-2,
                 kl_start_step: int = 0, kl_anneal_steps: int = 1000, kl_anneal: str = "linear",
                 kl_floor: float = 0.0, latent_emotion_weight: float = 0.0,
                 use_emotion: bool = False, **kwargs):
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {latent_dim}")
        kl_weight_at(0, kl_weight, kl_start_step, kl_anneal_steps, kl_anneal)  # validates the shape
        self._ref_args = dict(n_mels=n_mels, ref_channels=tuple(ref_channels), ref_kernel=ref_kernel,
                              ref_gru_dim=ref_gru_dim, latent_dim=latent_dim, latent_combine=latent_combine)
        super().__init__(num_tokens, num_speakers, num_emotions, n_mels, use_emotion=use_emotion, **kwargs)
        self.kl_schedule = dict(weight=float(kl_weight), start=int(kl_start_step),
                                anneal_steps=int(kl_anneal_steps), shape=kl_anneal)
        self.kl_floor = float(kl_floor)
        self.latent_emotion_weight = float(latent_emotion_weight)
        self.latent_classifier = (nn.Linear(self.latent_dim, num_emotions)
                                  if self.latent_emotion_weight > 0 else None)

    @property
    def controls(self) -> tuple[str, ...]:
        return super().controls + ("emotion_mean", "reference")

    def _add_extra_conditions(self) -> None:
        a = self._ref_args
        self.ref_encoder = ReferenceEncoder(a["n_mels"], a["ref_channels"], a["ref_kernel"], a["ref_gru_dim"])
        self.latent_dim = self._latent_size(a["latent_dim"])
        self.posterior = GaussianHead(self.ref_encoder.out_dim, self.latent_dim)
        self.style_dim = self.latent_dim
        self.conditioner.add_input("style", self.latent_dim, a["latent_combine"])

    def _latent_size(self, latent_dim: int) -> int:
        return latent_dim

    def posterior_of(self, mels, mel_lens) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) (B, latent_dim) of normalized reference mels (B, T, n_mels)."""
        return self.posterior(self.ref_encoder(mels, mel_lens))

    def style_embedding(self, mels, mel_lens) -> torch.Tensor:
        """The latent mean (B, latent_dim): what synthesis from a reference uses."""
        return self.posterior_of(mels, mel_lens)[0]

    def _teacher_extras(self, mels, mel_lens) -> dict:
        mu, logvar = self.posterior_of(mels, mel_lens)
        return {"style": sample(mu, logvar, self.training), "mu": mu, "logvar": logvar}

    def _extra_vectors(self, mels, mel_lens, style, emotion_weights) -> dict:
        if style is None:
            if mels is None:
                raise ValueError("a VAE model needs a latent vector or a reference mel")
            style = self.style_embedding(mels, mel_lens)
        return {"style": style}

    def _prior_mean(self, batch: dict):
        """The prior mean (B, latent_dim) of a batch; None = the standard normal's zero."""
        return None

    def kl_weight(self, step: int) -> float:
        s = self.kl_schedule
        return kl_weight_at(step, s["weight"], s["start"], s["anneal_steps"], s["shape"])

    def compute_loss(self, out: dict, batch: dict, step: int = 0) -> dict:
        terms = super().compute_loss(out, batch, step)
        kl, kl_raw = kl_with_floor(out["mu"], out["logvar"], self._prior_mean(batch), self.kl_floor)
        weight = self.kl_weight(step)
        terms["loss"] = terms["loss"] + weight * kl
        terms["kl"] = kl_raw.detach()
        terms["kl_weight"] = torch.tensor(weight, device=kl.device)  # every term on the model's device
        return terms

    def _extra_losses(self, out: dict, batch: dict) -> dict:
        if self.latent_classifier is None:
            return {}
        logits = self.latent_classifier(out["mu"].float())
        return {"emo": (self.latent_emotion_weight, F.cross_entropy(logits, batch["emotions"]))}
