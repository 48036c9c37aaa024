"""Figures of the skip experiment: the gradient reaching each block, and the training loss, with and without skips."""
from typing import Dict

import matplotlib.pyplot as plt
import numpy as np

STYLES = {"plain": dict(color="tab:red", marker="o", label="without skips: h ← block(h)"),
          "residual": dict(color="tab:green", marker="s", label="with skips: h ← h + block(h)")}


def plot_gradient_norms(ax: plt.Axes, results: Dict) -> None:
    """||dL/dW|| of every block at the initial weights, on a log scale, first block (nearest the input) left.

    results: {"plain": {"gradient_norms": shape (depth,)}, "residual": {...}} from experiments.deep_chains.
    """
    for name, style in STYLES.items():
        norms = results[name]["gradient_norms"]
        ax.semilogy(np.arange(1, len(norms) + 1), norms, markersize=4, **style)
    ax.set_xticks([1] + list(range(5, len(norms) + 1, 5)))
    ax.set_xlabel("block (1 = next to the input, {} = next to the output)".format(len(norms)))
    ax.set_ylabel(r"$\|\partial L/\partial W\|$ at the initial weights")
    ax.set_title("Gradient reaching each block")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()


def plot_losses(ax: plt.Axes, results: Dict) -> None:
    """The cross-entropy on the XOR points after each step, on a log scale, for both chains.

    results: {"plain": {"losses": shape (steps + 1,)}, "residual": {...}} from experiments.deep_chains.
    """
    for name, style in STYLES.items():
        losses = results[name]["losses"]
        ax.semilogy(np.arange(len(losses)), losses, color=style["color"], label=style["label"])
    ax.axhline(np.log(2), color="0.5", linestyle=":", linewidth=1)
    ax.annotate("ln 2 = 0.693", (len(losses) - 1, np.log(2)), xytext=(0, 5),
                textcoords="offset points", ha="right", va="bottom", color="0.4")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("cross-entropy on the four XOR points")
    ax.set_title("Training on XOR from the same initial weights")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()


def plot_skip_experiment(results: Dict, settings: str) -> plt.Figure:
    """Both panels side by side; settings is a line describing the run, shown as the figure's title."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.6))
    plot_gradient_norms(left, results)
    plot_losses(right, results)
    figure.suptitle(settings, fontsize=11)
    figure.tight_layout()
    return figure
