"""Modules for building networks that are not a single chain: a sum of branches, and probes.

Built on lib.network_base.Module like every layer of the library, so a network made with them trains and is
gradient-checked like any other.
"""
from typing import List

import numpy as np

from lib.network_base import Module, Parameter


class Identity(Module):
    """out = x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


class Probe(Identity):
    """The identity, recording what passes: `value`, the x of the last forward(), and `gradient`, the grad of
    the last backward(). Put one after any module to read its output and dL/d(output) afterwards."""

    def __init__(self, name: str = "probe"):
        super().__init__()
        self.name = name
        self.value = None
        self.gradient = None

    def __repr__(self) -> str:
        return "Probe({!r})".format(self.name)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.value = x
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.gradient = grad
        return grad


class Sum(Module):
    """Branches applied to the same input, their outputs added: out = branch_1(x) + ... + branch_K(x).

    Every branch must return the same shape.
    """

    def __init__(self, *branches: Module):
        super().__init__()
        if not branches:
            raise ValueError("Sum needs at least one branch")
        for branch in branches:
            if not isinstance(branch, Module):
                raise TypeError("Sum takes Module objects, got {}".format(type(branch).__name__))
        self.branches = list(branches)

    def __repr__(self) -> str:
        return "Sum({})".format(", ".join(repr(branch) for branch in self.branches))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: the input of every branch. Returns the sum of their outputs."""
        outputs = [branch(x) for branch in self.branches]
        shapes = [np.shape(out) for out in outputs]
        if len(set(shapes)) > 1:
            raise ValueError("Sum needs branches whose outputs have one shape, got {} from {}"
                             .format(shapes, self.branches))
        return sum(outputs[1:], outputs[0])

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """grad: dL/d(out). Returns dL/dx, shape of x."""
        gradients = [branch.backward(grad) for branch in self.branches]
        return sum(gradients[1:], gradients[0])

    def parameters(self) -> List[Parameter]:
        return [param for branch in self.branches for param in branch.parameters()]
