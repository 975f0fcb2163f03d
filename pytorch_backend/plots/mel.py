"""Mel spectrogram plots (one panel per spectrogram, frames on x, mel bins on y)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pytorch_backend.plots.figure import save_figure  # noqa: E402


def plot_mels(mels: list[tuple[str, object]], path, title: str = "") -> None:
    """Save ``[(label, mel (frames, n_mels)), ...]`` stacked vertically at ``path`` (PNG)."""
    fig, axes = plt.subplots(len(mels), 1, figsize=(7, 2.4 * len(mels)), squeeze=False)
    vmin = min(float(np.min(m)) for _, m in mels)
    vmax = max(float(np.max(m)) for _, m in mels)
    for ax, (label, mel) in zip(axes[:, 0], mels):
        im = ax.imshow(np.asarray(mel).T, aspect="auto", origin="lower", interpolation="none",
                       vmin=vmin, vmax=vmax)
        ax.set_title(label, fontsize=9)
        ax.set_ylabel("mel bin")
        fig.colorbar(im, ax=ax)
    axes[-1, 0].set_xlabel("frame")
    if title:
        fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=100)
