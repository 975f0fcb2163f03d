"""Tacotron 2 text encoder: token embedding -> conv stack -> bidirectional LSTM.

Padding never leaks into real positions: conv outputs are zeroed at padded positions after
every layer (so a real position near the end sees the same zeros as an unpadded sequence
would), and the BiLSTM runs on packed sequences. In eval mode a padded item therefore
encodes exactly like the same item alone.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from pytorch_backend.tts.layers.masks import length_mask


class ConvBlock(nn.Module):
    """Conv1d -> BatchNorm -> activation -> dropout, on (B, C, T) tensors."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, dropout: float, activation: str = "relu"):
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"conv kernel size must be odd, got {kernel}")
        self.conv = nn.Conv1d(in_ch, out_ch, kernel, padding=kernel // 2)
        self.norm = nn.BatchNorm1d(out_ch)
        self.act = {"relu": nn.ReLU(), "tanh": nn.Tanh(), "none": nn.Identity()}[activation]
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        y = self.dropout(self.act(self.norm(self.conv(x))))
        if mask is not None:
            y = y * mask.unsqueeze(1).to(y.dtype)
        return y


class Encoder(nn.Module):
    """Token ids (B, N) -> encoder states (B, N, ``lstm_dim``)."""

    def __init__(self, num_tokens: int, embed_dim: int = 256, conv_layers: int = 3,
                 conv_channels: int = 256, conv_kernel: int = 5, lstm_dim: int = 256,
                 dropout: float = 0.5):
        super().__init__()
        if lstm_dim % 2:
            raise ValueError(f"encoder lstm dim must be even (two directions), got {lstm_dim}")
        self.embed = nn.Embedding(num_tokens, embed_dim, padding_idx=0)
        chans = [embed_dim] + [conv_channels] * conv_layers
        self.convs = nn.ModuleList(ConvBlock(chans[i], chans[i + 1], conv_kernel, dropout)
                                   for i in range(conv_layers))
        self.lstm = nn.LSTM(chans[-1], lstm_dim // 2, batch_first=True, bidirectional=True)
        self.out_dim = lstm_dim

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = length_mask(lengths, tokens.size(1))
        x = self.embed(tokens).transpose(1, 2)  # (B, E, N)
        x = x * mask.unsqueeze(1).to(x.dtype)
        for conv in self.convs:
            x = conv(x, mask)
        packed = pack_padded_sequence(x.transpose(1, 2), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.size(1))
        return out
