"""Small modules written for the tests, so that a test of one gap does not depend on another gap."""
from typing import List

import numpy as np

from lib.network_base import Module, Parameter


class MatMul(Module):
    """out = x A for a fixed matrix A of shape (D, M). dL/dx = grad A^T."""

    def __init__(self, matrix, name: str = "MatMul", calls: List[str] = None):
        super().__init__()
        self.matrix = np.asarray(matrix, dtype=float)
        self.name = name
        self.calls = calls  # if given, backward() appends self.name: the order of the backward calls

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

    def __init__(self, scale, shift):
        super().__init__()
        scale, shift = np.array(scale, dtype=float), np.array(shift, dtype=float)
        self.s = Parameter(scale, np.zeros_like(scale), "s")
        self.t = Parameter(shift, np.zeros_like(shift), "t")

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input_cache = x
        return x * self.s.data + self.t.data

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.s.grad += np.sum(grad * self.input_cache, axis=0)
        self.t.grad += np.sum(grad, axis=0)
        return grad * self.s.data

    def parameters(self) -> List[Parameter]:
        return [self.s, self.t]
