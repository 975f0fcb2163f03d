"""Training curves: one panel per loss term, train and dev against the step."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pytorch_backend.plots.figure import save_figure  # noqa: E402


def plot_curves(history: dict, path, title: str = "") -> None:
    """``history = {"train": [{"step": s, term: value, ...}], "dev": [...]}`` -> PNG at ``path``."""
    terms = []
    for split in ("train", "dev"):
        for row in history.get(split, []):
            for key in row:
                if key != "step" and key != "lr" and key not in terms:
                    terms.append(key)
    if not terms:
        terms = ["loss"]
    fig, axes = plt.subplots(1, len(terms), figsize=(3.6 * len(terms), 3.2), squeeze=False)
    for ax, term in zip(axes[0], terms):
        for split, style in (("train", "-"), ("dev", "o-")):
            rows = [r for r in history.get(split, []) if term in r]
            if rows:
                ax.plot([r["step"] for r in rows], [r[term] for r in rows], style, label=split,
                        markersize=3)
        ax.set_title(term, fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=90)
