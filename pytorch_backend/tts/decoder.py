"""Autoregressive Tacotron 2 decoder: prenet -> attention LSTM -> location-sensitive attention
-> decoder LSTM -> r mel frames + one stop logit per step (reduction factor r).

Speed on CPU. In Tacotron 2 only the attention LSTM and the attention are truly recurrent:
the decoder LSTM reads ``[attention state, context]`` and feeds nothing back but the predicted
frame, which teacher forcing replaces by the real one. Training therefore runs the recurrent
part step by step and then the decoder LSTM over the whole sequence in one fused ``nn.LSTM``
call, followed by one projection for all steps; the prenet part of the attention LSTM's input
projection is also done for all steps at once. This removes most per-step kernel launches and
weight-gradient accumulations, which dominate on a CPU.

``context_feedback: false`` goes one step further: the attention LSTM reads the prenet output
only (not the previous attention context), so it too runs as one fused call over the whole
sequence and the step-by-step loop is reduced to the attention itself. The location features
(previous and cumulative weights) still tell the attention where it is.

An optional per-utterance condition vector (``cond_dim`` > 0, e.g. an emotion prosody vector)
enters the decoder itself: ``cond_mode: concat`` appends it to the decoder LSTM's input at every
step, ``add`` adds its projection to the prenet output (the autoregressive input).

Inference runs the same weights step by step; fed its own predictions as teacher-forcing
targets, training-mode decoding reproduces it exactly (tests check this).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.tts.attention import LocationSensitiveAttention
from pytorch_backend.tts.layers.prenet import Prenet


class AttentionCell(nn.Module):
    """The attention LSTM with context feedback: ``(prenet_out, prev_context) -> h``; the prenet
    part of the gate projection is computable for all steps at once (``input_gates``)."""

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


def previous_frames(mels: torch.Tensor, r: int) -> torch.Tensor:
    """Teacher-forcing inputs (B, T/r, n_mels) of a decoder emitting r frames a step: step g
    reads the last frame of group g-1 of ``mels`` (zeros for g = 0)."""
    last_frames = mels[:, r - 1::r]
    return torch.cat([mels.new_zeros(mels.size(0), 1, mels.size(2)), last_frames[:, :-1]], dim=1)


class DecoderBase(nn.Module):
    """What every autoregressive mel decoder here shares: the prenet on the previous frame, an
    optional per-utterance condition vector (``cond_mode: concat`` appends it to the second LSTM's
    input, ``add`` adds its projection to the prenet output), dropout on the LSTM outputs in
    training, and the teacher-forcing inputs."""

    def __init__(self, n_mels: int, reduction_factor: int, prenet_dims, prenet_dropout: float,
                 rnn_dropout: float, cond_dim: int = 0, cond_mode: str = "concat"):
        super().__init__()
        if cond_mode not in ("concat", "add"):
            raise ValueError(f"decoder condition mode must be concat or add, got '{cond_mode}'")
        self.cond_dim = cond_dim
        self.cond_mode = cond_mode
        self.cond_proj = nn.Linear(cond_dim, prenet_dims[-1]) if cond_dim and cond_mode == "add" else None
        self.concat_cond_dim = cond_dim if cond_mode == "concat" else 0
        self.n_mels = n_mels
        self.r = reduction_factor
        self.prenet = Prenet(n_mels, prenet_dims, prenet_dropout)
        self.rnn_dropout = rnn_dropout

    def _drop(self, x):
        return F.dropout(x, self.rnn_dropout, True) if self.training and self.rnn_dropout else x

    def _prenet(self, frames, cond, generators=None):
        """Prenet output of the autoregressive input, plus the projected condition (``add``)."""
        out = self.prenet(frames, generators)
        if self.cond_proj is not None:
            proj = self.cond_proj(cond)
            out = out + (proj.unsqueeze(1) if out.dim() == 3 else proj)
        return out

    def _dec_input(self, hs, contexts, cond):
        parts = [hs, contexts]
        if self.cond_dim and self.cond_mode == "concat":
            parts.append(cond.unsqueeze(1).expand(-1, hs.size(1), -1) if hs.dim() == 3 else cond)
        return torch.cat(parts, -1)

    def _check_cond(self, cond):
        if self.cond_dim and cond is None:
            raise ValueError("this decoder is conditioned: pass its condition vector")

    def teacher_inputs(self, mels):
        """Teacher-forcing inputs (B, T/r, n_mels) (see :func:`previous_frames`)."""
        return previous_frames(mels, self.r)

    def _check_feedback(self, feedback, mels):
        """The frames the steps read: ``feedback`` (scheduled sampling) if given, else the real ones."""
        b, t, _ = mels.shape
        if t % self.r:
            raise ValueError(f"target length {t} is not a multiple of the reduction factor {self.r}")
        if feedback is None:
            return self.teacher_inputs(mels)
        if feedback.shape != (b, t // self.r, self.n_mels):
            raise ValueError(f"decoder feedback must have shape {(b, t // self.r, self.n_mels)}, "
                             f"got {tuple(feedback.shape)}")
        return feedback


class Decoder(DecoderBase):
    def __init__(self, n_mels: int, memory_dim: int, reduction_factor: int = 3,
                 prenet_dims=(256, 256), prenet_dropout: float = 0.5, attn_rnn_dim: int = 512,
                 decoder_rnn_dim: int = 512, attn_dim: int = 128, loc_channels: int = 32,
                 loc_kernel: int = 31, rnn_dropout: float = 0.1, context_feedback: bool = True,
                 cond_dim: int = 0, cond_mode: str = "concat"):
        super().__init__(n_mels, reduction_factor, prenet_dims, prenet_dropout, rnn_dropout, cond_dim, cond_mode)
        self.memory_dim = memory_dim
        self.attn_rnn_dim = attn_rnn_dim
        self.context_feedback = context_feedback
        if context_feedback:
            self.attn_cell = AttentionCell(self.prenet.out_dim, memory_dim, attn_rnn_dim)
        else:
            self.attn_rnn = nn.LSTM(self.prenet.out_dim, attn_rnn_dim, batch_first=True)
        self.attention = LocationSensitiveAttention(attn_rnn_dim, memory_dim, attn_dim,
                                                    loc_channels, loc_kernel)
        self.dec_rnn = nn.LSTM(attn_rnn_dim + memory_dim + self.concat_cond_dim, decoder_rnn_dim, batch_first=True)
        self.mel_proj = nn.Linear(decoder_rnn_dim + memory_dim, n_mels * reduction_factor)
        self.stop_proj = nn.Linear(decoder_rnn_dim + memory_dim, 1)

    def _project(self, dec_out, contexts):
        out = torch.cat([dec_out, contexts], -1)
        return self.mel_proj(out), self.stop_proj(out).squeeze(-1)

    def _attend_with_feedback(self, prenet_out, memory, mask):
        b, n, _ = memory.shape
        in_gates = self.attn_cell.input_gates(prenet_out)
        processed = self.attention.process_memory(memory)
        h = memory.new_zeros(b, self.attn_rnn_dim)
        c = torch.zeros_like(h)
        context = memory.new_zeros(b, self.memory_dim)
        weights = memory.new_zeros(b, n)
        cum = torch.zeros_like(weights)
        hs, contexts, aligns = [], [], []
        for g in range(in_gates.size(1)):
            h, c = self.attn_cell(in_gates[:, g], context, h, c)
            h = self._drop(h)
            context, weights = self.attention(h, memory, processed, weights, cum, mask)
            cum = cum + weights
            hs.append(h)
            contexts.append(context)
            aligns.append(weights)
        return torch.stack(hs, 1), torch.stack(contexts, 1), torch.stack(aligns, 1)

    def _attend_without_feedback(self, prenet_out, memory, mask):
        b, n, _ = memory.shape
        hs = self._drop(self.attn_rnn(prenet_out)[0])
        queries = self.attention.query(hs)  # (B, G, A), all steps at once
        processed = self.attention.process_memory(memory)
        weights = memory.new_zeros(b, n)
        cum = torch.zeros_like(weights)
        contexts, aligns = [], []
        for g in range(hs.size(1)):
            context, weights = self.attention.attend(queries[:, g], memory, processed, weights, cum, mask)
            cum = cum + weights
            contexts.append(context)
            aligns.append(weights)
        return hs, torch.stack(contexts, 1), torch.stack(aligns, 1)

    def forward(self, memory, memory_mask, mels, cond=None, feedback=None):
        """Teacher-forced decoding.

        memory (B, N, D), memory_mask (B, N), mels (B, T, n_mels) with T a multiple of r,
        cond (B, cond_dim) when the decoder is conditioned; ``feedback`` (B, T/r, n_mels): the
        frame each step reads instead of ``teacher_inputs(mels)`` (scheduled sampling).
        Returns mel (B, T, n_mels), stop logits (B, T/r), alignments (B, T/r, N).
        """
        b, t, _ = mels.shape
        self._check_cond(cond)
        feedback = self._check_feedback(feedback, mels)
        prenet_out = self._prenet(feedback, cond)
        attend = self._attend_with_feedback if self.context_feedback else self._attend_without_feedback
        hs, contexts, align = attend(prenet_out, memory, memory_mask)
        dec_out = self._drop(self.dec_rnn(self._dec_input(hs, contexts, cond))[0])
        mel, stop = self._project(dec_out, contexts)
        return mel.reshape(b, t, self.n_mels), stop, align

    @torch.no_grad()
    def inference(self, memory, threshold: float = 0.5, max_steps: int = 1000, min_steps: int = 0,
                  cond=None, window=None):
        """Free-running decoding of one utterance (B = 1).

        Stops after the first step whose stop probability exceeds ``threshold`` (not before
        ``min_steps`` steps) or after ``max_steps`` steps. ``window`` (back, forward): the
        attention constraint (attention.window_mask), None for none.
        Returns mel (T, n_mels), stop probabilities (T/r,), alignment (T/r, N).
        """
        if memory.size(0) != 1:
            raise ValueError("inference decodes one utterance at a time")
        self._check_cond(cond)
        n = memory.size(1)
        mask = torch.ones(1, n, dtype=torch.bool, device=memory.device)
        processed = self.attention.process_memory(memory)
        frame = memory.new_zeros(1, self.n_mels)
        context = memory.new_zeros(1, self.memory_dim)
        h = memory.new_zeros(1, self.attn_rnn_dim)
        c = torch.zeros_like(h)
        attn_state = dec_state = None
        weights = memory.new_zeros(1, n)
        cum = torch.zeros_like(weights)
        outs, probs, aligns = [], [], []
        for g in range(max(1, max_steps)):
            p = self._prenet(frame, cond)
            if self.context_feedback:
                h, c = self.attn_cell(self.attn_cell.input_gates(p), context, h, c)
            else:
                out, attn_state = self.attn_rnn(p.unsqueeze(1), attn_state)
                h = out[:, 0]
            context, weights = self.attention.attend(self.attention.query(h), memory, processed, weights, cum,
                                                     mask, window)
            cum = cum + weights
            dec_out, dec_state = self.dec_rnn(self._dec_input(h, context, cond).unsqueeze(1), dec_state)
            mel, stop = self._project(dec_out[:, 0], context)
            outs.append(mel.view(self.r, self.n_mels))
            aligns.append(weights[0])
            prob = torch.sigmoid(stop)[0]
            probs.append(prob)
            if g + 1 >= min_steps and prob.item() > threshold:
                break
            frame = mel.view(self.r, self.n_mels)[-1:]
        return torch.cat(outs, 0), torch.stack(probs), torch.stack(aligns)

    @torch.no_grad()
    def inference_batch(self, memory, memory_mask, threshold: float = 0.5, max_steps=None, min_steps=None,
                        cond=None, generators=None, lengths=None, window=None):
        """Free-running decoding of a padded batch, each utterance stopping on its own.

        memory (B, N, D) and memory_mask (B, N) as in training; ``max_steps``/``min_steps``: one
        int per utterance; ``cond`` (B, cond_dim); ``generators``: one CPU generator per
        utterance for the prenet dropout (None: the global generator); ``lengths``: the real memory
        lengths (default: from the mask); ``window`` as in :meth:`inference`. Utterance b stops exactly
        where :meth:`inference` would stop it (first step past ``min_steps[b]`` whose stop
        probability exceeds ``threshold``, or ``max_steps[b]``); finished utterances leave the
        batch, so the remaining steps only compute the unfinished ones.
        Returns a list of (mel (T_b, n_mels), stop probabilities (T_b/r,), alignment (T_b/r, N_b)).
        """
        self._check_cond(cond)
        b, n, _ = memory.shape
        lens = list(lengths) if lengths is not None else memory_mask.sum(1).tolist()
        max_steps = [max(1, int(m)) for m in (max_steps if max_steps is not None else [1000] * b)]
        min_steps = [int(m) for m in (min_steps if min_steps is not None else [0] * b)]
        processed = self.attention.process_memory(memory)
        loc = processed["loc"]  # shared by the whole batch
        proj = processed["memory"]
        active = list(range(b))  # original index of each row still decoding
        frame = memory.new_zeros(b, self.n_mels)
        context = memory.new_zeros(b, self.memory_dim)
        h = memory.new_zeros(b, self.attn_rnn_dim)
        c = torch.zeros_like(h)
        attn_state = dec_state = None
        weights = memory.new_zeros(b, n)
        cum = torch.zeros_like(weights)
        mask = memory_mask
        gens = list(generators) if generators is not None else None
        outs = [[] for _ in range(b)]
        probs = [[] for _ in range(b)]
        aligns = [[] for _ in range(b)]
        g = 0
        while active:
            p = self._prenet(frame, cond, gens)
            if self.context_feedback:
                h, c = self.attn_cell(self.attn_cell.input_gates(p), context, h, c)
            else:
                out, attn_state = self.attn_rnn(p.unsqueeze(1), attn_state)
                h = out[:, 0]
            context, weights = self.attention.attend(self.attention.query(h), memory, {"memory": proj, "loc": loc},
                                                     weights, cum, mask, window)
            cum = cum + weights
            dec_out, dec_state = self.dec_rnn(self._dec_input(h, context, cond).unsqueeze(1), dec_state)
            mel, stop = self._project(dec_out[:, 0], context)
            mel = mel.view(-1, self.r, self.n_mels)
            prob = torch.sigmoid(stop)
            done_now = []
            for row, (orig, pr) in enumerate(zip(active, prob.tolist())):
                outs[orig].append(mel[row])
                aligns[orig].append(weights[row, :lens[orig]])
                probs[orig].append(prob[row])
                if (g + 1 >= min_steps[orig] and pr > threshold) or g + 1 >= max_steps[orig]:
                    done_now.append(row)
            g += 1
            frame = mel[:, -1]
            if done_now:
                keep = [row for row in range(len(active)) if row not in set(done_now)]
                if not keep:
                    break
                idx = torch.tensor(keep, device=memory.device)
                active = [active[row] for row in keep]
                frame, context, h, c = frame[idx], context[idx], h[idx], c[idx]
                weights, cum, memory, proj, mask = weights[idx], cum[idx], memory[idx], proj[idx], mask[idx]
                attn_state = None if attn_state is None else tuple(s[:, idx] for s in attn_state)
                dec_state = tuple(s[:, idx] for s in dec_state)
                cond = None if cond is None else cond[idx]
                gens = None if gens is None else [gens[row] for row in keep]
        return [(torch.cat(outs[i], 0), torch.stack(probs[i]), torch.stack(aligns[i])) for i in range(b)]
