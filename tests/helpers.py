"""Assertions whose failures teach: type first, then dtype, then shape, then values, expected beside got.

The first line of every failure names the quantity, what was expected and what came back, because that line is
what the points table shows; the lines after it give the arrays, the inputs to redo the computation by hand,
and, where the result has the signature of a common mistake, a hint.
"""
from fractions import Fraction
from itertools import zip_longest
from typing import Callable, Dict, Iterable, Optional, Tuple

import numpy as np
import pytest

# (candidate, hint): if got equals candidate, the hint says which mistake gives that result.
Hint = Tuple[object, str]


def fail(message: str) -> None:
    """Fail the test with `message` only, without a traceback into the test code."""
    pytest.fail(message, pytrace=False)


def plain(value):
    """Shapes, numbers and nested lists of them as plain Python values: (4, 2), not (np.int64(4), np.int64(2))."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return type(value)(plain(item) for item in value)
    return value


def shape_of(value) -> tuple:
    return tuple(int(size) for size in np.shape(value))


# The most lines an array takes in a message; a longer one shows its first lines and how many more it has.
MAX_ARRAY_LINES = 8


def array_text(array, prefix: str = "", max_lines: int = MAX_ARRAY_LINES) -> str:
    lines = np.array2string(np.asarray(array), precision=6, suppress_small=True, prefix=prefix).splitlines()
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + [prefix + "... ({} more lines of {} entries in all)".format(
            len(lines) - max_lines + 1, np.size(array))]
    return "\n".join(lines)


def side_by_side(expected: np.ndarray, got: np.ndarray) -> str:
    """Two arrays printed in two columns, 'expected' on the left and 'got' on the right."""
    left = ["expected"] + array_text(expected).splitlines()
    right = ["got"] + array_text(got).splitlines()
    width = max(len(line) for line in left)
    return "\n".join("    {}   {}".format(a.ljust(width), b) for a, b in zip_longest(left, right, fillvalue=""))


def inputs_text(inputs: Optional[Dict[str, object]]) -> str:
    """The inputs a student needs to redo the computation by hand, one per line."""
    if not inputs:
        return ""
    lines = ["with"]
    for name, value in inputs.items():
        if isinstance(value, np.ndarray):
            label = "    {} (shape {}) = ".format(name, shape_of(value))
            lines.append(label + array_text(value, prefix=" " * len(label)))
        else:
            lines.append("    {} = {!r}".format(name, plain(value)))
    return "\n".join(lines)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal shapes and values (NaN equal to NaN: a hint may describe a result that holds NaN)."""
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True))


def matching_hint(got: np.ndarray, hints: Iterable[Hint], expected: np.ndarray) -> Optional[str]:
    """The hint of the first candidate that got equals (same shape, same values), or None.

    A candidate equal to the expected result says nothing about a mistake, so it is skipped.
    """
    for candidate, hint in hints:
        candidate = np.asarray(candidate)
        if got.size and same(got, candidate) and not same(candidate, expected):
            return hint
    return None


# The hint for a returned value that is None.
NO_RETURN = "did the function end without a return?"


def check_array(what: str, got, expected, rtol: float = 1e-6, atol: float = 1e-9,
                inputs: Optional[Dict[str, object]] = None, hints: Iterable[Hint] = (),
                if_none: Optional[str] = None, dtype_hints: Optional[Dict[str, str]] = None) -> None:
    """Check that `got` is a numpy array with the dtype, shape and values of `expected`.

    what: names the gap and the quantity, e.g. "Linear.backward: W.grad".
    inputs: {name: value} printed below a wrong result, so that it can be recomputed by hand.
    hints: (candidate, hint) pairs; if got equals a candidate, its hint is the failure's last line.
    if_none: the hint when got is None (NO_RETURN for what a function returns).
    dtype_hints: {dtype name: hint} for a result of a wrong dtype.
    """
    expected = np.asarray(expected)
    hints = list(hints)
    if not isinstance(got, np.ndarray) or type(got) is not np.ndarray:
        shown = "None" if got is None else "{} {}".format(type(got).__name__, repr(plain(got))[:200])
        fail("{} should be a numpy array of shape {}, got {}".format(what, shape_of(expected), shown)
             + ("\nhint: " + if_none if got is None and if_none else ""))
    if got.dtype != expected.dtype:
        hint = (dtype_hints or {}).get(str(got.dtype))
        lines = ["{} has dtype {}, expected {}".format(what, got.dtype, expected.dtype), inputs_text(inputs),
                 "hint: " + hint if hint else ""]
        fail("\n".join(line for line in lines if line))
    if got.shape != expected.shape:
        lines = ["{} has shape {}, expected {}".format(what, shape_of(got), shape_of(expected)), inputs_text(inputs)]
        hint = matching_hint(got, hints, expected)
        if hint is None and got.ndim == 2 and got.shape == expected.shape[::-1]:
            hint = "it has the shape of the expected array transposed"
        lines.append("hint: " + hint if hint else "")
        fail("\n".join(line for line in lines if line))
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        difference = np.abs(got.astype(np.float64) - expected)
        difference = np.where(np.isnan(difference), np.inf, difference)
        wrong = ~np.isclose(got, expected, rtol=rtol, atol=atol)
        worst = np.unravel_index(np.argmax(difference), got.shape) if got.ndim else ()
        at = " at index {}".format(tuple(int(i) for i in worst)) if got.ndim else ""
        first = "{} has wrong values in {} of {} entries; the largest difference is{}: expected {:.6g}, got {:.6g}" \
            .format(what, int(np.sum(wrong)), got.size, at, float(expected[worst]) + 0.0, float(got[worst]) + 0.0)
        lines = [first, side_by_side(expected, got), inputs_text(inputs)]
        hint = matching_hint(got, hints, expected) or factor_hint(got, expected)
        lines.append("hint: " + hint if hint else "")
        fail("\n".join(line for line in lines if line))


def factor_hint(got: np.ndarray, expected: np.ndarray) -> Optional[str]:
    """'your result is the expected one times 1/2' when got is one constant times expected, else None: what the
    factor is, without a guess at where it came from."""
    nonzero = expected != 0
    if not np.any(nonzero) or not np.all(np.isfinite(got)) or not np.all(np.isfinite(expected)) or \
            np.any(got[~nonzero] != 0):
        return None
    factor = float(np.median(got[nonzero] / expected[nonzero]))
    if factor in (0.0, 1.0) or not np.allclose(got, factor * expected, rtol=1e-6, atol=1e-12):
        return None
    fraction = Fraction(factor).limit_denominator(1000)
    shown = "{} ({:.6g})".format(fraction, factor) if abs(float(fraction) - factor) <= 1e-9 * abs(factor) and \
        fraction.denominator != 1 else "{:.6g}".format(factor)
    return "your result is the expected one times {}: a factor is off".format(shown)


def scale_hints(expected, factors: Dict[str, float]) -> list:
    """Hints for a result off by a known factor, e.g. {"N": 4} gives 'N times too large' and 'N times too small'."""
    expected = np.asarray(expected, dtype=np.float64)
    hints = []
    for name, factor in factors.items():
        if factor not in (0, 1):
            hints.append((expected * factor, "it is exactly {} = {} times the expected result".format(name, factor)))
            hints.append((expected / factor, "it is exactly the expected result divided by {} = {}".format(
                name, factor)))
    hints.append((-expected, "it is the expected result with the opposite sign"))
    return hints


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
