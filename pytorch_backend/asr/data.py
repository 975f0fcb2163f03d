"""Transcribed feature sets for the recognizer, held in memory, and length-bucketed batches.

A split is ``dump/<corpus>/<feats>/<split>/feats.scp`` (raw log-mel, normalized here with the
train ``stats.npz``) + ``data/<corpus>/<split>/text`` (normalized with
:func:`pytorch_backend.asr.vocab.asr_text`). ``text`` decides which utterances are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pytorch_backend.asr.vocab import asr_text
from pytorch_backend.errors import DataError
from pytorch_backend.feats.stats import normalize
from pytorch_backend.io.kaldi_map import read_kv_lines


@dataclass
class TranscribedSet:
    utts: list[str]
    feats: list[np.ndarray]  # normalized (frames, n_mels) float32 each
    texts: list[str]  # asr_text of each utterance

    def __len__(self) -> int:
        return len(self.utts)


def read_texts(text_path, language: str) -> list[tuple[str, str]]:
    """``[(utt, asr_text)]`` of a Kaldi ``text`` file; a duplicate id or a line whose text
    normalizes to nothing is a DataError naming the file, line and utterance."""
    out, seen = [], set()
    for lineno, utt, text in read_kv_lines(text_path):
        if utt in seen:
            raise DataError(text_path, "duplicate utterance id", line=lineno, utt=utt)
        seen.add(utt)
        norm = asr_text(text, language)
        if not norm:
            raise DataError(text_path, "the text has no characters left after cleaning", line=lineno, utt=utt)
        out.append((utt, norm))
    return out


def load_transcribed_set(feats_scp, text_path, language: str, mean, std) -> TranscribedSet:
    """Load and normalize the features of every utterance of ``text_path``."""
    import kaldiio

    feats_scp = Path(feats_scp)
    if not feats_scp.is_file():
        raise DataError(feats_scp, "file not found (were the features dumped?)")
    try:
        table = kaldiio.load_scp(str(feats_scp))
    except Exception as exc:  # kaldiio raises plain exceptions on malformed lines
        raise DataError(feats_scp, f"cannot read: {exc}") from None
    utts, feats, texts = [], [], []
    for utt, text in read_texts(text_path, language):
        if utt not in table:
            raise DataError(feats_scp, f"no features for an utterance of {text_path}", utt=utt)
        try:
            mat = np.asarray(table[utt], dtype=np.float32)
        except Exception as exc:
            raise DataError(feats_scp, f"cannot read features: {exc}", utt=utt) from None
        if mat.ndim != 2 or mat.shape[0] == 0 or mat.shape[1] != mean.shape[-1]:
            raise DataError(feats_scp, f"features of shape {mat.shape} do not match stats.npz "
                            f"({mean.shape[-1]} bins)", utt=utt)
        utts.append(utt)
        feats.append(np.asarray(normalize(mat, mean, std), dtype=np.float32))
        texts.append(text)
    if not utts:
        raise DataError(text_path, "no utterances")
    return TranscribedSet(utts, feats, texts)


def pad_batch(feats: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad (frames, bins) arrays into (B, T, bins); return it with the lengths."""
    lengths = torch.tensor([len(f) for f in feats], dtype=torch.long)
    out = torch.zeros(len(feats), int(lengths.max()), feats[0].shape[1])
    for i, f in enumerate(feats):
        out[i, : len(f)] = torch.from_numpy(np.asarray(f, dtype=np.float32))
    return out, lengths


def bucket_batches(lengths, batch_size: int, generator: torch.Generator | None = None) -> list[list[int]]:
    """One epoch of batches: a random order, pools of 4 batches sorted by length (little
    padding), the batches shuffled. Draws from ``generator`` (default: torch's global one)."""
    n = len(lengths)
    batch_size = max(1, min(int(batch_size), n))
    order = torch.randperm(n, generator=generator).tolist()
    pool = 4 * batch_size
    batches = []
    for start in range(0, n, pool):
        chunk = sorted(order[start:start + pool], key=lambda i: lengths[i])
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    perm = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in perm]


def length_sorted_batches(lengths, batch_size: int) -> list[list[int]]:
    """Batches of similar lengths in a fixed order (inference)."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    return [order[i:i + batch_size] for i in range(0, len(order), max(1, int(batch_size)))]
