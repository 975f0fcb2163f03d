"""Global Style Tokens (Wang et al. 2018) on top of Tacotron 2.

A reference encoder (2-D conv stack with batch norm -> GRU, last state) summarizes a mel
spectrogram; a style token layer attends from that summary over N learnable tokens
(multi-head, keys/values = tanh(tokens)); the weighted sum is the style embedding, combined
with every encoder state. During training the reference is the target mel itself, so the
style must carry whatever text and speaker do not explain: here, the emotion.

Optionally (``style_emotion_weight`` > 0) an emotion classifier on the style embedding adds a
cross-entropy term in training (semi-supervised GST, Wu et al. 2019), which gathers the
utterances of one emotion into a compact region of the style space, so the mean style of an
emotion's utterances is a good representative of it. No emotion label enters synthesis.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.tts.layers.reference_encoder import ReferenceEncoder
from pytorch_backend.tts.tacotron2 import Tacotron2


class StyleTokenLayer(nn.Module):
    """Multi-head attention from a query vector over ``num_tokens`` learnable style tokens."""

    def __init__(self, query_dim: int, num_tokens: int = 10, style_dim: int = 256, heads: int = 4):
        super().__init__()
        if style_dim % heads:
            raise ValueError(f"gst style_dim {style_dim} is not divisible by gst_heads {heads}")
        self.heads = heads
        self.tokens = nn.Parameter(torch.randn(num_tokens, style_dim // heads) * 0.5)
        self.q = nn.Linear(query_dim, style_dim, bias=False)
        self.k = nn.Linear(style_dim // heads, style_dim, bias=False)
        self.v = nn.Linear(style_dim // heads, style_dim, bias=False)
        self.out_dim = style_dim

    def attention_weights(self, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, Q) -> weights (B, heads, num_tokens) and values (heads, num_tokens, d)."""
        b = query.size(0)
        keys = torch.tanh(self.tokens)
        d = self.q.out_features // self.heads
        q = self.q(query).view(b, self.heads, 1, d)
        k = self.k(keys).view(-1, self.heads, d).transpose(0, 1)  # (H, N, d)
        v = self.v(keys).view(-1, self.heads, d).transpose(0, 1)
        weights = torch.softmax((q @ k.transpose(1, 2).unsqueeze(0)) / d ** 0.5, dim=-1)  # (B,H,1,N)
        return weights.squeeze(2), v

    def forward(self, query: torch.Tensor) -> torch.Tensor:
        weights, v = self.attention_weights(query)
        style = torch.einsum("bhn,hnd->bhd", weights, v)
        return style.reshape(query.size(0), -1)

    def values(self) -> torch.Tensor:
        """(heads, num_tokens, d): what each token contributes to each head's output."""
        d = self.q.out_features // self.heads
        return self.v(torch.tanh(self.tokens)).view(-1, self.heads, d).transpose(0, 1)

    def style_from_weights(self, weights) -> torch.Tensor:
        """Style embedding (style_dim,) from token weights (num_tokens,) or (heads, num_tokens)."""
        v = self.values()
        w = torch.as_tensor(weights, dtype=v.dtype, device=v.device)
        if w.dim() == 1:
            w = w.unsqueeze(0).expand(self.heads, -1)
        if tuple(w.shape) != tuple(v.shape[:2]):
            raise ValueError(f"gst token weights must have shape ({v.size(1)},) or ({self.heads}, {v.size(1)}), "
                             f"got {tuple(w.shape)}")
        return torch.einsum("hn,hnd->hd", w, v).reshape(-1)


class GSTTacotron2(Tacotron2):
    """Tacotron 2 + GST. No emotion label by default: emotion comes through the style."""

    CONTROLS = Tacotron2.CONTROLS + ("emotion_mean", "reference", "gst_weights")

    def __init__(self, num_tokens: int, num_speakers: int = 1, num_emotions: int = 1, n_mels: int = 80,
                 *, gst_tokens: int = 10, gst_heads: int = 4, style_dim: int = 128,
                 ref_channels=(32, 32, 64, 64), ref_kernel: int = 3, ref_gru_dim: int = 128,
                 style_combine: str = "concat", style_emotion_weight: float = 0.0,
                 use_emotion: bool = False, **kwargs):
        self._gst_args = dict(n_mels=n_mels, gst_tokens=gst_tokens, gst_heads=gst_heads,
                              style_dim=style_dim, ref_channels=tuple(ref_channels),
                              ref_kernel=ref_kernel, ref_gru_dim=ref_gru_dim,
                              style_combine=style_combine)
        super().__init__(num_tokens, num_speakers, num_emotions, n_mels, use_emotion=use_emotion, **kwargs)
        self.style_emotion_weight = float(style_emotion_weight)
        # semi-supervised GST (Wu et al. 2019): an emotion classifier on the style embedding
        # organizes the style space by emotion during training; synthesis still gets the
        # emotion only through the style (e.g. the mean style of the emotion's utterances)
        self.style_classifier = nn.Linear(style_dim, num_emotions) if self.style_emotion_weight > 0 else None

    def _add_extra_conditions(self) -> None:
        a = self._gst_args
        self.ref_encoder = ReferenceEncoder(a["n_mels"], a["ref_channels"], a["ref_kernel"], a["ref_gru_dim"])
        self.style_tokens = StyleTokenLayer(self.ref_encoder.out_dim, a["gst_tokens"], a["style_dim"],
                                            a["gst_heads"])
        self.style_dim = a["style_dim"]
        self.conditioner.add_input("style", a["style_dim"], a["style_combine"])

    def style_embedding(self, mels: torch.Tensor, mel_lens: torch.Tensor) -> torch.Tensor:
        """Style embeddings (B, style_dim) of normalized reference mels (B, T, n_mels)."""
        return self.style_tokens(self.ref_encoder(mels, mel_lens))

    @property
    def controls(self) -> tuple[str, ...]:
        return super().controls + ("emotion_mean", "reference", "gst_weights")

    def style_from_token_weights(self, weights) -> torch.Tensor:
        """The style embedding (style_dim,) of manual token weights: (num_tokens,) shared by all
        heads or (heads, num_tokens). Weights are used as given (no softmax), so a token can be
        emphasized beyond the range training produced."""
        return self.style_tokens.style_from_weights(weights)

    def _teacher_extras(self, mels, mel_lens) -> dict:
        return {"style": self.style_embedding(mels, mel_lens)}

    def _extra_losses(self, out: dict, batch: dict) -> dict:
        if self.style_classifier is None:
            return {}
        logits = self.style_classifier(out["style"].float())
        return {"emo": (self.style_emotion_weight, F.cross_entropy(logits, batch["emotions"]))}

    def _extra_vectors(self, mels, mel_lens, style, emotion_weights) -> dict:
        if style is None:
            if mels is None:
                raise ValueError("a GST model needs a style embedding or a reference mel")
            style = self.style_embedding(mels, mel_lens)
        return {"style": style}
