"""The protocol every TTS acoustic model follows: what training, decoding, the emotion controls
and the emotion-space maps read from a model.

Readers and what they use:
- the trainer (pytorch_backend/tts/trainer.py, train/distributed.py): ``r`` (mels are padded to a
  multiple of it), ``forward_batch`` (a collated batch -> outputs with ``mel_after`` and
  ``alignments``), ``compute_loss`` (outputs, batch, step -> terms with their weighted sum ``loss``);
- training data (pytorch_backend/tts/training.py) and the teacher-forced dump: ``NEEDS_PROSODY``
  (load pitch.scp/energy.scp), read from the registered class before a model exists;
- decoding (pytorch_backend/tts/inference.py): ``inference`` (one utterance -> ``mel``,
  ``stop_probs`` or None, ``alignment``), ``uses_style``, ``style_embedding``,
  ``style_from_token_weights``; synthesis (pytorch_backend/synth): ``inference_batch`` (by
  default one ``inference`` per utterance; models override it with a padded batch);
- the emotion controls (pytorch_backend/tts/controls.py): ``controls`` (within ``CONTROLS``),
  ``uses_labels``, ``uses_style``, ``prior_latent``;
- the emotion-space map (pytorch_backend/eval/emotion_space.py): ``uses_style``, ``uses_labels``,
  ``style_embedding``, ``label_embedding``, ``num_emotions``.
"""

from __future__ import annotations

import abc

import torch
from torch import nn

# every control a model may declare (pytorch_backend/tts/controls.py says what each allows)
ALL_CONTROLS = ("label", "soft_label", "emotion_mean", "reference", "gst_weights", "prior")


class TTSModel(nn.Module, abc.ABC):
    """Base class of the models of ``pytorch_backend.tts.MODELS``.

    Constructors take ``(num_tokens, num_speakers, num_emotions, n_mels)`` from the data and
    keyword-only arguments from ``model_conf``; they set ``n_mels`` and ``num_emotions``.
    """

    r: int = 1  # mel frames per output step (reduction factor)
    CONTROLS: tuple[str, ...] = ()  # the controls this class can accept (``controls`` may narrow them)
    NEEDS_PROSODY: bool = False  # trains on pitch/energy (the dataset loads pitch.scp/energy.scp)
    n_mels: int
    num_emotions: int
    train_step: int = 0  # the optimizer step being trained (set by the trainer before each forward)

    def set_train_step(self, step: int) -> None:
        """Told by the trainer before each training forward, for schedules inside the model
        (e.g. Tacotron 2's scheduled sampling)."""
        self.train_step = int(step)

    # -- what synthesis can be told (see pytorch_backend/tts/controls.py) ------------------
    @property
    def controls(self) -> tuple[str, ...]:
        """The controls this instance accepts (its configuration may leave some of ``CONTROLS`` out)."""
        return self.CONTROLS

    @property
    def prosody_controls(self) -> tuple[str, ...]:
        """The prosody a request may set (``speed``, ``pitch_scale``, ``energy_scale``): none for a
        model without explicit durations, pitch and energy; ``inference``/``inference_batch`` then
        take ``duration_scale``, ``pitch_shift`` and ``energy_shift`` for those it names."""
        return ()

    def uses_labels(self) -> bool:
        """Whether synthesis takes an emotion (soft) label as ``emotion_weights``."""
        return "label" in self.controls

    def uses_style(self) -> bool:
        """Whether synthesis takes a style/latent vector: true for models with a style encoder
        (those that override ``style_embedding``)."""
        return type(self).style_embedding is not TTSModel.style_embedding

    def style_embedding(self, mels: torch.Tensor, mel_lens: torch.Tensor) -> torch.Tensor:
        """Style vectors (B, D) of normalized reference mels (B, T, n_mels)."""
        raise ValueError(f"{type(self).__name__} has no style encoder")

    def label_embedding(self, emotion_weights: torch.Tensor) -> torch.Tensor:
        """The emotion vector (B, D) the label path makes of soft labels (B, num_emotions)."""
        raise ValueError(f"{type(self).__name__} has no emotion-label embedding")

    def style_from_token_weights(self, weights) -> torch.Tensor:
        """The style (D,) of manual style-token weights (GST)."""
        raise ValueError(f"{type(self).__name__} has no style tokens")

    def prior_latent(self, emotion_weights) -> torch.Tensor:
        """The prior-mean latent of soft labels (conditional VAE)."""
        raise ValueError(f"{type(self).__name__} has no learned emotion prior")

    # -- training and synthesis ------------------------------------------------------------
    @abc.abstractmethod
    def forward_batch(self, batch: dict) -> dict:
        """Teacher-forced pass on a collated batch (pytorch_backend.data.tts_dataset.collate):
        a dict with at least ``mel_after`` (B, T, n_mels) and ``alignments`` (B, steps, N)."""

    @abc.abstractmethod
    def compute_loss(self, out: dict, batch: dict, step: int = 0) -> dict:
        """Loss terms of ``forward_batch``'s output, with their weighted sum under ``loss``; every
        term is a tensor on the model's device."""

    @abc.abstractmethod
    def inference(self, tokens, speaker=None, emotion=None, style=None, threshold: float = 0.5,
                  maxlenratio: float = 12.0, minlenratio: float = 0.0, emotion_weights=None,
                  attention_window=None) -> dict:
        """Synthesize one utterance from a 1-D token id tensor: ``mel`` (T, n_mels) normalized,
        ``stop_probs`` (steps,) or None (no stop token), ``alignment`` (steps, N).
        ``attention_window`` [back, forward]: the attention constraint of attention models."""

    @torch.no_grad()
    def inference_batch(self, tokens: list, speakers=None, emotion_weights=None, styles=None, seeds=None,
                        **kwargs) -> list[dict]:
        """Synthesize several utterances: one dict per utterance, as :meth:`inference` gives it.

        ``speakers`` (B,), ``emotion_weights`` (B, num_emotions), ``styles`` (B, D): one row per
        utterance; a keyword given as a list or tuple is one value per utterance, any other is
        shared (``attention_window`` is always shared). This default calls :meth:`inference` once per utterance, seeding the global RNG
        with ``seeds[b]`` inside a fork of the RNG state (the model's CUDA device included), so the
        caller's random state is left as it was.
        """
        def row(values, i):
            return None if values is None else values[i]

        out = []
        with torch.random.fork_rng(devices=rng_devices(self)):
            for i, tok in enumerate(tokens):
                if seeds is not None:
                    torch.manual_seed(int(seeds[i]))
                mine = {k: v[i] if isinstance(v, (list, tuple)) and k != "attention_window" else v
                        for k, v in kwargs.items()}
                out.append(self.inference(tok, speaker=row(speakers, i), emotion_weights=row(emotion_weights, i),
                                          style=row(styles, i), **mine))
        return out


def rng_devices(model: nn.Module) -> list[int]:
    """The CUDA device indices of ``model``'s parameters (what ``torch.random.fork_rng`` must be
    told about so that reseeding inside it does not leak out); empty on CPU or ``meta``."""
    found = []
    for p in model.parameters():
        if p.device.type == "cuda":
            index = p.device.index if p.device.index is not None else torch.cuda.current_device()
            if index not in found:
                found.append(index)
    return found
