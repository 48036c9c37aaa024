"""What the tests share: assertions whose failures teach, central differences, and the stand-ins.

check_array reports in a fixed order: not an array, then the wrong dtype, then the wrong shape, then the wrong
values with the expected array printed beside the one that came back. Its first line names the gap and the
quantity, because that line is what a student sees first.

The stand-ins replace the gaps a task's code calls but does not own (grad_f calls sigmoid, relu and
relu_derivative; the training loops call grad_f), so that each task is graded on its own gap alone. They are
written unlike the reference solutions (scipy's expit, np.heaviside, finite differences), and the tests and the
value checks (grading/checks.py) use the same ones.
"""
import contextlib
import sys
from itertools import zip_longest
from typing import Callable, Dict, Iterable, Optional, Tuple

import numpy as np
import pytest
from scipy.special import expit

Hint = Tuple[object, str]  # (candidate, hint): if the result equals candidate, the hint names the mistake


def fail(message: str) -> None:
    pytest.fail(message, pytrace=False)


def shape_of(value) -> tuple:
    return tuple(int(size) for size in np.shape(value))


def array_text(array, max_lines: int = 10) -> str:
    lines = np.array2string(np.asarray(array), precision=6, suppress_small=True).splitlines()
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + ["... ({} entries in all)".format(np.size(array))]
    return "\n".join(lines)


def side_by_side(expected, got) -> str:
    left = ["expected"] + array_text(expected).splitlines()
    right = ["got"] + array_text(got).splitlines()
    width = max(len(line) for line in left)
    return "\n".join("    {}   {}".format(a.ljust(width), b) for a, b in zip_longest(left, right, fillvalue=""))


def inputs_text(inputs: Optional[Dict[str, object]]) -> str:
    if not inputs:
        return ""
    lines = ["with"]
    for name, value in inputs.items():
        if isinstance(value, np.ndarray):
            lines.append("    {} (shape {}) =\n{}".format(name, shape_of(value), "\n".join(
                "        " + line for line in array_text(value).splitlines())))
        else:
            lines.append("    {} = {!r}".format(name, value))
    return "\n".join(lines)


def matching_hint(got: np.ndarray, hints: Iterable[Hint], expected: np.ndarray) -> Optional[str]:
    for candidate, hint in hints:
        candidate = np.asarray(candidate)
        if candidate.shape == got.shape and got.size and np.allclose(got, candidate, rtol=1e-6, atol=1e-9) and \
                not (candidate.shape == expected.shape and np.allclose(candidate, expected, rtol=1e-6, atol=1e-9)):
            return hint
    return None


NO_RETURN = "did the function end without a return?"


def check_kind(what: str, got, shape: tuple, dtype=np.float64, inputs: Optional[Dict[str, object]] = None,
               shape_hint: Optional[str] = None) -> None:
    """The first three steps of check_array: a numpy array, of this dtype, of this shape."""
    if type(got) is not np.ndarray:
        shown = "None" if got is None else "{} {}".format(type(got).__name__, repr(got)[:200])
        fail("{} should be a numpy array of shape {}, got {}{}".format(
            what, shape_of(np.empty(shape)), shown, "\nhint: " + NO_RETURN if got is None else ""))
    if got.dtype != np.dtype(dtype):
        fail("{} has dtype {}, expected {}\n{}\nhint: return a float64 array (.astype(np.float64) converts one)"
             .format(what, got.dtype, np.dtype(dtype), inputs_text(inputs)).rstrip())
    if got.shape != tuple(shape):
        fail("\n".join(line for line in ["{} has shape {}, expected {}".format(what, shape_of(got), tuple(shape)),
                                         inputs_text(inputs), "hint: " + shape_hint if shape_hint else ""] if line))


def check_array(what: str, got, expected, rtol: float = 1e-7, atol: float = 1e-10,
                inputs: Optional[Dict[str, object]] = None, hints: Iterable[Hint] = ()) -> None:
    """Check that got is a numpy array with the dtype, the shape and the values of expected.

    what: names the gap and the quantity, e.g. "grad_f(params, X, y)".
    inputs: printed below a wrong result, so that it can be redone by hand.
    hints: (candidate, hint) pairs; if got equals a candidate, its hint ends the failure.
    """
    expected = np.asarray(expected)
    hints = list(hints)
    check_kind(what, got, expected.shape, expected.dtype, inputs, matching_hint(got, hints, expected)
               if isinstance(got, np.ndarray) else None)
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        difference = np.where(np.isnan(got - expected), np.inf, np.abs(got - expected))
        worst = np.unravel_index(np.argmax(difference), got.shape) if got.ndim else ()
        wrong = int(np.sum(~np.isclose(got, expected, rtol=rtol, atol=atol)))
        first = "{} has wrong values in {} of {} entries; the largest difference is{}: expected {:.6g}, got {:.6g}" \
            .format(what, wrong, got.size, " at index {}".format(tuple(int(i) for i in worst)) if got.ndim else "",
                    float(expected[worst]), float(got[worst]))
        hint = matching_hint(got, hints, expected)
        fail("\n".join(line for line in [first, side_by_side(expected, got), inputs_text(inputs),
                                         "hint: " + hint if hint else ""] if line))


def check_unchanged(what: str, array: np.ndarray, before: np.ndarray) -> None:
    """An argument must come back as it went in: the caller may still use it."""
    if not np.array_equal(array, before, equal_nan=True):
        fail("{} changed its argument {} in place: compute a new array instead\n{}".format(
            what.split(":")[0], what.split(":")[-1].strip(), side_by_side(before, array)))


def central_differences(function: Callable[[np.ndarray], float], x: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """d function(x) / dx by central differences, at float64, one entry at a time.

    For the smooth functions here, and x at least 1e-3 away from any kink of relu, the error is about 1e-9
    relative to the gradient's largest entry.
    """
    x = np.array(x, dtype=np.float64)
    gradient = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        above, below = x.copy(), x.copy()
        above[index] += step
        below[index] -= step
        gradient[index] = (function(above) - function(below)) / (2 * step)
    return gradient


# ---------------------------------------------------------------- the stand-ins

def _grad_f_by_differences(params, X, y):
    from lib.network import loss

    return central_differences(lambda p: loss(p, X, y), params)


def _momentum_step(params, velocity, grad, lr, alpha):
    velocity = np.multiply(alpha, velocity) - np.multiply(lr, grad)
    return np.add(params, velocity), velocity


LIB_MODULES = ("lib.activations", "lib.network", "lib.optimizers", "lib.training", "lib.data", "lib.boundary")
# {gap name: (module that defines it, stand-in)}: what a task's code may call of another gap.
STAND_INS = {
    "sigmoid": ("lib.activations", expit),
    "relu": ("lib.activations", lambda z: np.where(z > 0, z, 0.0)),
    "sigmoid_derivative": ("lib.activations", lambda z: expit(z) * expit(-z)),
    "relu_derivative": ("lib.activations", lambda z: np.heaviside(z, 0.0)),
    "grad_f": ("lib.network", _grad_f_by_differences),
    "gd_step": ("lib.optimizers", lambda params, grad, lr: np.subtract(params, np.multiply(lr, grad))),
    "momentum_step": ("lib.optimizers", _momentum_step),
}


@contextlib.contextmanager
def stand_ins(names: Iterable[str]):
    """Within the block, every module of lib/ that holds one of the gaps `names` (its own module and those that
    imported it by name) holds the stand-in instead; afterwards, the gaps again."""
    import importlib

    for module_name in LIB_MODULES:
        importlib.import_module(module_name)  # first, so that no module imports a stand-in as if it were the gap
    replaced = []
    try:
        for name in names:
            module_name, stand_in = STAND_INS[name]
            original = getattr(importlib.import_module(module_name), name)
            for module in list(sys.modules.values()):
                if (getattr(module, "__name__", "") or "").split(".")[0] == "lib" and \
                        getattr(module, name, None) is original:
                    replaced.append((module, name, original))
                    setattr(module, name, stand_in)
        yield
    finally:
        for module, name, original in reversed(replaced):
            setattr(module, name, original)


def all_stand_ins_but(own: Optional[str]) -> list:
    """The gaps to stand in for while the gap `own` is tested (None: all of them)."""
    return [name for name in STAND_INS if name != own]
