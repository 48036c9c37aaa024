"""The sheet's pen-and-paper network drawn as a graph, with the numbers of its forward and backward pass.

    x --w0--> h0 --w1--> h1 --w2--> y_hat ----> L = |y - y_hat|
               \\__________ws__________/^

Every number on the figure is a separate Text artist holding one number. The drawing functions return
them in a dict keyed by where the number comes from, e.g. ("forward", "z0") or ("gradients", "ws"),
so that a test can compare the figure with experiments.pen_and_paper.solve().
"""
from typing import Dict, Tuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

FORWARD_COLOUR = "tab:blue"
BACKWARD_COLOUR = "tab:red"
NODE_RADIUS = 0.42
# Node name -> (x position, label drawn inside). The loss sits at the end of the chain.
NODES = {"x": (0.0, r"$x$"), "h0": (2.6, r"$h_0$"), "h1": (5.2, r"$h_1$"),
         "y_hat": (7.8, r"$\hat{y}$"), "L": (10.4, r"$L$")}
# Edge weight -> (from node, to node, bend of the arc); ws bends over h1 as the skip connection.
EDGES = {"w0": ("x", "h0", 0.0), "w1": ("h0", "h1", 0.0), "w2": ("h1", "y_hat", 0.0), "ws": ("h0", "y_hat", -0.55)}
# The forward values (z, then h) and backward gradients shown at each unit, top to bottom.
NODE_VALUES = {"h0": (("z0", r"$z_0$"), ("h0", r"$h_0$")),
               "h1": (("z1", r"$z_1$"), ("h1", r"$h_1$")),
               "y_hat": (("z2", r"$z_2$"), ("y_hat", r"$\hat{y}$"))}
NODE_GRADIENTS = {"h0": (("h0", r"$\partial L/\partial h_0$"), ("z0", r"$\partial L/\partial z_0$")),
                  "h1": (("h1", r"$\partial L/\partial h_1$"), ("z1", r"$\partial L/\partial z_1$")),
                  "y_hat": (("y_hat", r"$\partial L/\partial \hat{y}$"), ("z2", r"$\partial L/\partial z_2$"))}
# The skip edge leaves h0 and enters y_hat this far up the circle, leaving room for their numbers beside it.
SKIP_ANGLE = np.radians(50)
# Where the forward values of each unit go (x offset, alignment): beside the skip edge, not under it.
VALUE_PLACES = {"h0": (-0.12, "right"), "h1": (0.0, "center"), "y_hat": (0.12, "left")}
WEIGHT_LABELS = {"w0": "w_0", "w1": "w_1", "w2": "w_2", "ws": "w_s"}

Labels = Dict[Tuple[str, str], plt.Text]


def format_number(value: float) -> str:
    """Four significant digits, no trailing zeros: 1.5, -2.5, 7, 1.234e-05."""
    # Adding 0.0 turns -0.0 (e.g. a negative gradient times a closed ReLU) into 0.0, so no "-0" is drawn.
    return "{:.4g}".format(value + 0.0)


def _label(ax: plt.Axes, labels: Labels, key: Tuple[str, str], x: float, y: float, name: str, value: float,
           colour: str, ha: str = "center", **kwargs) -> None:
    labels[key] = ax.text(x, y, "{} = {}".format(name, format_number(value)), color=colour, ha=ha,
                          va="center", fontsize=10.5, **kwargs)


def _draw_structure(ax: plt.Axes) -> None:
    """The nodes and edges without numbers."""
    for name, (x, text) in NODES.items():
        if name == "L":
            patch = FancyBboxPatch((x - NODE_RADIUS, -NODE_RADIUS), 2 * NODE_RADIUS, 2 * NODE_RADIUS,
                                   boxstyle="round,pad=0.02,rounding_size=0.1", facecolor="0.92", edgecolor="black")
        else:
            patch = Circle((x, 0.0), NODE_RADIUS, facecolor="0.92" if name == "x" else "white", edgecolor="black")
        ax.add_patch(patch)
        ax.text(x, 0.0, text, ha="center", va="center", fontsize=15)
    ax.text((NODES["y_hat"][0] + NODES["L"][0]) / 2, 0.22, r"$|y - \hat{y}|$", ha="center", va="center",
            fontsize=10.5, color="0.35")
    for start, end, bend in list(EDGES.values()) + [("y_hat", "L", 0.0)]:
        ax.add_patch(FancyArrowPatch(*_edge_ends(start, end, bend),
                                     connectionstyle="arc3,rad={}".format(bend), arrowstyle="-|>",
                                     mutation_scale=16, linewidth=1.4, color="0.25"))


def _edge_ends(start: str, end: str, bend: float) -> Tuple[Tuple[float, float], Tuple[float, float]]:
    """Where an edge leaves and enters the node circles: straight edges at the sides, the curved one higher up."""
    x0, x1 = NODES[start][0], NODES[end][0]
    if bend == 0:
        return (x0 + NODE_RADIUS, 0.0), (x1 - NODE_RADIUS, 0.0)
    dx, dy = NODE_RADIUS * np.cos(SKIP_ANGLE), NODE_RADIUS * np.sin(SKIP_ANGLE)
    return (x0 + dx, dy), (x1 - dx, dy)


def _edge_label_position(weight: str) -> Tuple[float, float]:
    start, end, bend = EDGES[weight]
    (x0, y0), (x1, _) = _edge_ends(start, end, bend)
    # arc3 puts the Bezier control point bend * chord off the chord's middle; the curve peaks halfway there.
    return (x0 + x1) / 2, y0 - bend * (x1 - x0) / 2


def _draw_numbers(ax: plt.Axes, labels: Labels, forward: Dict, weights: Dict, forward_key: str,
                  weight_key: str, x: float, y: float) -> None:
    """Forward values at the nodes and weights on the edges, in the forward colour."""
    _label(ax, labels, ("inputs", "x"), NODES["x"][0], 0.75, r"$x$", x, FORWARD_COLOUR)
    for node, rows in NODE_VALUES.items():
        offset, alignment = VALUE_PLACES[node]
        for row, (name, text) in enumerate(rows):
            _label(ax, labels, (forward_key, name), NODES[node][0] + offset, 1.0 - 0.32 * row, text, forward[name],
                   FORWARD_COLOUR, ha=alignment)
    _label(ax, labels, (forward_key, "loss"), NODES["L"][0], 1.05, r"$L$", forward["loss"], FORWARD_COLOUR)
    _label(ax, labels, ("inputs", "y"), NODES["L"][0], 0.73, r"$y$", y, "black")
    for weight, name in WEIGHT_LABELS.items():
        x_edge, y_edge = _edge_label_position(weight)
        _label(ax, labels, (weight_key, weight), x_edge, y_edge + 0.22, "${}$".format(name), weights[weight],
               FORWARD_COLOUR, bbox=dict(facecolor="white", edgecolor="none", pad=0.5))


def _finish(ax: plt.Axes, title: str) -> None:
    ax.set_xlim(-0.7, 11.1)
    ax.set_ylim(-1.55, 2.55)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=12.5, loc="left")


def draw_forward_backward(ax: plt.Axes, inputs: Dict, result: Dict) -> Labels:
    """Draw the network with its forward values and, in a second colour, its gradients.

    inputs: {"x", "y", "w0", "w1", "w2", "ws", "lr"}, the values solve() was called with.
    result: what experiments.pen_and_paper.solve(**inputs) returned.
    Returns the Text artists of every number drawn, keyed like ("forward", "z0") or ("gradients", "w0").
    """
    labels = {}
    _draw_structure(ax)
    _draw_numbers(ax, labels, result["forward"], inputs, "forward", "inputs", inputs["x"], inputs["y"])
    for node, rows in NODE_GRADIENTS.items():
        for row, (name, text) in enumerate(rows):
            _label(ax, labels, ("backward", name), NODES[node][0], -0.72 - 0.32 * row, text,
                   result["backward"][name], BACKWARD_COLOUR)
    for weight, name in WEIGHT_LABELS.items():
        x_edge, y_edge = _edge_label_position(weight)
        _label(ax, labels, ("gradients", weight), x_edge, y_edge - 0.22, r"$\partial L/\partial {}$".format(name),
               result["gradients"][weight], BACKWARD_COLOUR, bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
    _finish(ax, "Forward pass (blue) and backward pass (red) for one data point")
    return labels


def draw_after_step(ax: plt.Axes, inputs: Dict, result: Dict, after: Dict) -> Labels:
    """Draw the network after one gradient-descent step: its new weights, forward values and loss.

    inputs, result: as for draw_forward_backward.
    after: what solve() returned for the same x, y and lr and the updated weights.
    Returns the Text artists keyed like ("updated_weights", "w0"), ("after_step_forward", "z0") and
    ("loss_after_step", "L").
    """
    labels = {}
    _draw_structure(ax)
    _draw_numbers(ax, labels, after["forward"], result["updated_weights"], "after_step_forward",
                  "updated_weights", inputs["x"], inputs["y"])
    # The loss of the after-step forward pass is result["loss_after_step"]; show that one, keyed by its name.
    labels[("loss_after_step", "L")] = labels.pop(("after_step_forward", "loss"))
    labels[("loss_after_step", "L")].set_text("$L$ = {}".format(format_number(result["loss_after_step"])))
    _label(ax, labels, ("inputs", "lr"), NODES["x"][0] + 0.9, -0.9, "learning rate", inputs["lr"], "black")
    _finish(ax, r"After one gradient-descent step $w \leftarrow w - \mathrm{lr}\cdot\partial L/\partial w$:"
                " new weights, forward pass and loss")
    return labels


def plot_pen_and_paper(inputs: Dict, result: Dict, after: Dict) -> Tuple[plt.Figure, Labels, Labels]:
    """The two panels in one figure: before the step (forward and backward) and after the step.

    Returns the figure and the labels of the top and of the bottom panel (see the draw functions).
    """
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11.5, 8.6))
    before_labels = draw_forward_backward(top, inputs, result)
    after_labels = draw_after_step(bottom, inputs, result, after)
    handles = [Line2D([], [], color=FORWARD_COLOUR, marker="s", linestyle="none", label="forward pass: z, h, w, L"),
               Line2D([], [], color=BACKWARD_COLOUR, marker="s", linestyle="none",
                      label="backward pass: dL/dz, dL/dh, dL/dw")]
    top.legend(handles=handles, loc="upper right", fontsize=10, frameon=False)
    figure.tight_layout()
    return figure, before_labels, after_labels
