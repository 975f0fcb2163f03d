"""Labelled feature sets for the emotion classifier, and random batches.

A split is ``dump/<corpus>/<feats>/<split>/feats.scp`` (raw log-mel, read with kaldiio)
+ ``data/<corpus>/<split>/utt2emo``; features are normalized with the train ``stats.npz``
as they are loaded. ``utt2emo`` decides which utterances are used.

By default a set streams its features: building it reads each entry's ark header only (the
shape check), and ``feats[i]`` reads and normalizes utterance ``i`` when asked
(:class:`LazyFeats`), so memory does not grow with the corpus. ``preload=True`` holds every
normalized matrix in a list instead.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pytorch_backend.data.feats_table import FeatsTable
from pytorch_backend.errors import DataError
from pytorch_backend.io.kaldi_map import read_kv_lines


class LazyFeats(Sequence):
    """Normalized (frames, n_mels) float32 features of ``utts``, read from ``table`` on access
    (``lengths[i]``: frame counts, known without reading)."""

    def __init__(self, table: FeatsTable, utts: list[str], lengths: list[int], mean, std):
        self.table, self.utts, self.lengths = table, list(utts), list(lengths)
        self.mean, self.std = mean, std

    def __len__(self) -> int:
        return len(self.utts)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        utt = self.utts[operator.index(index)]
        return normalize(self.table.load(utt), self.mean, self.std)


@dataclass
class LabelledSet:
    utts: list[str]
    feats: Sequence  # normalized, (frames, n_mels) float32 each: a list, or LazyFeats
    labels: np.ndarray  # int64 emotion ids (index in the conf's emotions)

    def __len__(self) -> int:
        return len(self.utts)


def normalize(feats: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Raw log-mel -> normalized float32, with the toolkit's one normalization."""
    from pytorch_backend.feats.stats import normalize as apply_stats

    return np.asarray(apply_stats(np.asarray(feats, dtype=np.float32), mean, std), dtype=np.float32)


def read_labels(utt2emo, emotions) -> list[tuple[str, int]]:
    """``[(utt, emotion id)]`` in file order; an unknown label names the file, line and utterance."""
    index = {e: i for i, e in enumerate(emotions)}
    out, seen = [], set()
    for lineno, utt, label in read_kv_lines(utt2emo):
        if utt in seen:
            raise DataError(utt2emo, f"duplicate id '{utt}'", line=lineno, utt=utt)
        seen.add(utt)
        if label not in index:
            raise DataError(utt2emo, f"emotion '{label}' is not one of the corpus emotions "
                            f"({', '.join(emotions)})", line=lineno, utt=utt)
        out.append((utt, index[label]))
    return out


def open_scp(feats_scp):
    """kaldiio's lazy {utt: matrix} view of a feats.scp; a missing file is a DataError."""
    import kaldiio

    feats_scp = Path(feats_scp)
    if not feats_scp.is_file():
        raise DataError(feats_scp, "file not found (were the features dumped?)")
    try:
        return kaldiio.load_scp(str(feats_scp))
    except Exception as exc:  # kaldiio raises plain exceptions on malformed lines
        raise DataError(feats_scp, f"cannot read: {exc}") from None


def load_labelled_set(feats_scp, utt2emo, emotions, mean, std, preload: bool = False) -> LabelledSet:
    """The features of every utterance in ``utt2emo``, normalized: streamed from the arks
    (:class:`LazyFeats`), or all loaded with ``preload``. Shapes are checked up front."""
    feats_scp = Path(feats_scp)
    table = FeatsTable(feats_scp, "features")
    utts, feats, lengths, labels = [], [], [], []
    for utt, label in read_labels(utt2emo, emotions):
        if utt not in table:
            raise DataError(feats_scp, f"no features for an utterance listed in {utt2emo}", utt=utt)
        mat = table.load(utt) if preload else None
        shape = mat.shape if preload else table.shape(utt)
        if len(shape) != 2 or shape[1] != mean.shape[-1] or shape[0] == 0:
            raise table.error(utt, f"features of shape {tuple(shape)} do not match stats.npz "
                                   f"({mean.shape[-1]} bins)")
        utts.append(utt)
        lengths.append(int(shape[0]))
        if preload:
            feats.append(normalize(mat, mean, std))
        labels.append(label)
    if not utts:
        raise DataError(utt2emo, "no utterances")
    if not preload:
        feats = LazyFeats(table, utts, lengths, mean, std)
    return LabelledSet(utts, feats, np.asarray(labels, dtype=np.int64))


def pad_batch(feats: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad (frames, bins) arrays into (B, T, bins) and return it with the lengths."""
    lengths = torch.tensor([len(f) for f in feats], dtype=torch.long)
    out = torch.zeros(len(feats), int(lengths.max()), feats[0].shape[1])
    for i, f in enumerate(feats):
        out[i, : len(f)] = torch.from_numpy(f)
    return out, lengths


def random_crops(feats: list[np.ndarray], crop_frames: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A random window of ``crop_frames`` frames of each array (the whole array when shorter)."""
    out = []
    for f in feats:
        if crop_frames and len(f) > crop_frames:
            start = int(rng.integers(0, len(f) - crop_frames + 1))
            f = f[start:start + crop_frames]
        out.append(f)
    return out


class BatchSampler:
    """Endless shuffled batches of indices: every item once per epoch, reshuffled per epoch."""

    def __init__(self, size: int, batch_size: int, rng: np.random.Generator):
        self.size, self.batch_size, self.rng = size, max(1, min(batch_size, size)), rng
        self.order, self.pos = self.rng.permutation(size), 0

    def next(self) -> np.ndarray:
        if self.pos + self.batch_size > self.size:
            self.order, self.pos = self.rng.permutation(self.size), 0
        idx = self.order[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return idx
