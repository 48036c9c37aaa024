"""Tests of grad_f in lib/network.py (task 5): the gradient of the mean binary cross-entropy of the 2-3-1 network,
against central differences of the given loss at float64.

sigmoid, relu and relu_derivative are stand-ins here (tests/conftest.py): only grad_f is graded.
"""
import sys

import numpy as np
import pytest

from lib.network import PARAMETER_COUNT, grad_f, loss, pack, unpack
from tests.helpers import central_differences, check_array, check_kind, check_unchanged

# Central differences with a step of 1e-6 at float64 are accurate to about 1e-9 relative to the gradient's
# largest entry here, far from the kinks of relu; a right grad_f agrees with them to 1e-7, a wrong one by far more.
TOLERANCE = 1e-6


def away_from_kinks(params, X, margin=1e-3):
    """X with every sample whose hidden pre-activation z lies within margin of relu's kink moved away from it."""
    W, b, _, _ = unpack(params)
    X = X.copy()
    near = np.any(np.abs(X @ W + b) < margin, axis=1)
    X[near] += 0.01
    return X


def problem(seed, n, scale=1.0):
    rng = np.random.default_rng(seed)
    params = rng.normal(scale=scale, size=PARAMETER_COUNT)
    X = away_from_kinks(params, rng.uniform(-2, 2, size=(n, 2)))
    y = (rng.random(n) < 0.5).astype(np.float64)
    return params, X, y


def check_grad_f(params, X, y, what="grad_f(params, X, y)"):
    before = params.copy(), X.copy(), y.copy()
    got = grad_f(params, X, y)
    for name, array, copy in zip(("params", "X", "y"), (params, X, y), before):
        check_unchanged("grad_f: {}".format(name), array, copy)
    expected = central_differences(lambda p: loss(p, X, y), params)
    n = len(y)
    hints = [(expected * n, "it is N = {} times the gradient of the mean loss: L is the mean over the samples, so "
                            "each sample's part is divided by N".format(n)),
             (-expected, "it has the opposite sign: dL/ds = y_hat - y, not y - y_hat"),
             (expected / n, "it is the gradient divided by N = {} once more than needed".format(n))]
    W_part = expected[:6].reshape(2, 3)
    hints.append((pack(W_part.T.ravel().reshape(2, 3), *unpack(expected)[1:]),
                  "dL/dW is packed column by column: pack() takes W of shape (2, 3), w_ij from input i to hidden j"))
    check_array("{} for N = {}".format(what, n), got, expected, rtol=0, atol=TOLERANCE * max(1.0, np.abs(
        expected).max()), inputs={"params": params, "X": X, "y": y} if n <= 4 else {"params": params}, hints=hints)


@pytest.mark.grad_f
def test_grad_f_returns_a_vector_of_13():
    params, X, y = problem(0, 5)
    check_kind("grad_f(params, X, y): the returned gradient", grad_f(params, X, y), (PARAMETER_COUNT,),
               shape_hint="return pack(dL/dW, dL/db, dL/dv, dL/dc), one vector in the layout of params")


@pytest.mark.grad_f
def test_grad_f_one_sample():
    params, X, y = problem(1, 1)
    check_grad_f(params, X, y)


@pytest.mark.grad_f
def test_grad_f_small_batch_by_hand():
    # All hidden units active for x = (1, 1): z = (1, 2, 3), a = z, s = a v + c = 1 - 2 + 3 - 1 = 1.
    params = pack(np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]]), np.array([0.0, 0.0, 0.0]),
                  np.array([1.0, -1.0, 1.0]), -1.0)
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    y = np.array([1.0, 0.0])
    check_grad_f(params, X, y)


@pytest.mark.grad_f
@pytest.mark.parametrize("seed, n", [(2, 3), (3, 20), (4, 200)])
def test_grad_f_matches_central_differences(seed, n):
    params, X, y = problem(seed, n)
    check_grad_f(params, X, y)


@pytest.mark.grad_f
def test_grad_f_at_the_sheets_small_initial_weights():
    params, X, y = problem(5, 50, scale=0.1)
    check_grad_f(params, X, y)


@pytest.mark.grad_f
def test_grad_f_with_dead_hidden_units():
    # The second hidden unit is never active (a large negative bias): its weights get no gradient.
    params, X, y = problem(6, 30)
    W, b, v, c = unpack(params)
    b[1] = -100.0
    check_grad_f(pack(W, b, v, c), X, y, "grad_f(params, X, y) with hidden unit 2 inactive for every sample")


@pytest.mark.grad_f
def test_grad_f_all_labels_one_class():
    params, X, _ = problem(7, 10)
    check_grad_f(params, X, np.ones(10))
    check_grad_f(params, X, np.zeros(10))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
