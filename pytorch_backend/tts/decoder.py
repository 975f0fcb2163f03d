"""Autoregressive Tacotron 2 decoder: prenet -> attention LSTM -> location-sensitive attention
-> decoder LSTM -> r mel frames + one stop logit per step (reduction factor r).

Speed on CPU. In Tacotron 2 only the attention LSTM and the attention are truly recurrent:
the decoder LSTM reads ``[attention state, context]`` and feeds nothing back but the predicted
frame, which teacher forcing replaces by the real one. Training therefore runs the small
recurrent part step by step and then the decoder LSTM over the whole sequence in one fused
``nn.LSTM`` call, followed by one projection for all steps. The attention LSTM's input
projection of the prenet output is also done for all steps at once; inside the loop only the
context and recurrent projections remain. This removes most per-step kernel launches and
weight-gradient accumulations, which dominate on a CPU. Inference runs the same weights step
by step.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.tts.attention import LocationSensitiveAttention
from pytorch_backend.tts.layers.prenet import Prenet


class AttentionCell(nn.Module):
    """The attention LSTM: ``(prenet_out, prev_context) -> h`` with the prenet part of the gate
    projection computable for all steps at once (``input_gates``)."""

    def __init__(self, prenet_dim: int, context_dim: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.w_in = nn.Linear(prenet_dim, 4 * hidden, bias=True)
        self.w_rec = nn.Linear(context_dim + hidden, 4 * hidden, bias=False)
        bound = 1.0 / math.sqrt(hidden)
        for p in self.parameters():  # the usual LSTM initialization
            nn.init.uniform_(p, -bound, bound)
        with torch.no_grad():  # forget-gate bias 1: remember by default early in training
            self.w_in.bias[hidden:2 * hidden].fill_(1.0)

    def input_gates(self, prenet_out: torch.Tensor) -> torch.Tensor:
        return self.w_in(prenet_out)

    def forward(self, in_gates, context, h, c):
        gates = in_gates + self.w_rec(torch.cat([context, h], -1))
        i, f, g, o = gates.chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


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
        self.attn_cell = AttentionCell(self.prenet.out_dim, memory_dim, attn_rnn_dim)
        self.attention = LocationSensitiveAttention(attn_rnn_dim, memory_dim, attn_dim,
                                                    loc_channels, loc_kernel)
        self.dec_rnn = nn.LSTM(attn_rnn_dim + memory_dim, decoder_rnn_dim, batch_first=True)
        self.mel_proj = nn.Linear(decoder_rnn_dim + memory_dim, n_mels * reduction_factor)
        self.stop_proj = nn.Linear(decoder_rnn_dim + memory_dim, 1)
        self.rnn_dropout = rnn_dropout

    def _attend_loop(self, in_gates, memory, mask, on_step=None):
        """Run attention LSTM + attention over the steps of ``in_gates`` (B, G, 4H).

        ``on_step(g, h, context)`` may return False to stop early (inference).
        Returns attention states (B, G, H), contexts (B, G, D), alignments (B, G, N).
        """
        b, n, _ = memory.shape
        processed = self.attention.process_memory(memory)
        h = memory.new_zeros(b, self.attn_cell.hidden)
        c = memory.new_zeros(b, self.attn_cell.hidden)
        context = memory.new_zeros(b, self.memory_dim)
        weights = memory.new_zeros(b, n)
        cum = memory.new_zeros(b, n)
        hs, contexts, aligns = [], [], []
        drop = self.rnn_dropout if self.training else 0.0
        for g in range(in_gates.size(1)):
            h, c = self.attn_cell(in_gates[:, g], context, h, c)
            if drop:
                h = F.dropout(h, drop, True)
            context, weights = self.attention(h, memory, processed, weights, cum, mask)
            cum = cum + weights
            hs.append(h)
            contexts.append(context)
            aligns.append(weights)
            if on_step is not None and on_step(g, h, context) is False:
                break
        return torch.stack(hs, 1), torch.stack(contexts, 1), torch.stack(aligns, 1)

    def _project(self, dec_out, contexts):
        out = torch.cat([dec_out, contexts], -1)
        return self.mel_proj(out), self.stop_proj(out).squeeze(-1)

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
        in_gates = self.attn_cell.input_gates(self.prenet(inputs))
        hs, contexts, align = self._attend_loop(in_gates, memory, memory_mask)
        dec_out, _ = self.dec_rnn(torch.cat([hs, contexts], -1))
        if self.training and self.rnn_dropout:
            dec_out = F.dropout(dec_out, self.rnn_dropout, True)
        mel, stop = self._project(dec_out, contexts)
        return mel.reshape(b, t, self.n_mels), stop, align

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
        state = {"frame": memory.new_zeros(1, self.n_mels), "dec": None}
        outs, probs = [], []

        def step(g, h, context):
            dec_out, state["dec"] = self.dec_rnn(torch.cat([h, context], -1).unsqueeze(1), state["dec"])
            mel, stop = self._project(dec_out[:, 0], context)
            outs.append(mel.view(self.r, self.n_mels))
            prob = torch.sigmoid(stop)[0]
            probs.append(prob)
            if g + 1 >= min_steps and prob.item() > threshold:
                return False
            if g + 1 < max_steps:  # the next step's input gates from this step's last frame
                state["frame"] = mel.view(1, self.r, self.n_mels)[:, -1]
                gates[:, g + 1] = self.attn_cell.input_gates(self.prenet(state["frame"]))
            return True

        steps = max(1, max_steps)
        gates = memory.new_zeros(1, steps, 4 * self.attn_cell.hidden)
        gates[:, 0] = self.attn_cell.input_gates(self.prenet(state["frame"]))
        _, _, align = self._attend_loop(gates, memory, mask, on_step=step)
        return torch.cat(outs, 0), torch.stack(probs), align[0]
