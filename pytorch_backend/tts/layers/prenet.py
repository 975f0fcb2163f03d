"""Decoder prenet and postnet of Tacotron 2."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.tts.layers.encoder import ConvBlock


class Prenet(nn.Module):
    """Linear -> ReLU -> dropout layers. Dropout stays on at inference (as in Tacotron 2):
    it is the model's only source of variation and makes the decoder robust to its own
    imperfect predictions; decoding seeds torch so the output is still deterministic."""

    def __init__(self, in_dim: int, dims=(256, 256), dropout: float = 0.5):
        super().__init__()
        sizes = [in_dim] + list(dims)
        self.layers = nn.ModuleList(nn.Linear(sizes[i], sizes[i + 1]) for i in range(len(dims)))
        self.dropout = dropout
        self.out_dim = sizes[-1]

    def forward(self, x: torch.Tensor, generators=None) -> torch.Tensor:
        """``generators``: one CPU ``torch.Generator`` per row of ``x`` (B, D); row b's dropout
        masks then come from its own generator, exactly as ``F.dropout`` draws them from the
        global CPU generator for a batch of one, so each utterance of a batched decode gets the
        masks it would get decoded alone after ``torch.manual_seed(seed_b)`` (see
        Decoder.inference_batch)."""
        for layer in self.layers:
            x = F.relu(layer(x))
            if generators is None:
                x = F.dropout(x, p=self.dropout, training=True)
            elif self.dropout > 0:
                x = x * self.row_masks(x, generators)
        return x

    def row_masks(self, x: torch.Tensor, generators) -> torch.Tensor:
        """Scaled keep-masks (B, D) on ``x``'s device, row b drawn on CPU from ``generators[b]``."""
        keep = 1.0 - self.dropout
        rows = [torch.empty((1,) + tuple(x.shape[1:])).bernoulli_(keep, generator=g) for g in generators]
        return torch.cat(rows).div_(keep).to(device=x.device, dtype=x.dtype)


class Postnet(nn.Module):
    """Residual conv stack refining the decoder's mel prediction, on (B, T, n_mels)."""

    def __init__(self, n_mels: int, layers: int = 5, channels: int = 512, kernel: int = 5,
                 dropout: float = 0.5):
        super().__init__()
        self.blocks = nn.ModuleList()
        if layers <= 0:
            return
        chans = [n_mels] + [channels] * (layers - 1) + [n_mels]
        for i in range(layers):
            last = i == layers - 1
            self.blocks.append(ConvBlock(chans[i], chans[i + 1], kernel, dropout,
                                         activation="none" if last else "tanh"))

    def forward(self, mel: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Return the residual to add to ``mel`` (zero when the postnet has no layers)."""
        if not self.blocks:
            return torch.zeros_like(mel)
        x = mel.transpose(1, 2)
        if mask is not None:  # padded frames must not reach real ones through the convs
            x = x * mask.unsqueeze(1).to(x.dtype)
        for block in self.blocks:
            x = block(x, mask)
        return x.transpose(1, 2)
