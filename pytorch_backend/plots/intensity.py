"""Classifier probability of the target emotion against the requested intensity."""

from __future__ import annotations

from pytorch_backend.plots.figure import save_figure


def plot_intensity(levels: list[float], per_level: dict, path, title: str = "") -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    names = [f"{lv:g}" for lv in levels]
    emotions = sorted({e for v in per_level.values() for e in v["per_emotion"]})
    for emo in emotions:
        ax.plot(levels, [per_level[n]["per_emotion"].get(emo) for n in names], marker="o", alpha=0.6, label=emo)
    ax.plot(levels, [per_level[n]["target_prob"] for n in names], marker="s", color="black", linewidth=2.5,
            label="mean")
    ax.set_xlabel("intensity")
    ax.set_ylabel("P(target emotion)")
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    save_figure(fig, path)
