"""Training as an animation: the decision boundary and the loss curve, frame by frame, written as a GIF.

matplotlib's PillowWriter writes the GIF; pillow is one of matplotlib's own dependencies.
"""
from typing import List, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import PillowWriter

from experiments.flat_parameters import unflatten
from plotting.xor_figures import (PROBABILITY_CMAP, RUN_COLOURS, boundary_legend_handles, log_y_axis,
                                  probability_grid, scatter_classes)


def write_training_gif(path: str, model, snapshots: List[np.ndarray], snapshot_steps: Sequence[int],
                       losses: np.ndarray, x: np.ndarray, labels: np.ndarray, limits: Sequence[float] = (-0.5, 1.5),
                       title: str = "", fps: int = 8, resolution: int = 80) -> None:
    """Write a GIF with one frame per snapshot: P(class 1) with its 0.5 contour over the data, and the loss so far.

    snapshots: flat parameter vectors of model (shape (P,) each, see experiments.flat_parameters), taken after the
    steps in snapshot_steps. losses: (steps + 1,), entry k the loss after k steps. x: (N, 2), labels: (N,).
    The model is left at the last snapshot.
    """
    fig, (ax_boundary, ax_loss) = plt.subplots(1, 2, figsize=(8.4, 3.7), constrained_layout=True,
                                               gridspec_kw={"width_ratios": [1, 1.15]})
    unflatten(snapshots[0], model.parameters())
    x1, x2, probability = probability_grid(model, limits, resolution)
    image = ax_boundary.imshow(probability, origin="lower", extent=(limits[0], limits[1], limits[0], limits[1]),
                               cmap=PROBABILITY_CMAP, vmin=0, vmax=1, alpha=0.75, interpolation="bilinear")
    fig.colorbar(image, ax=ax_boundary, label="P(class 1)", shrink=0.85)
    scatter_classes(ax_boundary, x, labels, size=90 if len(x) <= 10 else 8)
    ax_boundary.set_xlim(limits)
    ax_boundary.set_ylim(limits)
    ax_boundary.set_aspect("equal")
    ax_boundary.set_xlabel("$x_1$")
    ax_boundary.set_ylabel("$x_2$")
    ax_boundary.set_title("decision boundary", fontsize=10)
    ax_boundary.legend(handles=boundary_legend_handles(), loc="upper center", fontsize=7, framealpha=0.9)

    steps = np.arange(len(losses))
    ax_loss.plot(steps, losses, color="0.85", lw=1.2, label="whole run")
    (done,) = ax_loss.plot([], [], color=RUN_COLOURS[1], lw=1.8, label="so far")
    (now,) = ax_loss.plot([], [], "o", color=RUN_COLOURS[1])
    log_y_axis(ax_loss)
    ax_loss.set_xlabel("gradient-descent steps")
    ax_loss.set_ylabel("loss (log scale)")
    ax_loss.grid(True, which="both", alpha=0.3)
    ax_loss.legend(loc="upper right", fontsize=8)
    fig.suptitle(title)
    contour = [None]

    def draw(frame: int):
        step = snapshot_steps[frame]
        unflatten(snapshots[frame], model.parameters())
        probability = probability_grid(model, limits, resolution)[2]
        image.set_data(probability)
        if contour[0] is not None:
            contour[0].remove()
            contour[0] = None
        if probability.min() < 0.5 < probability.max():
            contour[0] = ax_boundary.contour(x1, x2, probability, levels=[0.5], colors="black", linewidths=1.5)
        done.set_data(steps[:step + 1], losses[:step + 1])
        now.set_data([step], [losses[step]])
        ax_loss.set_title("after {} steps: loss {:.3f}".format(step, losses[step]), fontsize=10)

    # Lay the figure out once: re-running constrained layout on every frame would take most of the time.
    fig.canvas.draw()
    fig.set_layout_engine("none")
    # The last frame is shown half a second longer, so the end of the run can be read before the loop restarts.
    frames = list(range(len(snapshots))) + [len(snapshots) - 1] * (fps // 2)
    # The writer's own loop instead of FuncAnimation.save, which would draw every frame twice.
    writer = PillowWriter(fps=fps)
    with writer.saving(fig, path, dpi=72):
        for frame in frames:
            draw(frame)
            writer.grab_frame()
    plt.close(fig)
