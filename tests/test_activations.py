"""Tests of lib/activations.py. Graded: ReLU.backward (task 2). The other activations are given code."""
import sys
import warnings

import numpy as np
import pytest

from lib.activations import ReLU, Sigmoid, Softmax, Tanh
from tests.helpers import check_array, numerical_gradient, shape_of


def relu_hints(z, grad) -> list:
    """The results of the common mistakes in ReLU.backward, each with what it means."""
    return [(grad, "it equals the incoming grad: multiply it by dh/dz, which is 1 where z > 0 and 0 elsewhere"),
            ((z > 0).astype(float), "it is dh/dz alone: multiply it by the incoming grad (the chain rule)"),
            (grad * np.maximum(z, 0), "it is grad * h: multiply by the derivative dh/dz, not by h itself"),
            (grad * (z >= 0), "it passes the gradient at z = 0: take dh/dz = 0 at the kink, as the docstring says")]


def check_relu_backward(z, grad, what="ReLU.backward(grad)"):
    """Run ReLU forward on z and backward with grad; the result must be grad where z > 0 and 0 elsewhere."""
    relu = ReLU()
    relu(z)
    grad_before = grad.copy()
    got = relu.backward(grad)
    # backward() must not change its argument: the caller may still use grad.
    check_array("ReLU.backward: its argument grad afterwards (must not change)", grad, grad_before,
                hints=[(np.where(z > 0, grad_before, 0.0), "grad was set to 0 in place where z <= 0: compute a new "
                        "array instead (grad * mask makes one)")])
    z64 = z.astype(np.float64)
    expected = grad * numerical_gradient(lambda: float(np.sum(np.maximum(z64, 0))), z64)
    expected[z == 0] = 0.0  # at the kink the library takes dh/dz = 0 (central differences would give 1/2)
    expected = expected.astype(grad.dtype)  # a float32 gradient stays float32
    check_array("{} for z of shape {}".format(what, shape_of(z)), got, expected, inputs={"z": z, "grad": grad},
                hints=relu_hints(z, grad))


@pytest.mark.relu_backward
def test_relu_backward_small_numbers():
    z = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0],
                  [1.0, -1.0, 2.0, 0.0, -3.0]])
    grad = np.array([[1.0, 2.0, 3.0, 4.0, 5.0],
                     [-1.0, -2.0, -3.0, -4.0, -5.0]])
    # dh/dz is 0 for z <= 0 and 1 for z > 0, so dL/dz keeps grad where z > 0.
    check_relu_backward(z, grad)


@pytest.mark.relu_backward
@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 3, 4), (1, 2, 2, 3)], ids=lambda shape: "shape {}".format(shape))
def test_relu_backward_works_for_any_shape(shape):
    # The docstring promises any shape: an element-wise function has an element-wise backward.
    rng = np.random.default_rng(len(shape))
    z = rng.normal(size=shape)
    z[np.abs(z) < 1e-3] = 0.5  # central differences need a distance from the kink
    check_relu_backward(z, rng.normal(size=shape))


@pytest.mark.relu_backward
def test_relu_backward_passes_gradient_check():
    rng = np.random.default_rng(0)
    z = rng.uniform(0.1, 1.0, size=(4, 6)) * rng.choice([-1.0, 1.0], size=(4, 6))  # away from the kink at 0
    ReLU().check_gradients((z,))


@pytest.mark.relu_backward
@pytest.mark.parametrize("seed", range(3))
def test_relu_backward_random_shapes_and_gradients(seed):
    rng = np.random.default_rng(seed)
    shape = shape_of(np.empty(rng.integers(1, 6, size=2)))
    z = rng.normal(size=shape)
    z[np.abs(z) < 1e-3] = 0.5
    check_relu_backward(z, rng.normal(size=shape))


@pytest.mark.relu_backward
def test_relu_backward_keeps_float32():
    z = np.array([[-1.0, 2.0], [0.5, -0.5]], dtype=np.float32)
    check_relu_backward(z, np.array([[3.0, 4.0], [5.0, 6.0]], dtype=np.float32))


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
