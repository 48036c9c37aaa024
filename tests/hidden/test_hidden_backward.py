"""Hidden graded tests: other seeds, shapes and compositions than the visible tests, so that a gap that only
fits the visible tests' numbers does not earn the points. tools/handout_manifest.txt keeps them out of the handout.
"""
import numpy as np
import pytest

from lib.activations import ReLU, Sigmoid
from lib.losses import CrossEntropyLoss
from lib.network import Sequential
from tests.helpers import check_array, numerical_gradient
from tests.modules_for_tests import Affine, MatMul


@pytest.mark.relu_backward
@pytest.mark.parametrize("seed", [101, 202])
def test_hidden_relu_backward_three_dimensional_input(seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(2, 3, 4))
    z[np.abs(z) < 1e-3] = -0.5  # away from the kink
    grad = rng.normal(size=z.shape)
    relu = ReLU()
    relu(z)
    expected = grad * numerical_gradient(lambda: float(np.sum(np.maximum(z, 0))), z)
    check_array("ReLU.backward(grad) for z of shape (2, 3, 4)", relu.backward(grad), expected)


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
