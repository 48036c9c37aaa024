"""(C), given: the XOR dataset of the sheet, points in a square with the class of their quadrant."""
from typing import Tuple

import numpy as np


def xor_dataset(n: int, rng: np.random.Generator, low: float = -2.0,
                high: float = 2.0) -> Tuple[np.ndarray, np.ndarray]:
    """n points drawn uniformly from the square [low, high)^2 and their labels.

    Returns X of shape (n, 2), float64, and y of shape (n,), float64: 1.0 where x_1 and x_2 have the same sign
    (the first and third quadrants), 0.0 where they differ: the XOR of "x_1 < 0" and "x_2 > 0".
    """
    X = rng.uniform(low, high, size=(n, 2))
    y = ((X[:, 0] > 0) == (X[:, 1] > 0)).astype(np.float64)
    return X, y
