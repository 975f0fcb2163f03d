"""Dynamic time warping between two feature sequences (frames x dims).

We use ``librosa.sequence.dtw`` with the Euclidean frame distance and its default step
pattern (diagonal, vertical and horizontal steps, each adding the local cost once), which
is the classic symmetric DTW recurrence
``D[i, j] = C[i, j] + min(D[i-1, j-1], D[i-1, j], D[i, j-1])``.
ESPnet's evaluation scripts solve the same recurrence approximately with ``fastdtw``;
librosa solves it exactly (tests/test_mcd.py checks it against a plain numpy DTW).
"""

from __future__ import annotations

import numpy as np


def dtw_path(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Align ``a`` (Na x D) and ``b`` (Nb x D); return index arrays ``(ia, ib)`` from start to end.

    Every frame of both sequences appears at least once; ``a[ia]`` and ``b[ib]`` are the
    aligned frame pairs.
    """
    import librosa

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"dtw_path needs two frames x dims arrays of equal dims, got {a.shape} and {b.shape}")
    if len(a) == 0 or len(b) == 0:
        raise ValueError("dtw_path needs at least one frame in each sequence")
    # librosa wants features x frames
    _, path = librosa.sequence.dtw(X=a.T, Y=b.T, metric="euclidean")
    path = path[::-1]
    return path[:, 0].astype(np.int64), path[:, 1].astype(np.int64)
