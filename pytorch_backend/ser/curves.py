"""Training curves of the emotion classifier: train/dev loss and dev accuracy per evaluation."""

from __future__ import annotations

from pytorch_backend.plots.figure import save_figure


def plot_ser_curves(history: list[dict], path) -> None:
    """``history``: [{"step", "train_loss", "dev_loss", "dev_accuracy"}, ...] -> PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax_loss.plot(steps, [h["train_loss"] for h in history], marker=".", label="train")
    ax_loss.plot(steps, [h["dev_loss"] for h in history], marker=".", label="dev")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("cross-entropy")
    ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    ax_acc.plot(steps, [h["dev_accuracy"] for h in history], marker=".", color="tab:green")
    ax_acc.set_xlabel("step")
    ax_acc.set_ylabel("dev accuracy")
    ax_acc.set_ylim(0.0, 1.02)
    ax_acc.grid(alpha=0.3)
    fig.suptitle("emotion classifier training")
    save_figure(fig, path, dpi=100)
