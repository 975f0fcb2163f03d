"""Writing a finished matplotlib figure: laid out, saved atomically as PNG, closed."""

from __future__ import annotations

from pytorch_backend.utils.fileio import atomic_path


def save_figure(fig, path, dpi: int = 100) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)
