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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = F.dropout(F.relu(layer(x)), p=self.dropout, training=True)
        return x


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
