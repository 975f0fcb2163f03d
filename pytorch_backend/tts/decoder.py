"""Autoregressive Tacotron 2 decoder: prenet -> attention LSTM -> attention -> decoder LSTM
-> r mel frames + one stop logit per step (reduction factor r)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.tts.attention import LocationSensitiveAttention
from pytorch_backend.tts.layers.prenet import Prenet


class Decoder(nn.Module):
    def __init__(self, n_mels: int, memory_dim: int, reduction_factor: int = 3,
                 prenet_dims=(256, 256), prenet_dropout: float = 0.5, attn_rnn_dim: int = 512,
                 decoder_rnn_dim: int = 512, attn_dim: int = 128, loc_channels: int = 32,
                 loc_kernel: int = 31, rnn_dropout: float = 0.1):
        super().__init__()
        self.n_mels = n_mels
        self.r = reduction_factor
        self.memory_dim = memory_dim
        self.prenet = Prenet(n_mels, prenet_dims, prenet_dropout)
        self.attn_rnn = nn.LSTMCell(self.prenet.out_dim + memory_dim, attn_rnn_dim)
        self.attention = LocationSensitiveAttention(attn_rnn_dim, memory_dim, attn_dim,
                                                    loc_channels, loc_kernel)
        self.dec_rnn = nn.LSTMCell(attn_rnn_dim + memory_dim, decoder_rnn_dim)
        self.mel_proj = nn.Linear(decoder_rnn_dim + memory_dim, n_mels * reduction_factor)
        self.stop_proj = nn.Linear(decoder_rnn_dim + memory_dim, 1)
        self.rnn_dropout = rnn_dropout

    def _init_state(self, memory: torch.Tensor):
        b, n, _ = memory.shape
        z = memory.new_zeros
        return {
            "attn_h": z(b, self.attn_rnn.hidden_size), "attn_c": z(b, self.attn_rnn.hidden_size),
            "dec_h": z(b, self.dec_rnn.hidden_size), "dec_c": z(b, self.dec_rnn.hidden_size),
            "context": z(b, self.memory_dim), "weights": z(b, n), "cum_weights": z(b, n),
        }

    def _step(self, prenet_out, state, memory, processed_memory, mask):
        """Advance one decoder step; returns (mel (B, r*n_mels), stop logit (B,), weights (B, N))."""
        drop = self.rnn_dropout if self.training else 0.0
        attn_h, attn_c = self.attn_rnn(torch.cat([prenet_out, state["context"]], -1),
                                       (state["attn_h"], state["attn_c"]))
        attn_h = F.dropout(attn_h, drop, self.training)
        context, weights = self.attention(attn_h, memory, processed_memory, state["weights"],
                                          state["cum_weights"], mask)
        dec_h, dec_c = self.dec_rnn(torch.cat([attn_h, context], -1), (state["dec_h"], state["dec_c"]))
        dec_h = F.dropout(dec_h, drop, self.training)
        out = torch.cat([dec_h, context], -1)
        state.update(attn_h=attn_h, attn_c=attn_c, dec_h=dec_h, dec_c=dec_c, context=context,
                     weights=weights, cum_weights=state["cum_weights"] + weights)
        return self.mel_proj(out), self.stop_proj(out).squeeze(-1), weights

    def forward(self, memory, memory_mask, mels):
        """Teacher-forced decoding.

        memory (B, N, D), memory_mask (B, N), mels (B, T, n_mels) with T a multiple of r.
        Returns mel (B, T, n_mels), stop logits (B, T/r), alignments (B, T/r, N).
        """
        b, t, _ = mels.shape
        if t % self.r:
            raise ValueError(f"target length {t} is not a multiple of the reduction factor {self.r}")
        # the input of step g is the last frame of group g-1 (a zero "go" frame for g = 0)
        last_frames = mels[:, self.r - 1::self.r]
        inputs = torch.cat([mels.new_zeros(b, 1, self.n_mels), last_frames[:, :-1]], dim=1)
        prenet_out = self.prenet(inputs)
        processed = self.attention.process_memory(memory)
        state = self._init_state(memory)
        outs, stops, aligns = [], [], []
        for g in range(prenet_out.size(1)):
            mel, stop, weights = self._step(prenet_out[:, g], state, memory, processed, memory_mask)
            outs.append(mel)
            stops.append(stop)
            aligns.append(weights)
        mel = torch.stack(outs, 1).view(b, t, self.n_mels)
        return mel, torch.stack(stops, 1), torch.stack(aligns, 1)

    @torch.no_grad()
    def inference(self, memory, threshold: float = 0.5, max_steps: int = 1000, min_steps: int = 0):
        """Free-running decoding of one utterance (B = 1).

        Stops after the first step whose stop probability exceeds ``threshold`` (not before
        ``min_steps`` steps) or after ``max_steps`` steps.
        Returns mel (T, n_mels), stop probabilities (T/r,), alignment (T/r, N).
        """
        if memory.size(0) != 1:
            raise ValueError("inference decodes one utterance at a time")
        mask = torch.ones(memory.shape[:2], dtype=torch.bool, device=memory.device)
        processed = self.attention.process_memory(memory)
        state = self._init_state(memory)
        frame = memory.new_zeros(1, self.n_mels)
        outs, probs, aligns = [], [], []
        for g in range(max(1, max_steps)):
            mel, stop, weights = self._step(self.prenet(frame), state, memory, processed, mask)
            outs.append(mel.view(self.r, self.n_mels))
            prob = torch.sigmoid(stop)[0]
            probs.append(prob)
            aligns.append(weights[0])
            frame = mel.view(1, self.r, self.n_mels)[:, -1]
            if g + 1 >= min_steps and prob.item() > threshold:
                break
        return torch.cat(outs, 0), torch.stack(probs), torch.stack(aligns)
