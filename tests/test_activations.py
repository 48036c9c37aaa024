"""Tests of lib/activations.py. Graded: ReLU.backward (task 2). The other activations are given code."""
import sys
import warnings

import numpy as np
import pytest

from lib.activations import ReLU, Sigmoid, Softmax, Tanh
from tests.helpers import NO_RETURN, check_array, numerical_gradient, shape_of


def relu_hints(z, grad) -> list:
    """The results of the common mistakes in ReLU.backward, each with what it means."""
    return [(grad, "it equals the incoming grad: multiply it by dh/dz, which is 1 where z > 0 and 0 elsewhere"),
            ((z > 0).astype(float), "it is dh/dz alone: multiply it by the incoming grad (the chain rule)"),
            (grad * np.maximum(z, 0), "it is grad * h: multiply by the derivative dh/dz, not by h itself"),
            (grad * (z >= 0), "it passes the gradient at z = 0: take dh/dz = 0 at the kink, as the docstring says")]


def clipped_hint(got, before, mask) -> list:
    """A hint for a result whose large entries were cut off at the largest magnitude that got holds."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != np.shape(before) or not got.size:
        return []
    limit = float(np.max(np.abs(got)))
    return [(np.clip(before, -limit, limit) * mask, "the large entries of grad were cut off at +-{:g}: pass grad "
                                                    "on as it is where z > 0".format(limit))]


def check_relu_backward(z, grad, what="ReLU.backward(grad)"):
    """Run ReLU forward on z and backward with grad; the result must be grad where z > 0 and 0 elsewhere."""
    relu = ReLU()
    h = relu(z)
    grad_before, h_before = grad.copy(), np.array(h)
    got = relu.backward(grad)
    # backward() must not change its argument: the caller may still use grad.
    check_array("ReLU.backward: its argument grad afterwards (must not change)", grad, grad_before,
                hints=[(np.where(z > 0, grad_before, 0.0), "grad was set to 0 in place where z <= 0: compute a new "
                        "array instead (grad * mask makes one)")] + clipped_hint(grad, grad_before, 1.0))
    z64 = z.astype(np.float64)
    expected = grad_before * numerical_gradient(lambda: float(np.sum(np.maximum(z64, 0))), z64)
    expected[z == 0] = 0.0  # at the kink the library takes dh/dz = 0 (central differences would give 1/2)
    expected = expected.astype(grad.dtype)  # a float32 gradient stays float32
    check_array("{} for z of shape {}".format(what, shape_of(z)), got, expected, inputs={"z": z, "grad": grad_before},
                hints=relu_hints(z, grad_before) + clipped_hint(got, grad_before, z > 0), if_none=NO_RETURN)
    # The output h is what the next layer keeps as its input: backward() must leave the cached h alone.
    check_array("ReLU.backward: the output h cached by forward(), after backward() (must not change)",
                relu.input_cache, h_before,
                hints=[((h_before > 0).astype(float), "backward() turned the cached h into the mask: compute the mask "
                                                      "as a new array"),
                       (expected, "backward() wrote its result into the cached h: return a new array")])
    check_array("ReLU.backward(grad) called a second time after the same forward()", relu.backward(grad_before.copy()),
                expected)


@pytest.mark.relu_backward
def test_relu_backward_small_numbers():
    z = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0],
                  [1.0, -1.0, 2.0, 0.0, -3.0]])
    grad = np.array([[1.0, 2.0, 3.0, 4.0, 5.0],
                     [-1.0, -2.0, -3.0, -4.0, -5.0]])
    # dh/dz is 0 for z <= 0 and 1 for z > 0, so dL/dz keeps grad where z > 0.
    check_relu_backward(z, grad)


@pytest.mark.relu_backward
def test_relu_backward_keeps_an_earlier_result():
    # A network keeps each module's dL/dz while it goes on: a later call must not change an earlier result.
    relu = ReLU()
    first_z, first_grad = np.array([[1.0, -2.0], [3.0, 4.0]]), np.array([[5.0, 6.0], [7.0, 8.0]])
    relu(first_z)
    first = relu.backward(first_grad)
    relu(np.array([[-1.0, 2.0], [-3.0, -4.0]]))
    relu.backward(np.array([[9.0, 10.0], [11.0, 12.0]]))
    check_array("ReLU.backward: the first call's dL/dz after a second forward and backward", first,
                [[5.0, 0.0], [7.0, 8.0]], inputs={"first z": first_z, "first grad": first_grad},
                hints=[([[0.0, 10.0], [0.0, 0.0]], "the first result changed into the second: return a new array "
                                                   "each call, not one kept on self")])


@pytest.mark.relu_backward
@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 3, 4), (1, 2, 2, 3), (1, 5), (0, 4)],
                         ids=lambda shape: "shape {}".format(shape))
def test_relu_backward_works_for_any_shape(shape):
    # The docstring promises any shape: an element-wise function has an element-wise backward.
    rng = np.random.default_rng(len(shape))
    z = rng.normal(size=shape)
    z[np.abs(z) < 1e-3] = 0.5  # central differences need a distance from the kink
    check_relu_backward(z, rng.normal(size=shape))


@pytest.mark.relu_backward
def test_relu_backward_tiny_positive_inputs():
    # dh/dz = 1 for every z > 0, however small: 1e-9 and the smallest float64, 5e-324, are positive.
    z = np.array([[1e-9, -1e-9, 5e-324, -5e-324], [1e-300, 0.0, 2.5e-308, 1e-12]])
    grad = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    relu = ReLU()
    relu(z)
    got = relu.backward(grad.copy())
    check_array("ReLU.backward(grad) for tiny z", got, np.where(z > 0, grad, 0.0), inputs={"z": z, "grad": grad},
                hints=[(grad * ~np.isclose(z, 0), "it treats tiny positive z as 0 (np.isclose or a threshold): "
                                                  "dh/dz = 1 for every z > 0, however small")], if_none=NO_RETURN)


@pytest.mark.relu_backward
def test_relu_backward_large_and_small_gradients():
    rng = np.random.default_rng(11)
    z = rng.normal(size=(4, 5)) * 10.0
    grad = rng.normal(size=(4, 5)) * 10.0 ** rng.uniform(-3.0, 4.0, size=(4, 5))
    check_relu_backward(z, grad, "ReLU.backward(grad) for grad from 1e-3 to 1e4")


@pytest.mark.relu_backward
def test_relu_backward_of_views():
    # Arrays that are views with strides, as slices and transposes make them: element-wise, they work alike.
    rng = np.random.default_rng(12)
    z = rng.normal(size=(6, 8))[::2, 1::3]
    grad = rng.normal(size=(8, 6)).T[1::2, ::3]
    check_relu_backward(z, grad, "ReLU.backward(grad) for z and grad that are views")
    check_relu_backward(rng.normal(size=(3, 4)).T, rng.normal(size=(3, 4)).T, "ReLU.backward(grad) for transposes")


@pytest.mark.relu_backward
def test_relu_backward_after_a_second_forward():
    # One module, two forward passes: each backward() belongs to the forward() just before it.
    first = np.array([[1.0, -1.0], [2.0, -2.0]])
    second = np.array([[-1.0, 1.0], [-2.0, 2.0]])
    grad = np.array([[1.0, 2.0], [3.0, 4.0]])
    relu = ReLU()
    relu(first)
    relu.backward(grad.copy())
    relu(second)
    check_array("ReLU.backward(grad) after a second forward()", relu.backward(grad.copy()), [[0.0, 2.0], [0.0, 4.0]],
                inputs={"z of the first forward": first, "z of the second forward": second, "grad": grad},
                hints=[([[1.0, 0.0], [3.0, 0.0]], "it used the z of the first forward(): compute the mask from the h "
                                                  "that forward() cached, in every backward() call")])


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
