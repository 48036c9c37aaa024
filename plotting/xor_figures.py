"""Figures of the XOR experiments: loss curves, decision boundaries and the learned hidden space.

Colours mean the same in every figure: blue is class 0, red is class 1, and a background shade is the
model's probability of class 1 (white at 0.5, on the black decision boundary).
"""
import os
from typing import Dict, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import FormatStrFormatter, FuncFormatter

from experiments.xor_extensions import class1_probability, hidden_representation
from lib.network import Sequential

CLASS_COLOURS = ("tab:blue", "tab:red")
CLASS_MARKERS = ("o", "^")
PROBABILITY_CMAP = "RdBu_r"
# Loss curves of compared runs: one colour per run, kept apart from the two class colours.
RUN_COLOURS = ("0.35", "tab:green", "tab:purple", "tab:orange")


def save(fig, out_dir: str, name: str) -> str:
    """Write fig as out_dir/name (a PNG at 100 dpi, small enough to commit) and return the path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=100)
    return path


def probability_grid(model, limits: Sequence[float], resolution: int = 200):
    """P(class 1) of the model on a square grid. limits: (low, high) on both axes.

    Returns x1, x2 (resolution,) each and the probabilities, shape (resolution, resolution), indexed [x2, x1].
    """
    x1 = np.linspace(limits[0], limits[1], resolution)
    x2 = np.linspace(limits[0], limits[1], resolution)
    grid = np.stack(np.meshgrid(x1, x2), axis=-1).reshape(-1, 2)
    return x1, x2, class1_probability(model, grid).reshape(resolution, resolution)


def scatter_classes(ax, x: np.ndarray, labels: np.ndarray, size: float = 60, annotate: bool = False) -> None:
    """Draw the points x (N, 2) in their class colour and marker; annotate=True writes each label beside it."""
    for label in (0, 1):
        mask = labels == label
        ax.scatter(x[mask, 0], x[mask, 1], s=size, c=CLASS_COLOURS[label], marker=CLASS_MARKERS[label],
                   edgecolors="black", linewidths=0.6 if size > 20 else 0.2, label="label {}".format(label), zorder=3)
    if annotate:
        for point, label in zip(x, labels):
            ax.annotate("({:g}, {:g}) -> {}".format(point[0], point[1], label) if x.shape[0] <= 4 else str(label),
                        point, textcoords="offset points", xytext=(7, 7), fontsize=8)


def draw_decision_boundary(ax, model, x: np.ndarray, labels: np.ndarray, limits: Sequence[float],
                           point_size: float = 60, alpha: float = 0.75):
    """P(class 1) as a shaded background, the 0.5 contour as a black line, and the data on top.

    Returns the image, for a colorbar.
    """
    x1, x2, probability = probability_grid(model, limits)
    image = ax.imshow(probability, origin="lower", extent=(limits[0], limits[1], limits[0], limits[1]),
                      cmap=PROBABILITY_CMAP, vmin=0, vmax=1, alpha=alpha, interpolation="bilinear")
    if probability.min() < 0.5 < probability.max():
        ax.contour(x1, x2, probability, levels=[0.5], colors="black", linewidths=1.5)
    scatter_classes(ax, x, labels, size=point_size)
    ax.set_xlim(limits)
    ax.set_ylim(limits)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return image


def boundary_legend_handles():
    """Legend entries for the two classes and the decision boundary."""
    return [Line2D([], [], ls="", marker=CLASS_MARKERS[0], color=CLASS_COLOURS[0], mec="black", label="label 0"),
            Line2D([], [], ls="", marker=CLASS_MARKERS[1], color=CLASS_COLOURS[1], mec="black", label="label 1"),
            Line2D([], [], color="black", label="P(class 1) = 0.5")]


def _minor_log_label(value: float) -> str:
    """Label the minor ticks 2, 3 and 5 (times a power of ten) of a log axis; the others stay unlabelled."""
    if value <= 0:
        return ""
    leading = value / 10 ** np.floor(np.log10(value) + 1e-9)
    return "{:g}".format(value) if np.round(leading) in (2, 3, 5) and abs(leading - np.round(leading)) < 1e-6 else ""


def log_y_axis(ax) -> None:
    """A log-scale y axis labelled with plain numbers (0.2, 0.05), which read faster than 2 x 10^-1."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))

    def minor_label(value, position=None):
        # Over more than two decades the labelled powers of ten suffice; more labels would crowd.
        low, high = ax.get_ylim()
        return _minor_log_label(value) if np.log10(high / low) <= 2 else ""

    ax.yaxis.set_minor_formatter(FuncFormatter(minor_label))


def loss_curves_figure(curves: Dict[str, np.ndarray], title: str, xlabel: str = "gradient-descent steps",
                       ylabel: str = "loss (log scale)", ax=None):
    """One line per run: curves maps a legend label to its losses, entry k the loss after k steps."""
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
    for (label, losses), colour in zip(curves.items(), RUN_COLOURS):
        ax.plot(np.arange(len(losses)), losses, color=colour, lw=1.8, label=label)
    log_y_axis(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig if fig is not None else ax.figure


def sheet_loss_figure(losses: np.ndarray, hidden: int, lr: float, seed: int):
    """The sheet's run: losses (steps + 2,), entry k the loss after k gradient-descent steps."""
    title = "XOR, Linear(2, {0}) -> ReLU -> Linear({0}, 2): lr = {1:g}, seed {2}".format(hidden, lr, seed)
    return loss_curves_figure({"cross-entropy on the 4 XOR points": losses}, title)


def sheet_boundary_figure(model, x: np.ndarray, labels: np.ndarray, title: str):
    """The trained XOR model's decision boundary over its four points, x (4, 2), labels (4,)."""
    fig, ax = plt.subplots(figsize=(5.6, 4.6), constrained_layout=True)
    image = draw_decision_boundary(ax, model, x, labels, (-0.5, 1.5), point_size=110)
    fig.colorbar(image, ax=ax, label="P(class 1)", shrink=0.9)
    ax.legend(handles=boundary_legend_handles(), loc="upper center", fontsize=8, framealpha=0.9)
    ax.set_title(title, fontsize=10)
    return fig


def hidden_space_figure(model, x: np.ndarray, labels: np.ndarray):
    """The sheet's bonus: the points in input space (left) and after Linear + ReLU (right).

    With two hidden units the right panel shades P(class 1) of the output layer as a function of h.
    """
    hidden = hidden_representation(model, x)
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 4.6), constrained_layout=True)
    scatter_classes(axes[0], x, labels, size=110, annotate=True)
    axes[0].set_title("input space x", fontsize=10)
    axes[0].set_xlabel("$x_1$")
    axes[0].set_ylabel("$x_2$")
    axes[0].set_xlim(-0.3, 1.5)
    axes[0].set_ylim(-0.3, 1.5)
    axes[0].set_aspect("equal")
    axes[0].grid(True, alpha=0.3)
    axes[0].legend(loc="center", fontsize=8)

    span = max(float(np.max(hidden)), 1e-3)
    limits = (-0.15 * span, 1.2 * span)
    if hidden.shape[1] == 2:
        image = draw_decision_boundary(axes[1], Sequential(*model.modules[2:]), hidden, labels, limits,
                                       point_size=110)
        fig.colorbar(image, ax=axes[1], label="P(class 1) from the output layer", shrink=0.9)
        axes[1].set_title("hidden space h = ReLU(W x + b)", fontsize=10)
        axes[1].legend(handles=boundary_legend_handles(), loc="upper left", fontsize=8, framealpha=0.9)
    else:
        scatter_classes(axes[1], hidden[:, :2], labels, size=110)
        axes[1].set_title("hidden space: the first 2 of {} units".format(hidden.shape[1]), fontsize=10)
        axes[1].set_xlim(limits)
        axes[1].set_ylim(limits)
        axes[1].set_aspect("equal")
        axes[1].legend(fontsize=8)
    axes[1].set_xlabel("$h_1$")
    axes[1].set_ylabel("$h_2$")
    # One note per drawn point, naming every input drawn there: points closer than 2% of the plot's span share
    # a note, since separate notes would overlap.
    notes = []
    for point, original in zip(hidden[:, :2], x):
        near = [note for note in notes if np.linalg.norm(note[0] - point) < 0.02 * span]
        if near:
            near[0][1].append("({:g}, {:g})".format(*original))
        else:
            notes.append((point, ["({:g}, {:g})".format(*original)]))
    for point, originals in notes:
        axes[1].annotate("x = " + " and ".join(originals), point, textcoords="offset points", xytext=(8, 8),
                         fontsize=8, bbox={"boxstyle": "round", "fc": "white", "alpha": 0.8, "lw": 0})
    return fig


def momentum_boundaries_figure(runs: Dict[str, Dict], x: np.ndarray, labels: np.ndarray):
    """Each run's decision boundary over the quadrant data, side by side, with its accuracy in the title."""
    fig, axes = plt.subplots(1, len(runs), figsize=(5.0 * len(runs) + 1.0, 4.6), constrained_layout=True)
    image = None
    for ax, (name, run) in zip(np.atleast_1d(axes), runs.items()):
        image = draw_decision_boundary(ax, run["model"], x, labels, (-2, 2), point_size=9, alpha=0.4)
        label = name if not run.get("momentum") else "{} {:g}".format(name, run["momentum"])
        ax.set_title("{}: accuracy {:.1%}".format(label, run["accuracy"]))
    fig.colorbar(image, ax=axes, label="P(class 1)", shrink=0.9)
    np.atleast_1d(axes)[0].legend(handles=boundary_legend_handles(), loc="lower left", fontsize=8, framealpha=0.9)
    return fig


def scaling_figure(runs: Dict[str, Dict], factor: float):
    """Left: loss curves of the scaled and the standardised runs. Right: |dL/dW| per input feature at the start."""
    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.3), constrained_layout=True,
                             gridspec_kw={"width_ratios": [1.5, 1]})
    names = {"scaled": "feature 1 x {:g}".format(factor), "standardised": "standardised features",
             "scaled, small lr": "feature 1 x {:g}".format(factor)}
    curves = {"{}, lr = {:g}".format(names[name], run["lr"]): run["losses"] for name, run in runs.items()}
    loss_curves_figure(curves, "plain gradient descent from the same initial weights", ax=axes[0])
    positions = np.arange(2)
    width = 0.38
    for offset, name, colour in zip((-width / 2, width / 2), ("scaled", "standardised"), RUN_COLOURS):
        norms = np.linalg.norm(runs[name]["initial_gradient"], axis=0)
        bars = axes[1].bar(positions + offset, norms, width, color=colour, label=names[name])
        axes[1].bar_label(bars, fmt="%.3g", fontsize=8)
    axes[1].set_yscale("log")
    axes[1].yaxis.set_major_formatter(FormatStrFormatter("%g"))
    axes[1].set_xticks(positions)
    axes[1].set_xticklabels(["column of feature 1\n(the one x {:g})".format(factor), "column of feature 2"])
    axes[1].set_ylabel("||dL/dW[:, d]|| at the start (log scale)")
    axes[1].set_title("first layer's gradient dL/dW = grad$^T$ x")
    axes[1].legend(fontsize=8)
    return fig


def lbfgs_figure(lbfgs_losses: np.ndarray, gd_losses: np.ndarray, lr: float, seed: int, num_params: int):
    """Loss per L-BFGS-B iteration beside the loss per gradient-descent step, from the same initial weights."""
    curves = {"gradient descent, lr = {:g} (per step)".format(lr): gd_losses,
              "scipy L-BFGS-B, jac=True (per iteration)": lbfgs_losses}
    title = "XOR network as one function of a vector of {} weights, seed {}".format(num_params, seed)
    return loss_curves_figure(curves, title, xlabel="steps / iterations", ylabel="cross-entropy (log scale)")
