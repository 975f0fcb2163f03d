"""Attention alignment plots (decoder step x encoder token); a clean diagonal means the model
has learned where it is in the text."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pytorch_backend.plots.figure import save_figure  # noqa: E402


def plot_attention(alignment, path, title: str = "", tokens: list[str] | None = None) -> None:
    """Save ``alignment`` (decoder steps, tokens) as an image at ``path`` (PNG)."""
    align = np.asarray(alignment, dtype=np.float32)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    im = ax.imshow(align.T, aspect="auto", origin="lower", interpolation="none", vmin=0.0,
                   vmax=max(1e-6, float(align.max())))
    ax.set_xlabel("decoder step")
    ax.set_ylabel("encoder token")
    if tokens is not None and len(tokens) <= 60:
        ax.set_yticks(range(len(tokens)))
        ax.set_yticklabels(tokens, fontsize=5)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax)
    save_figure(fig, path, dpi=100)
