"""A 2-D map of utterance embeddings coloured by emotion label (PCA or t-SNE coordinates)."""

from __future__ import annotations

import numpy as np

from pytorch_backend.plots.figure import save_figure


def plot_emotion_map(xy: np.ndarray, labels: np.ndarray, names: list[str], path, title: str = "") -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 5.0))
    cmap = plt.get_cmap("tab10")
    for e, name in enumerate(names):
        pts = xy[labels == e]
        if not len(pts):
            continue
        ax.scatter(pts[:, 0], pts[:, 1], s=10, alpha=0.6, color=cmap(e % 10), label=f"{name} ({len(pts)})")
        cx, cy = pts.mean(axis=0)
        ax.scatter([cx], [cy], s=160, marker="*", color=cmap(e % 10), edgecolors="black", linewidths=0.8)
    ax.set_xlabel("dim 1")
    ax.set_ylabel("dim 2")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, markerscale=1.5, loc="best")
    save_figure(fig, path)
