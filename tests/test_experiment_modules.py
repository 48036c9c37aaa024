"""Tests of Residual in lib/network.py, the skip connection out = x + module(x). Not graded: it has no gap.

The wrapped modules come from tests/modules_for_tests.py, so these tests pass before any gap is filled.
"""
import sys

import numpy as np
import pytest

from lib.activations import Tanh
from lib.network import Linear, Residual
from tests.helpers import check_array
from tests.modules_for_tests import Affine, MatMul

MATRIX = np.array([[1.0, 2.0],
                   [-1.0, 0.5]])
X = np.array([[1.0, -2.0],
              [0.5, 3.0],
              [0.0, 1.0]])
GRAD = np.array([[1.0, 0.0],
                 [-2.0, 1.0],
                 [0.5, 0.5]])


def test_residual_forward_adds_the_input():
    out = Residual(MatMul(MATRIX))(X)
    check_array("Residual.forward: x + x A", out, X + X @ MATRIX)


def test_residual_backward_adds_both_gradient_paths():
    residual = Residual(MatMul(MATRIX))
    residual(X)
    # The identity path passes grad on unchanged; the module's path gives grad A^T.
    check_array("Residual.backward: dL/dx = grad + grad A^T", residual.backward(GRAD), GRAD + GRAD @ MATRIX.T)


def test_residual_backward_passes_the_gradient_when_the_module_blocks_it():
    # A module that kills every gradient (A = 0) still leaves the identity path: dL/dx = grad exactly.
    residual = Residual(MatMul(np.zeros((2, 2))))
    residual(X)
    check_array("Residual.backward around a zero module", residual.backward(GRAD), GRAD)


def test_residual_backward_fills_the_module_parameter_gradients():
    residual = Residual(Affine(scale=[2.0, -1.0], shift=[0.5, 0.0]))
    residual(X)
    grad_x = residual.backward(GRAD)
    check_array("Residual.backward: dL/dx = grad + grad * s", grad_x, GRAD + GRAD * np.array([2.0, -1.0]))
    s, t = residual.parameters()
    check_array("Residual.backward: dL/ds = sum_n grad_n * x_n", s.grad, np.sum(GRAD * X, axis=0))
    check_array("Residual.backward: dL/dt = sum_n grad_n", t.grad, np.sum(GRAD, axis=0))


@pytest.mark.parametrize("module", [Affine(scale=[2.0, -1.0], shift=[0.5, 0.0]), Tanh()], ids=["Affine", "Tanh"])
def test_residual_passes_gradient_check(module):
    Residual(module).check_gradients((X,))


def test_gradient_check_catches_a_residual_without_its_identity_path():
    # The check above can fail: the same module with the identity path dropped from backward is caught.
    class ForgetsTheSkip(Residual):
        def backward(self, grad):
            return self.module.backward(grad)

    with pytest.raises(RuntimeError, match="the input"):
        ForgetsTheSkip(Tanh()).check_gradients((X,))


def test_residual_rejects_a_module_that_changes_the_shape():
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        Residual(MatMul(np.ones((2, 4))))(X)


def test_residual_rejects_a_module_that_skips_the_input_gradient():
    with pytest.raises(ValueError, match="needs_input_grad=False"):
        Residual(Linear(2, 2, needs_input_grad=False))


def test_residual_parameters_are_the_module_parameters():
    module = Affine(scale=[1.0, 1.0], shift=[0.0, 0.0])
    parameters = Residual(module).parameters()
    assert len(parameters) == 2
    assert parameters[0] is module.s and parameters[1] is module.t
    assert Residual(Tanh()).parameters() == []


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
