"""(D), (E) and (F): train the sheet's network with gradient descent and with momentum, and draw the results.

run() trains every optimiser from the same initial parameters on the same XOR data; the figure functions take
its result. Only this file and run_training.py use matplotlib: lib/ stays NumPy.
"""
import os
from collections import OrderedDict
from typing import Dict, Sequence

import numpy as np

from lib.boundary import decision_grid
from lib.data import xor_dataset
from lib.network import forward, init_params
from lib.training import gradient_descent, gradient_descent_momentum

# The defaults of run_training.py: the sheet's 500 points and 3000 iterations; a learning rate for the mean loss
# (the sheet's 1e-4 barely moves it); the sheet's momentum 0.5 and the common 0.9.
DEFAULTS = {"seed": 2, "points": 500, "iterations": 3000, "lr": 0.1, "alphas": (0.5, 0.9), "init_scale": 0.1}


def run(seed: int, points: int, iterations: int, lr: float, alphas: Sequence[float], init_scale: float) -> Dict:
    """Train once with gradient descent and once per momentum alpha, all from one start.

    Returns {"X", "y", "params_init", "runs": {label: (final params, losses)}}.
    """
    rng = np.random.default_rng(seed)
    X, y = xor_dataset(points, rng)
    params_init = init_params(rng, init_scale)
    runs = OrderedDict()
    runs["gradient descent"] = gradient_descent(X, y, params_init, iterations, lr)
    for alpha in alphas:
        label = "momentum, alpha = {:g}".format(alpha)
        runs[label] = gradient_descent_momentum(X, y, params_init, iterations, lr, alpha)
    return {"X": X, "y": y, "params_init": params_init, "runs": runs}


def accuracy(params: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """The fraction of samples whose predicted class (y_hat > 1/2) is their label."""
    return float(np.mean((forward(params, X) > 0.5) == (y == 1)))


def loss_figure(result: Dict, lr: float):
    """(D) and (E): the loss per iteration of every run, on one axis."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for label, (_, losses) in result["runs"].items():
        axis.plot(losses, label=label)
    axis.set_xlabel("iteration")
    axis.set_ylabel("mean binary cross-entropy")
    axis.set_title("Gradient descent and momentum, lr = {:g}".format(lr))
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def boundary_figure(result: Dict, steps: int = 250):
    """(F): for every run, the predicted class over the plane, its decision boundary and the XOR data on top."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    X, y = result["X"], result["y"]
    margin = 0.1
    x1_range = (X[:, 0].min() - margin, X[:, 0].max() + margin)
    x2_range = (X[:, 1].min() - margin, X[:, 1].max() + margin)
    runs = result["runs"]
    figure, axes = plt.subplots(1, len(runs), figsize=(4.6 * len(runs), 4.4), squeeze=False)
    for axis, (label, (params, _)) in zip(axes[0], runs.items()):
        x1_grid, x2_grid, probabilities = decision_grid(params, x1_range, x2_range, steps)
        axis.contourf(x1_grid, x2_grid, probabilities, levels=[0.0, 0.5, 1.0],
                      cmap=ListedColormap(["#f4c7c3", "#c6dbef"]))
        axis.contour(x1_grid, x2_grid, probabilities, levels=[0.5], colors="black", linewidths=1.5)
        axis.scatter(X[:, 0], X[:, 1], c=y, cmap=ListedColormap(["#c0392b", "#2166ac"]), s=9)
        axis.set_title("{}\naccuracy {:.1%}".format(label, accuracy(params, X, y)))
        axis.set_xlabel("$x_1$")
        axis.set_ylabel("$x_2$")
        axis.set_aspect("equal")
    figure.suptitle("Decision boundary (black, y_hat = 1/2) over the XOR data: blue class 1, red class 0")
    figure.tight_layout()
    return figure


def write_figures(result: Dict, lr: float, out: str) -> list:
    """Write loss_curves.png and decision_boundary.png into the folder out; returns their paths."""
    import matplotlib.pyplot as plt

    os.makedirs(out, exist_ok=True)
    paths = []
    figures = (("loss_curves.png", loss_figure(result, lr)), ("decision_boundary.png", boundary_figure(result)))
    for name, figure in figures:
        path = os.path.join(out, name)
        figure.savefig(path, dpi=110)
        plt.close(figure)
        paths.append(path)
    return paths
