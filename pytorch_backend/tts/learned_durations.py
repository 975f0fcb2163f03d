"""Token durations learned inside a model, for the attention-free Tacotron 2 decoder
(``alignment: durations``).

In training, an :class:`~pytorch_backend.tts.layers.alignment.AlignmentEncoder` attends from the
target mel frames to the token embeddings (forward-sum / CTC loss under a beta-binomial diagonal
prior); monotonic alignment search turns that into a hard path whose per-token frame counts are
the durations the decoder is laid out by and the targets of a duration predictor on the
conditioned encoder states (so speaker, emotion and style move the timing). A binarization loss
pulls the soft attention towards the hard path after ``bin_loss_start`` steps. This is the
alignment FastSpeech 2 here learns (pytorch_backend/tts/fastspeech2.py), with the same defaults.
At inference the predicted durations are used.
"""

from __future__ import annotations

import torch
from torch import nn

from pytorch_backend.tts.layers.alignment import (AlignmentEncoder, beta_binomial_log_prior, binarization_loss,
                                                  binarization_scale,
                                                  forward_sum_loss, monotonic_alignment_search)
from pytorch_backend.tts.layers.masks import length_mask
from pytorch_backend.tts.layers.variance import VariancePredictor, predicted_durations


class LearnedDurations(nn.Module):
    """Aligner + duration predictor. ``text_dim``: the token embeddings the aligner reads;
    ``state_dim``: the encoder states the predictor reads."""

    def __init__(self, n_mels: int, text_dim: int, state_dim: int, *, align_channels: int = 80,
                 align_temperature: float = 5.0e-4, prior_scaling: float = 1.0, predictor_channels: int = 128,
                 predictor_kernel: int = 3, predictor_dropout: float = 0.2, duration_weight: float = 1.0,
                 ctc_weight: float = 1.0, bin_weight: float = 1.0, bin_loss_start: int = 300,
                 bin_loss_warmup: int = 200, max_frames_per_token: int = 60):
        super().__init__()
        if max_frames_per_token < 1:
            raise ValueError(f"max_frames_per_token must be >= 1, got {max_frames_per_token}")
        self.aligner = AlignmentEncoder(n_mels, text_dim, align_channels, align_temperature)
        self.predictor = VariancePredictor(state_dim, predictor_channels, predictor_kernel, predictor_dropout)
        self.prior_scaling = float(prior_scaling)
        self.weights = {"dur": float(duration_weight), "ctc": float(ctc_weight)}
        self.bin_weight = float(bin_weight)
        self.bin_loss_start = int(bin_loss_start)
        self.bin_loss_warmup = int(bin_loss_warmup)
        self.max_frames_per_token = int(max_frames_per_token)

    def align(self, text, token_lens, states, mels, mel_lens) -> dict:
        """Training: soft and hard alignments (B, T, N) of the target ``mels`` to the token
        embeddings ``text`` (B, N, text_dim), the durations (B, N) of the hard one, and the
        predictor's log(1 + frames) (B, N) from ``states`` (B, N, state_dim)."""
        tmask = length_mask(token_lens, text.size(1))
        mmask = length_mask(mel_lens, mels.size(1))
        prior = beta_binomial_log_prior(token_lens, mel_lens, text.size(1), mels.size(1), self.prior_scaling)
        logp, soft = self.aligner(text, tmask, mels, mmask, prior)
        hard = monotonic_alignment_search(logp, token_lens, mel_lens)
        return {"attn_logprob": logp, "alignments": soft, "alignments_hard": hard, "durations": hard.sum(1),
                "log_dur_pred": self.predictor(states, tmask)}

    def bin_scale(self, step: int) -> float:
        """Weight of the binarization loss: 0 before ``bin_loss_start``, then a linear ramp."""
        return binarization_scale(step, self.bin_loss_start, self.bin_loss_warmup, self.bin_weight)

    def losses(self, out: dict, token_lens, mel_lens, step: int) -> dict:
        """``{name: (weight, value)}``: dur (MSE of log(1 + frames) on real tokens), ctc
        (forward-sum) and bin (binarization) of an :meth:`align` output."""
        tmask = length_mask(token_lens, out["durations"].size(1)).float()
        dur = ((out["log_dur_pred"].float() - torch.log1p(out["durations"])).pow(2) * tmask).sum() / tmask.sum()
        ctc = forward_sum_loss(out["attn_logprob"].float(), token_lens, mel_lens)
        binl = binarization_loss(out["alignments_hard"], out["alignments"].float(), mel_lens)
        return {"dur": (self.weights["dur"], dur), "ctc": (self.weights["ctc"], ctc),
                "bin": (self.bin_scale(step), binl)}

    def predict(self, states, token_lens, duration_scale=1.0, maxlenratio=None) -> torch.Tensor:
        """Inference: integer durations (B, N) (0 at padded tokens) from ``states`` (B, N, state_dim)."""
        tmask = length_mask(token_lens, states.size(1))
        log_dur = self.predictor(states, tmask)
        return predicted_durations(log_dur, token_lens, duration_scale, self.max_frames_per_token, maxlenratio)
