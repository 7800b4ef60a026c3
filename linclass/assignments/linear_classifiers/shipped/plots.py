"""Figures shared by the demo and the notebooks: loss curves and weight templates."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in {"agg", "module://matplotlib_inline.backend_inline"}:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_loss_curves(histories: Mapping[str, Sequence[float]], path: str | Path) -> Path:
    """Save the per-iteration training loss of each named model as a PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, losses in histories.items():
        ax.plot(losses, label=name, linewidth=1)
    ax.set(xlabel="iteration", ylabel="minibatch loss", title="Training loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def weight_templates(W: np.ndarray, image_shape: Sequence[int]) -> np.ndarray:
    """The columns of ``W`` (bias row dropped) as images scaled to [0, 1].

    Returns
    -------
    ndarray of shape (C, *image_shape)
    """
    W = np.asarray(W)[:-1]  # the last row multiplies the bias feature
    templates = W.T.reshape(W.shape[1], *image_shape)
    low, high = templates.min(), templates.max()
    return (templates - low) / (high - low if high > low else 1.0)


def plot_weight_templates(models: Mapping[str, np.ndarray], image_shape: Sequence[int],
                          class_names: Sequence[str], path: str | Path) -> Path:
    """Save one row of class templates per named weight matrix as a PNG."""
    plt = _pyplot()
    fig, axes = plt.subplots(len(models), len(class_names), squeeze=False,
                             figsize=(1.1 * len(class_names), 1.3 * len(models)))
    for row, (name, W) in zip(axes, models.items()):
        for ax, img, label in zip(row, weight_templates(W, image_shape), class_names):
            ax.imshow(img.squeeze(), cmap="gray" if img.shape[-1] == 1 else None)
            ax.set_title(label, fontsize=8)
            ax.axis("off")
        row[0].text(-0.3, 0.5, name, transform=row[0].transAxes, ha="right", va="center", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
