"""Tests of experiments/modules.py: Identity, Probe and Sum, the modules behind the pen-and-paper network and the
skip experiment. Not graded: they have no gap.

The modules inside are the stand-ins of grading/stand_ins.py, so these tests pass before any gap is filled.
"""
import sys

import numpy as np
import pytest

from experiments.modules import Identity, Probe, Sum
from lib.activations import Tanh
from grading.stand_ins import Affine, MatMul
from tests.helpers import check_array

MATRIX = np.array([[1.0, 2.0],
                   [-1.0, 0.5]])
X = np.array([[1.0, -2.0],
              [0.5, 3.0],
              [0.0, 1.0]])
GRAD = np.array([[1.0, 0.0],
                 [-2.0, 1.0],
                 [0.5, 0.5]])


def test_sum_forward_adds_the_branch_outputs():
    out = Sum(Identity(), MatMul(MATRIX))(X)
    check_array("Sum(Identity(), MatMul(A)).forward: x + x A", out, X + X @ MATRIX)


def test_sum_backward_adds_the_branch_gradients():
    model = Sum(Identity(), MatMul(MATRIX))
    model(X)
    check_array("Sum(Identity(), MatMul(A)).backward: grad + grad A^T", model.backward(GRAD), GRAD + GRAD @ MATRIX.T)


def test_sum_backward_fills_the_branch_parameter_gradients():
    model = Sum(Identity(), Affine(scale=[2.0, -1.0], shift=[0.5, 0.0]))
    model(X)
    grad_x = model.backward(GRAD)
    check_array("Sum(Identity(), Affine).backward: grad + grad * s", grad_x, GRAD + GRAD * np.array([2.0, -1.0]))
    s, t = model.parameters()
    check_array("Sum.backward: dL/ds = sum_n grad_n * x_n", s.grad, np.sum(GRAD * X, axis=0))
    check_array("Sum.backward: dL/dt = sum_n grad_n", t.grad, np.sum(GRAD, axis=0))


@pytest.mark.parametrize("branches", [(Identity(), Affine(scale=[2.0, -1.0], shift=[0.5, 0.0])),
                                      (Identity(), Tanh()), (MatMul(MATRIX), Tanh(), Identity())],
                         ids=["Identity + Affine", "Identity + Tanh", "three branches"])
def test_sum_passes_gradient_check(branches):
    Sum(*branches).check_gradients((X,))


def test_gradient_check_catches_a_sum_that_drops_a_branch_in_backward():
    # The check above can fail: a Sum whose backward forgets its first branch is caught.
    class ForgetsTheFirstBranch(Sum):
        def backward(self, grad):
            return self.branches[1].backward(grad)

    with pytest.raises(RuntimeError, match="the input"):
        ForgetsTheFirstBranch(Identity(), Tanh()).check_gradients((X,))


def test_sum_rejects_branches_of_different_output_shapes_and_non_modules():
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(3, 4\)"):
        Sum(Identity(), MatMul(np.ones((2, 4))))(X)
    with pytest.raises(TypeError, match="Module"):
        Sum(Identity(), np.ones(2))
    with pytest.raises(ValueError, match="at least one branch"):
        Sum()


def test_probe_records_the_value_and_the_gradient_and_passes_both_on():
    probe = Probe("h")
    check_array("Probe.forward", probe(X), X)
    check_array("Probe.backward", probe.backward(GRAD), GRAD)
    check_array("Probe.value", probe.value, X)
    check_array("Probe.gradient", probe.gradient, GRAD)


def test_sum_parameters_are_the_branch_parameters():
    affine = Affine(scale=[1.0, 1.0], shift=[0.0, 0.0])
    parameters = Sum(Identity(), affine).parameters()
    assert len(parameters) == 2
    assert parameters[0] is affine.s and parameters[1] is affine.t
    assert Sum(Identity(), Tanh()).parameters() == []


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
