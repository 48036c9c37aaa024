"""Tests of lib/activations.py. Graded: ReLU.backward (task 2). The other activations are given code."""
import sys
import warnings

import numpy as np
import pytest

from lib.activations import ReLU, Sigmoid, Softmax, Tanh
from tests.helpers import check_array, numerical_gradient


@pytest.mark.relu_backward
def test_relu_backward_small_numbers():
    relu = ReLU()
    z = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    relu(z)
    grad = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    # dh/dz is 0 for z <= 0 and 1 for z > 0.
    check_array("ReLU.backward(grad)", relu.backward(grad), [[0.0, 0.0, 0.0, 4.0, 5.0]])


@pytest.mark.relu_backward
def test_relu_backward_passes_gradient_check():
    rng = np.random.default_rng(0)
    z = rng.uniform(0.1, 1.0, size=(4, 6)) * rng.choice([-1.0, 1.0], size=(4, 6))  # away from the kink at 0
    ReLU().check_gradients((z,))


@pytest.mark.relu_backward
@pytest.mark.parametrize("seed", range(3))
def test_relu_backward_random_shapes_and_gradients(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 6, size=2))
    z = rng.normal(size=shape)
    z[np.abs(z) < 1e-3] = 0.5  # central differences need a distance from the kink
    grad = rng.normal(size=shape)
    relu = ReLU()
    relu(z)
    grad_before = grad.copy()
    got = relu.backward(grad)
    # backward() must not change its argument: a Residual around the ReLU still needs the original grad.
    check_array("ReLU.backward: its argument grad afterwards (must not change)", grad, grad_before)
    # The numerical derivative of forward(), element by element, times the incoming gradient.
    expected = grad * numerical_gradient(lambda: float(np.sum(np.maximum(z, 0))), z)
    check_array("ReLU.backward(grad) for z of shape {}".format(shape), got, expected)


@pytest.mark.parametrize("module", [Sigmoid(), Tanh(), Softmax()], ids=repr)
def test_given_activations_pass_gradient_check(module):
    z = np.random.default_rng(1).normal(size=(3, 5))
    module.check_gradients((z,))


def test_sigmoid_values():
    check_array("Sigmoid.forward", Sigmoid()(np.array([[0.0, np.log(3.0)]])), [[0.5, 0.75]])


def test_softmax_rows_sum_to_one_and_backward_is_jacobian_vector_product():
    rng = np.random.default_rng(2)
    z, grad = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    softmax = Softmax()
    h = softmax(z)
    check_array("Softmax row sums", h.sum(axis=1), np.ones(4))
    jacobians = np.einsum("ni,ij->nij", h, np.eye(3)) - np.einsum("ni,nj->nij", h, h)
    check_array("Softmax.backward", softmax.backward(grad), np.einsum("ni,nij->nj", grad, jacobians))


@pytest.mark.parametrize("module", [Sigmoid(), Tanh(), Softmax(), ReLU()], ids=repr)
def test_activations_are_finite_and_quiet_at_extreme_inputs(module):
    z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = module(z)
    assert np.all(np.isfinite(out)), "{} gave {} for inputs of +-1000".format(module, out)


@pytest.mark.parametrize("module", [Sigmoid(), Tanh(), Softmax(), ReLU()], ids=repr)
def test_activations_keep_float32(module):
    out = module(np.ones((2, 3), dtype=np.float32))
    assert out.dtype == np.float32, "{} turned float32 input into {}".format(module, out.dtype)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
