"""Assertions whose failures teach: type first, then dtype, then shape, then values, expected beside got."""
from itertools import zip_longest
from typing import Callable

import numpy as np
import pytest


def fail(message: str) -> None:
    """Fail the test with `message` only, without a traceback into the test code."""
    pytest.fail(message, pytrace=False)


def side_by_side(expected: np.ndarray, got: np.ndarray) -> str:
    """Two arrays printed in two columns, 'expected' on the left and 'got' on the right."""
    left = ["expected"] + np.array2string(np.asarray(expected), precision=6, suppress_small=True).splitlines()
    right = ["got"] + np.array2string(np.asarray(got), precision=6, suppress_small=True).splitlines()
    width = max(len(line) for line in left)
    return "\n".join("    {}   {}".format(a.ljust(width), b) for a, b in zip_longest(left, right, fillvalue=""))


def check_array(what: str, got, expected, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Check that `got` is a numpy array with the dtype, shape and values of `expected`.

    what: names the gap and the quantity, e.g. "Linear.backward: W.grad".
    """
    expected = np.asarray(expected)
    if not isinstance(got, np.ndarray):
        fail("{} should be a numpy array of shape {}, got {}: {!r}".format(what, expected.shape, type(got).__name__,
                                                                           got))
    if got.dtype != expected.dtype:
        fail("{} has dtype {}, expected {}".format(what, got.dtype, expected.dtype))
    if got.shape != expected.shape:
        fail("{} has shape {}, expected {}".format(what, got.shape, expected.shape))
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        difference = np.abs(got - expected)
        worst = np.unravel_index(np.nanargmax(np.where(np.isnan(difference), np.inf, difference)), got.shape)
        fail("{} has wrong values; the largest difference is {:.3g} at index {}:\n{}".format(
            what, float(np.nan_to_num(difference[worst], nan=np.inf)), tuple(int(i) for i in worst),
            side_by_side(expected, got)))


def numerical_gradient(function: Callable[[], float], array: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """d function() / d array by central differences, changing `array` in place one element at a time.

    function: takes no arguments and reads `array` (e.g. a parameter's .data) to compute a scalar.
    Returns an array of array's shape. For the linear and smooth functions tested here, its error is
    about 1e-9 relative to the gradient.
    """
    gradient = np.zeros(array.shape)
    for index in np.ndindex(*array.shape):
        original = array[index]
        array[index] = original + step
        above = function()
        array[index] = original - step
        below = function()
        array[index] = original
        gradient[index] = (above - below) / (2 * step)
    return gradient
