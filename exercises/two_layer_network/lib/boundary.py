"""(F): the network's predictions on a grid over the plane, for drawing its decision boundary."""
from typing import Tuple

import numpy as np

from lib.network import forward


def decision_grid(params: np.ndarray, x1_range: Tuple[float, float], x2_range: Tuple[float, float],
                  steps: int = 200) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The probability of class 1 on a steps x steps grid over x1_range x x2_range.

    params: (13,). x1_range, x2_range: (lowest, highest) value of each input, both included in the grid.
    Returns (x1_grid, x2_grid, probabilities), three float64 arrays of shape (steps, steps), as np.meshgrid makes
    them: x1_grid[i, j] is the j-th of `steps` evenly spaced values over x1_range (np.linspace), x2_grid[i, j]
    the i-th over x2_range, and probabilities[i, j] = forward(params, [[x1_grid[i, j], x2_grid[i, j]]]).
    plt.contourf(x1_grid, x2_grid, probabilities) draws them.
    """
    # START TODO ################
    # Return the three (steps, steps) float64 arrays of the docstring, in its order and its layout.
    # Evaluate forward() (given) on all steps * steps grid points in one call: no Python loop over the points.
    # Change params in no way.
    x1_grid, x2_grid = np.meshgrid(np.linspace(*x1_range, steps), np.linspace(*x2_range, steps))
    points = np.column_stack([x1_grid.ravel(), x2_grid.ravel()])
    return x1_grid, x2_grid, forward(params, points).reshape(steps, steps)
    # END TODO ##################
