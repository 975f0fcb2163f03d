"""The reference encoder of GST, VAE and CVAE Tacotron: a mel spectrogram -> one summary vector
(Skerry-Ryan et al. 2018): 2-D conv stack with batch norm, then a GRU whose last state is the
summary."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from pytorch_backend.tts.layers.masks import length_mask


class ReferenceEncoder(nn.Module):
    """(B, T, n_mels) mel -> (B, gru_dim) summary. Each conv halves time and frequency;
    padded frames are zeroed after every layer and the GRU runs on packed sequences, so the
    summary of a padded item equals that of the item alone (in eval mode)."""

    def __init__(self, n_mels: int, channels=(32, 32, 64, 64, 128, 128), kernel: int = 3,
                 gru_dim: int = 128):
        super().__init__()
        chans = [1] + list(channels)
        self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], kernel, stride=2,
                                             padding=kernel // 2, bias=False)
                                   for i in range(len(channels)))
        self.norms = nn.ModuleList(nn.BatchNorm2d(c) for c in channels)
        freq = n_mels
        for _ in channels:
            freq = (freq - 1) // 2 + 1
        self.gru = nn.GRU(chans[-1] * freq, gru_dim, batch_first=True)
        self.out_dim = gru_dim

    def forward(self, mels: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        x = mels.unsqueeze(1)  # (B, 1, T, F)
        lens = lens.clone()
        x = x * length_mask(lens, x.size(2)).view(x.size(0), 1, -1, 1).to(x.dtype)
        for conv, norm in zip(self.convs, self.norms):
            x = F.relu(norm(conv(x)))
            lens = (lens - 1) // 2 + 1
            x = x * length_mask(lens, x.size(2)).view(x.size(0), 1, -1, 1).to(x.dtype)
        b, c, t, f = x.shape
        x = x.permute(0, 2, 1, 3).reshape(b, t, c * f)
        packed = pack_padded_sequence(x, lens.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)
        return h[-1]
