"""Small CTC recognizers on the toolkit's log-mel (registry names in ``pytorch_backend.asr``).

Both take normalized log-mel (B, T, n_mels) with the lengths and return per-frame
log-probabilities over the characters (B, T', vocab; id 0 = the CTC blank) with the output
lengths T'. Both start with a strided 1-D conv (``subsample``: fewer output frames, still at
least one per character at any speaking rate of the corpora here).

* ``conv_ctc`` (:class:`ConvCTC`): residual blocks of depthwise-separable 1-D convs (a
  QuartzNet-like stack: depthwise conv over time, pointwise conv across channels, per-frame
  LayerNorm, ReLU, dropout). Parallel over time, so it trains fast on CPU cores.
* ``conv_bigru`` (:class:`ConvBiGRU`): one conv more, then a bidirectional GRU over packed
  sequences (padding never reaches the backward direction). Stronger per parameter, slower.

In training mode, SpecAugment-style masks (``freq_masks`` bands of up to ``freq_mask`` mel
bins and ``time_masks`` spans of up to ``time_mask`` frames per utterance, at most a tenth of
it, set to 0 = the mean of the normalized features) make the recognizer lean on more than one
cue.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B,) lengths -> (B, T) bool mask, True on real frames."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


class CtcRecognizer(nn.Module):
    """The strided input conv, the masks, SpecAugment and the output layer both models share."""

    def __init__(self, vocab_size: int, n_mels: int, channels: int, kernel_size: int, subsample: int,
                 dropout: float, freq_mask: int, freq_masks: int, time_mask: int, time_masks: int):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        if subsample < 1 or vocab_size < 2 or channels < 1:
            raise ValueError("subsample and channels must be >= 1 and the vocabulary needs a character")
        self.subsample, self.in_kernel = int(subsample), 5
        self.freq_mask, self.freq_masks = int(freq_mask), int(freq_masks)
        self.time_mask, self.time_masks = int(time_mask), int(time_masks)
        self.conv_in = nn.Conv1d(n_mels, channels, self.in_kernel, stride=subsample, padding=self.in_kernel // 2)
        self.norm_in = nn.LayerNorm(channels)
        self.drop = nn.Dropout(dropout)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Frames after the strided conv (what CTC aligns the characters to)."""
        pad = self.in_kernel // 2
        return torch.div(lengths + 2 * pad - self.in_kernel, self.subsample, rounding_mode="floor") + 1

    def spec_augment(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return feats
        feats = feats.clone()
        bins = feats.shape[2]
        for b in range(feats.shape[0]):
            frames = int(lengths[b])
            for _ in range(self.freq_masks if self.freq_mask > 0 else 0):
                width = int(torch.randint(0, self.freq_mask + 1, ()))
                start = int(torch.randint(0, max(1, bins - width + 1), ()))
                feats[b, :, start:start + width] = 0.0
            for _ in range(self.time_masks if self.time_mask > 0 else 0):
                width = min(int(torch.randint(0, self.time_mask + 1, ())), frames // 10)
                start = int(torch.randint(0, max(1, frames - width + 1), ()))
                feats[b, start:start + width, :] = 0.0
        return feats

    @staticmethod
    def norm_relu(norm: nn.LayerNorm, y: torch.Tensor) -> torch.Tensor:
        """LayerNorm over channels of (B, C, T), then ReLU."""
        return torch.relu(norm(y.transpose(1, 2)).transpose(1, 2))

    def front(self, feats: torch.Tensor, lengths: torch.Tensor):
        """(B, C, T') after the strided conv, its mask (B, T') and the output lengths."""
        feats = self.spec_augment(feats, lengths)
        x = feats.transpose(1, 2) * lengths_to_mask(lengths, feats.shape[1])[:, None, :].to(feats.dtype)
        out_len = self.output_lengths(lengths).clamp(min=1)
        y = self.norm_relu(self.norm_in, self.conv_in(x))
        mask = lengths_to_mask(out_len, y.shape[2])
        return self.drop(y) * mask[:, None, :].to(y.dtype), mask, out_len


class ResidualSeparableBlock(nn.Module):
    def __init__(self, channels: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        self.depthwise = nn.Conv1d(channels, channels, kernel_size, dilation=dilation,
                                   padding=dilation * (kernel_size - 1) // 2, groups=channels)
        self.pointwise = nn.Conv1d(channels, channels, 1)
        self.norm = nn.LayerNorm(channels)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = CtcRecognizer.norm_relu(self.norm, self.pointwise(self.depthwise(x)))
        return (x + self.drop(y)) * mask[:, None, :].to(x.dtype)


class ConvCTC(CtcRecognizer):
    """Strided conv -> ``num_blocks`` residual depthwise-separable conv blocks -> characters."""

    def __init__(self, vocab_size: int, n_mels: int, channels: int = 256, kernel_size: int = 11,
                 num_blocks: int = 8, dilations: list | None = None, subsample: int = 2, dropout: float = 0.1,
                 freq_mask: int = 12, freq_masks: int = 2, time_mask: int = 10, time_masks: int = 2):
        super().__init__(vocab_size, n_mels, channels, kernel_size, subsample, dropout, freq_mask, freq_masks,
                         time_mask, time_masks)
        dilations = list(dilations or [1] * num_blocks)
        if len(dilations) != num_blocks or any(int(d) < 1 for d in dilations):
            raise ValueError(f"dilations must be {num_blocks} integers >= 1, got {dilations}")
        self.blocks = nn.ModuleList(ResidualSeparableBlock(channels, kernel_size, int(d), dropout)
                                    for d in dilations)
        self.out = nn.Conv1d(channels, vocab_size, 1)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, mask, out_len = self.front(feats, lengths)
        for block in self.blocks:
            x = block(x, mask)
        logits = self.out(x).transpose(1, 2)
        return torch.log_softmax(logits.float(), dim=-1), out_len


class ConvBiGRU(CtcRecognizer):
    """Strided conv -> conv -> ``num_layers`` bidirectional GRU -> characters."""

    def __init__(self, vocab_size: int, n_mels: int, channels: int = 192, kernel_size: int = 5,
                 subsample: int = 2, hidden: int = 160, num_layers: int = 2, dropout: float = 0.15,
                 freq_mask: int = 12, freq_masks: int = 2, time_mask: int = 10, time_masks: int = 2):
        super().__init__(vocab_size, n_mels, channels, kernel_size, subsample, dropout, freq_mask, freq_masks,
                         time_mask, time_masks)
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.conv = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.norm = nn.LayerNorm(channels)
        self.rnn = nn.GRU(channels, hidden, num_layers=num_layers, batch_first=True, bidirectional=True,
                          dropout=dropout if num_layers > 1 else 0.0)
        self.out = nn.Linear(2 * hidden, vocab_size)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, mask, out_len = self.front(feats, lengths)
        x = self.drop(self.norm_relu(self.norm, self.conv(x))) * mask[:, None, :].to(x.dtype)
        packed = pack_padded_sequence(x.transpose(1, 2), out_len.cpu(), batch_first=True, enforce_sorted=False)
        y, _ = self.rnn(packed)
        y, _ = pad_packed_sequence(y, batch_first=True, total_length=x.shape[2])
        logits = self.out(self.drop(y))
        return torch.log_softmax(logits.float(), dim=-1), out_len


def greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor) -> list[list[int]]:
    """Best path: the argmax class of each frame, repeats merged, blanks (id 0) removed."""
    best = log_probs.argmax(dim=-1).cpu()
    out = []
    for b in range(best.shape[0]):
        ids, prev = [], 0
        for cls in best[b, : int(lengths[b])].tolist():
            if cls != prev and cls != 0:
                ids.append(cls)
            prev = cls
        out.append(ids)
    return out
