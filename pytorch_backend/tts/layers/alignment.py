"""Learning the text-to-mel alignment inside the model, without an external aligner or a
teacher: the approach of "One TTS Alignment To Rule Them All" (Badlani et al. 2022), as in
RAD-TTS and FastPitch.

1. :class:`AlignmentEncoder`: a soft attention of mel frames over tokens. Keys (from the token
   embeddings) and queries (from the normalized mels) are small conv stacks; the score of
   (frame t, token n) is ``-temperature * ||q_t - k_n||^2``, log-softmaxed over the tokens of the
   utterance, plus the log of a static beta-binomial prior that favours the diagonal early on
   (:func:`beta_binomial_log_prior`).
2. :func:`forward_sum_loss`: the likelihood of all monotonic alignments of the mel to the token
   sequence, summed with the CTC forward algorithm (each token a CTC label, a blank with a fixed
   low probability), so the attention learns to be monotonic and to visit every token.
3. :func:`monotonic_alignment_search` (MAS): the most likely monotonic path through the soft
   attention (Viterbi; every token gets >= 1 frame, durations sum to the mel length), computed
   for the whole batch at once (a loop over frames, vectorized over utterances and tokens).
   Its per-token frame counts are the durations the model trains on.
4. :func:`binarization_loss`: pulls the soft attention towards the hard MAS path (switched on
   after some steps, once the soft attention is sensible).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.tts.layers.transformer import TimeConv

NEG = -1.0e4  # a large negative log-probability (finite, so gradients stay finite)


class AlignmentEncoder(nn.Module):
    """Soft text-mel attention: log-probabilities (B, T, N) of frame t attending to token n."""

    def __init__(self, n_mels: int, text_dim: int, channels: int = 80, temperature: float = 5.0e-4):
        super().__init__()
        self.temperature = float(temperature)
        self.key = nn.Sequential(TimeConv(text_dim, 2 * text_dim, 3), nn.ReLU(),
                                 TimeConv(2 * text_dim, channels, 1))
        self.query = nn.Sequential(TimeConv(n_mels, 2 * n_mels, 3), nn.ReLU(),
                                   TimeConv(2 * n_mels, n_mels, 1), nn.ReLU(),
                                   TimeConv(n_mels, channels, 1))

    def forward(self, text: torch.Tensor, text_mask: torch.Tensor, mels: torch.Tensor, mel_mask: torch.Tensor,
                log_prior: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """text (B, N, D) token embeddings, mels (B, T, n_mels) -> (log_probs, soft attention), both
        (B, T, N); padded tokens get probability 0 and padded frames rows of zeros (soft)."""
        k = self.key(text * text_mask.unsqueeze(-1).to(text.dtype))  # (B, N, C)
        q = self.query(mels * mel_mask.unsqueeze(-1).to(mels.dtype))  # (B, T, C)
        # ||q - k||^2 = ||q||^2 - 2 q.k + ||k||^2, as one batched matmul (B, T, N)
        dist = (q.pow(2).sum(-1).unsqueeze(2) - 2.0 * torch.bmm(q, k.transpose(1, 2))
                + k.pow(2).sum(-1).unsqueeze(1)).clamp(min=0.0)
        scores = -self.temperature * dist
        scores = scores.masked_fill(~text_mask.unsqueeze(1), NEG)
        logp = F.log_softmax(scores, dim=-1)
        if log_prior is not None:
            logp = logp + log_prior
        logp = logp.masked_fill(~text_mask.unsqueeze(1), NEG)
        soft = torch.softmax(logp, dim=-1) * mel_mask.unsqueeze(-1).to(logp.dtype)
        return logp, soft


def beta_binomial_log_prior(token_lens: torch.Tensor, mel_lens: torch.Tensor, max_tokens: int,
                            max_frames: int, scaling: float = 1.0) -> torch.Tensor:
    """(B, T, N) log of the beta-binomial alignment prior: for frame t (1-based) of T, token n
    of N has probability BetaBinomial(n; N - 1, a = scaling * t, b = scaling * (T - t + 1)),
    a bump that moves along the diagonal. Zero (log 1) outside each utterance's real region."""
    n_tok = token_lens.float().view(-1, 1, 1)
    n_frm = mel_lens.float().view(-1, 1, 1)
    k = torch.arange(max_tokens, device=token_lens.device, dtype=torch.float32).view(1, 1, -1)
    t = torch.arange(1, max_frames + 1, device=token_lens.device, dtype=torch.float32).view(1, -1, 1)
    n = n_tok - 1
    a = scaling * t
    b = scaling * (n_frm - t + 1)
    valid = (k <= n) & (t <= n_frm)
    k_ = torch.where(valid, k, torch.zeros_like(k))
    b_ = torch.where(valid, b, torch.ones_like(b))
    n_ = torch.where(valid, n, k_)

    def lbeta(x, y):
        return torch.lgamma(x) + torch.lgamma(y) - torch.lgamma(x + y)

    log_choose = torch.lgamma(n_ + 1) - torch.lgamma(k_ + 1) - torch.lgamma(n_ - k_ + 1)
    logp = log_choose + lbeta(k_ + a, n_ - k_ + b_) - lbeta(a, b_)
    return torch.where(valid, logp, torch.zeros_like(logp))


def forward_sum_loss(log_probs: torch.Tensor, token_lens: torch.Tensor, mel_lens: torch.Tensor,
                     blank_logprob: float = -1.0) -> torch.Tensor:
    """Negative log-likelihood of all monotonic alignments (CTC forward algorithm), per token,
    averaged over the batch. ``log_probs`` (B, T, N) from :class:`AlignmentEncoder`."""
    b, t, n = log_probs.shape
    blank = torch.full((b, t, 1), blank_logprob, device=log_probs.device, dtype=log_probs.dtype)
    token_mask = torch.arange(n, device=log_probs.device).view(1, 1, -1) < token_lens.view(-1, 1, 1)
    scores = torch.cat([blank, log_probs.masked_fill(~token_mask, NEG)], dim=-1)
    scores = F.log_softmax(scores, dim=-1)
    targets = torch.arange(1, n + 1, device=log_probs.device).unsqueeze(0).expand(b, n)
    return F.ctc_loss(scores.transpose(0, 1).float(), targets, mel_lens, token_lens, blank=0,
                      reduction="mean", zero_infinity=True)


@torch.no_grad()
def monotonic_alignment_search(log_probs: torch.Tensor, token_lens: torch.Tensor,
                               mel_lens: torch.Tensor) -> torch.Tensor:
    """The best monotonic hard alignment (B, T, N) of 0/1 through ``log_probs`` (B, T, N).

    Frame 0 is on token 0, the last real frame on the last real token, and each frame either
    stays on the token of the previous frame or moves to the next one, so every token gets at
    least one frame (when T >= N) and the durations ``path.sum(1)`` sum to the mel length.
    Vectorized over the batch: one pass over frames forward (scores), one backward (path).
    """
    logp = log_probs.detach().float().cpu()
    b, t_max, n_max = logp.shape
    tl, ml = token_lens.cpu().long(), mel_lens.cpu().long()
    if bool((ml < tl).any()):
        i = int(torch.nonzero(ml < tl)[0])
        raise ValueError(f"utterance {i} of the batch has {int(ml[i])} frames for {int(tl[i])} tokens: "
                         "a monotonic alignment needs at least one frame per token")
    neg = torch.tensor(-1.0e9)
    score = torch.full((b, n_max), -1.0e9)
    score[:, 0] = logp[:, 0, 0]
    from_prev = torch.zeros(b, t_max, n_max, dtype=torch.bool)  # frame t entered token n from n-1
    for t in range(1, t_max):
        stay = score
        move = torch.cat([torch.full((b, 1), -1.0e9), score[:, :-1]], dim=1)
        came = move > stay
        from_prev[:, t] = came
        score = torch.where(came, move, stay) + logp[:, t]
        score = torch.maximum(score, neg)  # keep unreachable cells from drifting to -inf
    path = torch.zeros(b, t_max, n_max)
    idx = tl - 1
    rows = torch.arange(b)
    for t in range(t_max - 1, -1, -1):
        active = t < ml
        if not bool(active.any()):
            continue
        cur = torch.where(active, idx, torch.zeros_like(idx))
        path[rows[active], t, cur[active]] = 1.0
        step = from_prev[rows, t, cur] & active
        idx = torch.where(step, idx - 1, idx).clamp(min=0)
    return path.to(log_probs.device)


def binarization_loss(hard: torch.Tensor, soft: torch.Tensor, mel_lens: torch.Tensor) -> torch.Tensor:
    """-mean over real frames of log soft[t, n] at the hard path's token n."""
    picked = (soft.clamp(min=1.0e-8).log() * hard).sum(dim=(1, 2))
    return -picked.sum() / mel_lens.sum().clamp(min=1).to(soft.dtype)


def binarization_scale(step: int, start: int, warmup: int, weight: float) -> float:
    """Weight of the binarization loss at ``step``: 0 before ``start``, then a linear ramp over
    ``warmup`` steps up to ``weight``."""
    if step < start:
        return 0.0
    return weight * (1.0 if warmup <= 0 else min(1.0, (step - start + 1) / warmup))
