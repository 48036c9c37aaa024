"""Hidden graded tests: other seeds, shapes and compositions than the visible tests, so that a gap that only
fits the visible tests' numbers does not earn the points. tools/handout_manifest.txt keeps them out of the handout.
"""
import numpy as np
import pytest

from lib.activations import ReLU, Sigmoid
from lib.experiments import backward_pass
from lib.gradient_utilities import zero_grad
from lib.losses import CrossEntropyLoss, MSELoss
from lib.network import Linear, Sequential
from lib.network_base import Parameter
from tests.helpers import check_array, numerical_gradient
from tests.modules_for_tests import Affine, MatMul
from tests import test_gradient_utilities
from tests.test_network import check_linear_backward


@pytest.mark.relu_backward
@pytest.mark.parametrize("seed", [101, 202])
def test_hidden_relu_backward_three_dimensional_input(seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(3, 2, 5))
    z[np.abs(z) < 1e-3] = -0.5  # away from the kink
    grad = rng.normal(size=z.shape)
    relu = ReLU()
    relu(z)
    expected = grad * numerical_gradient(lambda: float(np.sum(np.maximum(z, 0))), z)
    check_array("ReLU.backward(grad) for z of shape (3, 2, 5)", relu.backward(grad), expected)


@pytest.mark.cross_entropy_backward
@pytest.mark.parametrize("seed", [303, 404])
def test_hidden_cross_entropy_backward_large_batch(seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(17, 7))
    labels = rng.integers(0, 7, size=17)
    loss_fn = CrossEntropyLoss()
    expected = numerical_gradient(lambda: loss_fn(logits, labels), logits)
    loss_fn(logits, labels)
    check_array("CrossEntropyLoss.backward() for logits of shape (17, 7)", loss_fn.backward(), expected)


@pytest.mark.sequential_backward
def test_hidden_sequential_backward_nested_chains():
    rng = np.random.default_rng(505)
    inner = Sequential(MatMul(rng.normal(size=(3, 3))), Sigmoid())
    model = Sequential(Affine(rng.normal(size=3), rng.normal(size=3)), inner,
                       Affine(rng.normal(size=3), rng.normal(size=3)))
    x, grad = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    expected_x = numerical_gradient(lambda: float(np.sum(grad * model(x))), x)
    model(x)
    check_array("Sequential.backward: dL/dx through a Sequential inside a Sequential", model.backward(grad),
                expected_x)


@pytest.mark.zero_grad
def test_hidden_zero_grad_many_parameters():
    rng = np.random.default_rng(606)
    params = [Parameter(rng.normal(size=shape).astype(dtype), rng.normal(size=shape).astype(dtype), "p")
              for shape, dtype in (((7,), np.float64), ((2, 5, 3), np.float32), ((1, 1), np.float64))]
    zero_grad(params)
    for param in params:
        check_array("zero_grad: .grad of shape {}".format(param.data.shape), param.grad, np.zeros_like(param.data))


@pytest.mark.linear_backward
@pytest.mark.parametrize("seed", [707, 808])
def test_hidden_linear_backward_other_shapes(seed):
    rng = np.random.default_rng(seed)
    n, d, m = 9, 6, 4
    layer = Linear(d, m, rng=rng)
    x, grad = rng.normal(size=(n, d)), rng.normal(size=(n, m))
    expected = {"W.grad": grad.T @ x, "b.grad": grad.sum(axis=0), "dL/dx": grad @ layer.W.data}
    check_linear_backward(layer, x, grad, expected, " (Linear({}, {}), N = {})".format(d, m, n))


@pytest.mark.check_gradients
def test_hidden_check_gradients_other_seed(monkeypatch):
    test_gradient_utilities.test_check_gradients_builds_the_network_with_the_rng_given(monkeypatch, 909)


@pytest.mark.backward_pass
def test_hidden_backward_pass_other_shapes():
    # Like the visible tests, it needs no other gap: an Affine stand-in model and the given MSELoss.
    rng = np.random.default_rng(1010)
    model = Affine(rng.normal(size=7), rng.normal(size=7))
    x, target = rng.normal(size=(6, 7)), rng.normal(size=(6, 7))
    loss_fn = MSELoss()
    before = [p.data.copy() for p in model.parameters()]
    gradients = [numerical_gradient(lambda: loss_fn(model(x), target), p.data) for p in model.parameters()]
    loss_fn(model(x), target)
    backward_pass(model, loss_fn, lr=0.3)
    for param, data, gradient in zip(model.parameters(), before, gradients):
        check_array("backward_pass: {}.data after a step".format(param.name), param.data, data - 0.3 * gradient)
