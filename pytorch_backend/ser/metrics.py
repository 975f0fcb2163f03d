"""Classification scores shared by SER training and the evaluation of synthesized speech."""

from __future__ import annotations

import numpy as np


def confusion_matrix(targets, preds, num_classes: int) -> np.ndarray:
    """counts[i, j] = number of items of true class i predicted as class j."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(targets, dtype=np.int64), np.asarray(preds, dtype=np.int64)), 1)
    return counts


def classification_report(targets, preds, labels) -> dict:
    """``{"accuracy", "per_class_recall": {label: recall or None}, "confusion", "labels", "num_utts"}``.

    A class with no item has recall None (JSON null), not 0.
    """
    counts = confusion_matrix(targets, preds, len(labels))
    total = int(counts.sum())
    support = counts.sum(axis=1)
    recall = {label: (float(counts[i, i] / support[i]) if support[i] else None)
              for i, label in enumerate(labels)}
    return {
        "accuracy": float(np.trace(counts) / total) if total else None,
        "per_class_recall": recall,
        "confusion": counts.tolist(),
        "labels": list(labels),
        "num_utts": total,
    }
