"""Stand-in modules: small modules with a known backward pass, written for the tests and the value checks, so that
what checks one gap depends on no other gap (grading/tasks.py declares the few exceptions in `needs`).

tests/ and grading/checks.py use these, and only these: one set of stand-ins for the feedback and the grade.
Each one computes in the dtype of the arrays it is given, so a float32 model stays float32.
"""
from typing import List, Optional

import numpy as np

from lib.network_base import Module, Parameter


def carries_the_gradient_check(error: BaseException) -> bool:
    """Whether error is a RuntimeError that is, or carries, Module.check_gradients' error: in its message, or as
    its cause or context (an honest check_gradients may wrap the check's error in a RuntimeError of its own)."""
    if not isinstance(error, RuntimeError):
        return False
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if "Gradient check of" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


class NoBackward(Module):
    """out = x, a module whose backward() is Module's: it raises NotImplementedError, which must reach the caller."""

    def __repr__(self) -> str:
        return "NoBackward"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x


class MatMul(Module):
    """out = x A for a fixed matrix A of shape (D, M). dL/dx = grad A^T.

    calls: if given, backward() appends self.name to it, so that a test can see the order of the backward calls.
    """

    def __init__(self, matrix, name: str = "MatMul", calls: Optional[List[str]] = None, dtype=float):
        super().__init__()
        self.matrix = np.array(matrix, dtype=dtype)
        self.name = name
        self.calls = calls

    def __repr__(self) -> str:
        return self.name

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self.matrix

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self.calls is not None:
            self.calls.append(self.name)
        return grad @ self.matrix.T


class Affine(Module):
    """out = x * s + t, element-wise, with trainable vectors s and t of shape (D,).

    dL/ds = sum_n grad_n * x_n,   dL/dt = sum_n grad_n,   dL/dx = grad * s.
    """

    def __init__(self, scale, shift, name: str = "Affine", calls: Optional[List[str]] = None, dtype=float):
        super().__init__()
        scale, shift = np.array(scale, dtype=dtype), np.array(shift, dtype=dtype)
        self.s = Parameter(scale, np.zeros_like(scale), "s")
        self.t = Parameter(shift, np.zeros_like(shift), "t")
        self.name = name
        self.calls = calls

    def __repr__(self) -> str:
        return self.name

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input_cache = x
        return x * self.s.data + self.t.data

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self.calls is not None:
            self.calls.append(self.name)
        self.s.grad += np.sum(grad * self.input_cache, axis=0)
        self.t.grad += np.sum(grad, axis=0)
        return grad * self.s.data

    def parameters(self) -> List[Parameter]:
        return [self.s, self.t]


class Square(Module):
    """h = z * z / 2, element-wise: a non-linear module that is not one of the library's, so that a test of a
    container uses no activation a task could turn into a gap. dL/dz = grad * z."""

    def __repr__(self) -> str:
        return "Square()"

    def forward(self, z: np.ndarray) -> np.ndarray:
        self.input_cache = z
        return z * z / 2

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self.input_cache


class FixedGradientLoss(Module):
    """A loss whose backward() returns a copy of a fixed gradient, whatever it is given, and counts its calls."""

    def __init__(self, gradient, dtype=float):
        super().__init__()
        self.gradient = np.array(gradient, dtype=dtype)
        self.backward_calls = 0

    def __repr__(self) -> str:
        return "FixedGradientLoss()"

    def forward(self, prediction, target) -> float:
        return 0.0

    def backward(self, grad=None) -> np.ndarray:
        self.backward_calls += 1
        return self.gradient.copy()
