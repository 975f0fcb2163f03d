"""Attention-free autoregressive decoder of the Tacotron 2 family (``alignment: durations``), as in
Non-Attentive Tacotron (Shen et al. 2020): token durations place every encoder state on the
frames it spans, so the decoder is told where it is instead of finding it by attention.

    memory (B, N, D), durations -> frame contexts (B, T, D) (+ position inside the token)
    -> r-frame groups (B, T/r, D + r): mean state of the group's frames, each frame's position
    prenet(previous frame) + group context -> LSTM -> [+ group context (+ condition)] -> LSTM
    -> linear([output, group context]) -> r mel frames

No stop token: the length is the sum of the durations. With the context known for every step
before decoding starts, teacher-forced training runs both LSTMs as fused ``nn.LSTM`` calls over
the whole sequence (no step-by-step loop at all, unlike the attention decoder); free-running
decoding runs them step by step on the model's own previous frames.

The position inside a token, (frame - token start + 0.5) / duration, stands in for the
positional embedding of Non-Attentive Tacotron's upsampling. The durations here come from a
hard monotonic alignment learned inside the model (:class:`~pytorch_backend.tts.learned_durations.
LearnedDurations`) rather than from an external aligner; Non-Attentive Tacotron's Gaussian
upsampling is replaced by repeating each state over its frames (the FastSpeech length regulator).
"""

from __future__ import annotations

import torch
from torch import nn

from pytorch_backend.tts.decoder import DecoderBase
from pytorch_backend.tts.layers.variance import expand


def group_contexts(memory: torch.Tensor, path: torch.Tensor, r: int, frames: int | None = None) -> torch.Tensor:
    """Decoder-step contexts (B, G, D + r) of token states ``memory`` (B, N, D) along a 0/1
    alignment ``path`` (B, T, N), for groups of ``r`` frames (G = ceil(frames / r); ``frames``
    defaults to T): the mean state over the group's frames, then the position inside its token of
    each of the r frames. Frames beyond the path (padding) contribute zeros."""
    b, t, _ = path.shape
    frames = t if frames is None else int(frames)
    if frames < t:
        raise ValueError(f"frames ({frames}) is shorter than the alignment ({t})")
    path = path.to(memory.dtype)
    durations = path.sum(1)  # (B, N)
    starts = torch.cumsum(durations, 1) - durations
    index = torch.arange(t, device=memory.device, dtype=memory.dtype).view(1, t)
    start_of_frame = torch.bmm(path, starts.unsqueeze(-1)).squeeze(-1)
    length_of_frame = torch.bmm(path, durations.unsqueeze(-1)).squeeze(-1)
    real = path.sum(-1) > 0
    position = torch.where(real, (index - start_of_frame + 0.5) / length_of_frame.clamp(min=1.0),
                           torch.zeros_like(index))
    states = expand(memory, path)  # (B, T, D)
    groups = -(-frames // r)
    pad = groups * r - t
    if pad:
        states = torch.cat([states, states.new_zeros(b, pad, states.size(2))], 1)
        position = torch.cat([position, position.new_zeros(b, pad)], 1)
    mean_state = states.view(b, groups, r, -1).mean(2)
    return torch.cat([mean_state, position.view(b, groups, r)], -1)


class DurationDecoder(DecoderBase):
    """Prenet -> LSTM -> LSTM -> r frames, reading one precomputed context per step."""

    def __init__(self, n_mels: int, memory_dim: int, reduction_factor: int = 3, prenet_dims=(256, 256),
                 prenet_dropout: float = 0.5, first_rnn_dim: int = 512, second_rnn_dim: int = 512,
                 rnn_dropout: float = 0.1, cond_dim: int = 0, cond_mode: str = "concat"):
        super().__init__(n_mels, reduction_factor, prenet_dims, prenet_dropout, rnn_dropout, cond_dim, cond_mode)
        self.context_dim = memory_dim + reduction_factor
        self.first_rnn = nn.LSTM(self.prenet.out_dim + self.context_dim, first_rnn_dim, batch_first=True)
        self.second_rnn = nn.LSTM(first_rnn_dim + self.context_dim + self.concat_cond_dim, second_rnn_dim,
                                  batch_first=True)
        self.mel_proj = nn.Linear(second_rnn_dim + self.context_dim, n_mels * reduction_factor)

    def _steps(self, prenet_out, contexts, cond, states=(None, None)):
        """Both LSTMs over (B, S, .) inputs from ``states``; returns r-frame groups (B, S, r * n_mels)
        and the new states."""
        first, s1 = self.first_rnn(torch.cat([prenet_out, contexts], -1), states[0])
        first = self._drop(first)
        second, s2 = self.second_rnn(self._dec_input(first, contexts, cond), states[1])
        second = self._drop(second)
        return self.mel_proj(torch.cat([second, contexts], -1)), (s1, s2)

    def forward(self, contexts, mels, cond=None, feedback=None):
        """Teacher-forced decoding: contexts (B, T/r, context_dim) from :func:`group_contexts`,
        mels (B, T, n_mels) with T a multiple of r; ``feedback`` as in the attention decoder.
        Returns mel (B, T, n_mels)."""
        b, t, _ = mels.shape
        self._check_cond(cond)
        feedback = self._check_feedback(feedback, mels)
        if contexts.shape[:2] != feedback.shape[:2]:
            raise ValueError(f"{contexts.size(1)} decoder contexts for {feedback.size(1)} steps of {self.r} frames")
        out, _ = self._steps(self._prenet(feedback, cond), contexts, cond)
        return out.reshape(b, t, self.n_mels)

    @torch.no_grad()
    def inference(self, contexts, cond=None, generators=None):
        """Free-running decoding of every step of ``contexts`` (B, G, context_dim), each reading
        the previous step's last predicted frame; ``generators``: one CPU generator per row for
        the prenet dropout (None: the global one). Rows are independent, so a row decoded in a
        batch comes out as it would alone (up to float rounding); steps past a row's own length
        only follow its real ones and are cut by the caller. Returns mel (B, G * r, n_mels)."""
        self._check_cond(cond)
        b, groups, _ = contexts.shape
        frame = contexts.new_zeros(b, self.n_mels)
        states = (None, None)
        outs = []
        for g in range(groups):
            p = self._prenet(frame, cond, generators).unsqueeze(1)
            out, states = self._steps(p, contexts[:, g:g + 1], cond, states)
            group = out.view(b, self.r, self.n_mels)
            outs.append(group)
            frame = group[:, -1]
        return torch.cat(outs, 1)
