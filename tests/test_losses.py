"""Tests of lib/losses.py. Graded: CrossEntropyLoss.backward (task 4). The other losses are given code."""
import sys
import warnings

import numpy as np
import pytest

from lib.losses import BCELoss, CrossEntropyLoss, L1Loss, MSELoss
from lib.utilities import one_hot_encoding
from tests.helpers import check_array, numerical_gradient


# ---------------------------------------------------------------- CrossEntropyLoss.backward (task 4)

@pytest.mark.cross_entropy_backward
def test_cross_entropy_backward_small_numbers():
    loss_fn = CrossEntropyLoss()
    # softmax([0, ln 3]) = [1/4, 3/4], softmax([0, 0]) = [1/2, 1/2] and softmax([ln 3, 0]) = [3/4, 1/4].
    logits = np.array([[0.0, np.log(3.0)],
                       [0.0, 0.0],
                       [np.log(3.0), 0.0]])
    loss_fn(logits, np.array([0, 1, 1]))
    # (softmax(z) - y) / N with y = [[1, 0], [0, 1], [0, 1]] and N = 3.
    expected = [[-0.25, 0.25],
                [1 / 6, -1 / 6],
                [0.25, -0.25]]
    check_array("CrossEntropyLoss.backward()", loss_fn.backward(), expected)


@pytest.mark.cross_entropy_backward
@pytest.mark.parametrize("targets", ["labels", "one-hot"])
def test_cross_entropy_backward_passes_gradient_check(targets):
    rng = np.random.default_rng(5)
    labels = np.array([0, 2, 1, 2])
    y = labels if targets == "labels" else one_hot_encoding(labels, 3)
    CrossEntropyLoss().check_gradients((rng.normal(size=(4, 3)), y))


@pytest.mark.cross_entropy_backward
@pytest.mark.parametrize("seed", range(3))
def test_cross_entropy_backward_random_batches(seed):
    rng = np.random.default_rng(seed)
    n, c = rng.integers(1, 7), rng.integers(2, 6)
    logits = rng.normal(scale=3.0, size=(n, c))
    labels = rng.integers(0, c, size=n)
    loss_fn = CrossEntropyLoss()
    expected = numerical_gradient(lambda: loss_fn(logits, labels), logits)
    for name, targets in (("integer labels", labels), ("one-hot targets", one_hot_encoding(labels, c))):
        loss_fn(logits, targets)
        check_array("CrossEntropyLoss.backward() for logits of shape {} and {}".format((n, c), name),
                    loss_fn.backward(), expected)


@pytest.mark.cross_entropy_backward
def test_cross_entropy_backward_is_finite_at_extreme_logits():
    loss_fn = CrossEntropyLoss()
    loss_fn(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), np.array([1, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = loss_fn.backward()
    check_array("CrossEntropyLoss.backward() at logits of +-1000", got, [[0.5, -0.5], [0.0, 0.0]])


# ---------------------------------------------------------------- CrossEntropyLoss, the given part

def test_cross_entropy_forward_values():
    logits = np.array([[0.0, np.log(3.0)], [0.0, 0.0]])
    loss = CrossEntropyLoss()(logits, np.array([0, 1]))
    assert isinstance(loss, float), "CrossEntropyLoss returns a float, got {}".format(type(loss).__name__)
    assert loss == pytest.approx((np.log(4.0) + np.log(2.0)) / 2)


def test_cross_entropy_is_finite_and_quiet_at_extreme_logits():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = CrossEntropyLoss()(np.array([[1000.0, -1000.0]]), np.array([1]))
    assert loss == pytest.approx(2000.0)


@pytest.mark.parametrize("logits, targets, message", [
    (np.zeros((3, 2)), np.array([0, 1]), r"\(3, 2\).*\(3,\)"),
    (np.zeros((3, 2)), np.zeros((3, 3)), r"got shape \(3, 3\)"),
    (np.zeros((2, 3)), np.array([0, 3]), r"\[0, 3\)"),
    (np.zeros((2, 3)), np.array([-1, 0]), r"\[0, 3\)"),
    (np.zeros(3), np.array([0]), r"\(N, C\)"),
])
def test_cross_entropy_rejects_bad_input(logits, targets, message):
    with pytest.raises(ValueError, match=message):
        CrossEntropyLoss()(logits, targets)


# ---------------------------------------------------------------- L1, MSE and BCE

def test_l1_and_mse_values_and_gradients():
    prediction, target = np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([[0.0, 0.0], [0.5, 1.0]])
    l1, mse = L1Loss(), MSELoss()
    assert l1(prediction, target) == pytest.approx(5.0 / 4)
    check_array("L1Loss.backward", l1.backward(), [[0.25, -0.25], [0.0, 0.25]])
    assert mse(prediction, target) == pytest.approx(9.0 / 4)
    check_array("MSELoss.backward", mse.backward(), [[0.5, -1.0], [0.0, 1.0]])


@pytest.mark.parametrize("loss_fn", [L1Loss(), MSELoss(), BCELoss()], ids=repr)
def test_regression_losses_pass_gradient_check(loss_fn):
    rng = np.random.default_rng(6)
    loss_fn.check_gradients((rng.uniform(0.05, 0.95, size=(3, 2)), rng.uniform(0, 1, size=(3, 2))))


@pytest.mark.parametrize("loss_fn", [L1Loss(), MSELoss(), BCELoss()], ids=repr)
def test_losses_reject_mismatched_shapes(loss_fn):
    with pytest.raises(ValueError, match=r"same shape.*\(2, 1\).*\(2,\)"):
        loss_fn(np.zeros((2, 1)), np.zeros(2))


def test_bce_is_finite_at_zero_and_one():
    loss_fn = BCELoss()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = loss_fn(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]]))
        grad = loss_fn.backward()
    assert np.isfinite(loss) and loss > 30, "BCE of confident wrong answers is large but finite, got {}".format(loss)
    assert np.all(np.isfinite(grad)) and grad[0, 0] < 0 < grad[1, 0]
    assert loss_fn(np.array([[0.5]]), np.array([[1.0]])) == pytest.approx(np.log(2.0))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
