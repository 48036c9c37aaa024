"""Small helpers for preparing data."""
import numpy as np


def one_hot_encoding(y: np.ndarray, num_classes: int, dtype=np.float64) -> np.ndarray:
    """Turn integer class labels into one-hot rows.

    y: integer labels, shape (N,), each in [0, num_classes).
    Returns an array of shape (N, num_classes) and the given dtype, with a single 1 per row.
    Example: one_hot_encoding(np.array([1, 2]), 3) -> [[0, 1, 0], [0, 0, 1]]
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError("one_hot_encoding expects labels of shape (N,), got shape {}".format(y.shape))
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise ValueError("one_hot_encoding expects integer labels, got dtype {}".format(y.dtype))
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError("labels must lie in [0, {}), got values from {} to {}"
                         .format(num_classes, y.min(), y.max()))
    encoded = np.zeros((len(y), num_classes), dtype=dtype)
    encoded[np.arange(len(y)), y] = 1
    return encoded
