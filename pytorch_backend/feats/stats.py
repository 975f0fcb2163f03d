"""Per-dimension mean/std of log-mel frames (train split) and the normalization they define.

With frame-level prosody dumped (pitch.scp / energy.scp beside feats.scp), stats.npz also holds
``pitch_mean``/``pitch_std``/``pitch_count`` (natural-log F0 over VOICED train frames only) and
``energy_mean``/``energy_std``/``energy_count`` (log frame energy over all train frames), scalars
read by :func:`load_prosody_stats`.

Features on disk stay raw; models and datasets normalize with ``stats.npz`` (see
docs/ARCHITECTURE.md). Statistics are accumulated in float64 by merging per-utterance
means and centred sums of squares (Chan et al.), which stays accurate over millions of
frames, unlike a running sum of squares.
"""

from __future__ import annotations

from pathlib import Path

import kaldiio
import numpy as np
from tqdm import tqdm

from pytorch_backend.errors import DataError
from pytorch_backend.io.kaldi_map import read_kv_lines
from pytorch_backend.utils.fileio import atomic_open

STD_FLOOR = 1e-5
PROSODY_KINDS = ("pitch", "energy")


class _Accumulator:
    """Mean and centred sum of squares merged batch by batch (Chan et al.), float64."""

    def __init__(self, dim: int):
        self.count = 0
        self.mean = np.zeros(dim)
        self.m2 = np.zeros(dim)

    def add(self, mat: np.ndarray) -> None:
        n = mat.shape[0]
        if n == 0:
            return
        u_mean = mat.mean(axis=0)
        u_m2 = ((mat - u_mean) ** 2).sum(axis=0)
        total = self.count + n
        delta = u_mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + u_m2 + delta ** 2 * (self.count * n / total)
        self.count = total

    def std(self) -> np.ndarray:
        return np.maximum(np.sqrt(self.m2 / max(1, self.count)), STD_FLOOR)


def compute_stats(scp, progress: bool = True) -> dict:
    """``{"mean", "std", "count"}`` over all frames listed in feats scp ``scp``.

    ``std`` is the population standard deviation floored at 1e-5; an unreadable matrix or
    one whose width differs from the first is an error naming the scp line and utterance.
    """
    rows = read_kv_lines(scp)
    if not rows:
        raise DataError(scp, "feats scp is empty")
    count = 0
    mean = m2 = None
    for lineno, utt, spec in tqdm(rows, desc="compute_stats", unit="utt", disable=not progress):
        try:
            mat = np.asarray(kaldiio.load_mat(spec), dtype=np.float64)
        except Exception as exc:
            raise DataError(scp, f"cannot load features '{spec}': {exc}", line=lineno, utt=utt) from None
        if mat.ndim != 2 or mat.shape[0] == 0:
            raise DataError(scp, f"expected a non-empty frames x dims matrix, got shape {mat.shape}",
                            line=lineno, utt=utt)
        if mean is None:
            mean = np.zeros(mat.shape[1])
            m2 = np.zeros(mat.shape[1])
        elif mat.shape[1] != mean.shape[0]:
            raise DataError(scp, f"feature dimension {mat.shape[1]} differs from {mean.shape[0]} "
                                 "of the first utterance", line=lineno, utt=utt)
        n = mat.shape[0]
        u_mean = mat.mean(axis=0)
        u_m2 = ((mat - u_mean) ** 2).sum(axis=0)
        total = count + n
        delta = u_mean - mean
        mean = mean + delta * (n / total)
        m2 = m2 + u_m2 + delta ** 2 * (count * n / total)
        count = total
    std = np.maximum(np.sqrt(m2 / count), STD_FLOOR)
    return {"mean": mean, "std": std, "count": count}


def compute_prosody_stats(scp, kind: str, progress: bool = True) -> dict:
    """``{"<kind>_mean", "<kind>_std", "<kind>_count"}`` (scalars) of a pitch or energy scp.

    pitch: natural-log F0 over voiced frames (F0 > 0) only; energy: all frames. A value that is
    not a non-empty vector, or an utterance set without a single voiced frame, is an error
    naming the scp (and line and utterance).
    """
    if kind not in PROSODY_KINDS:
        raise ValueError(f"kind must be one of {PROSODY_KINDS}, got '{kind}'")
    rows = read_kv_lines(scp)
    if not rows:
        raise DataError(scp, f"{kind} scp is empty")
    acc = _Accumulator(1)
    for lineno, utt, spec in tqdm(rows, desc=f"{kind}_stats", unit="utt", disable=not progress):
        try:
            vec = np.asarray(kaldiio.load_mat(spec), dtype=np.float64)
        except Exception as exc:
            raise DataError(scp, f"cannot load {kind} '{spec}': {exc}", line=lineno, utt=utt) from None
        if vec.ndim != 1 or vec.shape[0] == 0 or not np.isfinite(vec).all():
            raise DataError(scp, f"expected a non-empty finite vector of one {kind} value per frame, "
                                 f"got shape {vec.shape}", line=lineno, utt=utt)
        if kind == "pitch":
            vec = np.log(vec[vec > 0])
        acc.add(vec[:, None])
    if acc.count == 0:
        raise DataError(scp, "no voiced frame in any utterance: cannot normalize pitch")
    return {f"{kind}_mean": float(acc.mean[0]), f"{kind}_std": float(acc.std()[0]),
            f"{kind}_count": int(acc.count)}


def save_stats(stats: dict, path) -> None:
    """Write ``stats.npz`` atomically (mean/std as float32, count as int64), plus the pitch/energy
    scalars when ``stats`` has them."""
    extra = {}
    for kind in PROSODY_KINDS:
        if f"{kind}_mean" in stats:
            extra[f"{kind}_mean"] = np.float32(stats[f"{kind}_mean"])
            extra[f"{kind}_std"] = np.float32(stats[f"{kind}_std"])
            extra[f"{kind}_count"] = np.int64(stats[f"{kind}_count"])
    with atomic_open(path, "wb") as fh:
        np.savez(fh, mean=np.asarray(stats["mean"], dtype=np.float32),
                 std=np.asarray(stats["std"], dtype=np.float32),
                 count=np.asarray(stats["count"], dtype=np.int64), **extra)


def load_prosody_stats(path) -> dict[str, tuple[float, float]]:
    """``{"pitch": (mean, std), "energy": (mean, std)}`` from a stats.npz written with prosody."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "statistics file not found (run steps/compute_stats.py)")
    out = {}
    try:
        with np.load(path) as data:
            for kind in PROSODY_KINDS:
                if f"{kind}_mean" not in data.files:
                    raise DataError(path, f"no {kind} statistics: dump pitch/energy (feats conf "
                                          "pitch_energy: true) and re-run steps/compute_stats.py")
                out[kind] = (float(data[f"{kind}_mean"]), float(data[f"{kind}_std"]))
    except (OSError, ValueError) as exc:
        raise DataError(path, f"not a valid stats.npz: {exc}") from None
    return out


def load_stats(path) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) float32 vectors from a stats.npz."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "statistics file not found (run steps/compute_stats.py)")
    try:
        with np.load(path) as data:
            mean = data["mean"].astype(np.float32)
            std = data["std"].astype(np.float32)
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(path, f"not a valid stats.npz: {exc}") from None
    if mean.shape != std.shape or mean.ndim != 1:
        raise DataError(path, f"mean {mean.shape} and std {std.shape} must be equal-length vectors")
    return mean, std


def normalize(x, mean, std):
    """(x - mean) / std over the last axis; ``mean``/``std`` of the same kind as ``x``
    (numpy arrays, or tensors made with ``torch.from_numpy``)."""
    return (x - mean) / std


def denormalize(x, mean, std):
    """Inverse of :func:`normalize`."""
    return x * std + mean
