"""Tests of lib/losses.py. Graded: CrossEntropyLoss.backward (task 4). The other losses are given code."""
import sys
import warnings

import numpy as np
import pytest

from lib.losses import BCELoss, CrossEntropyLoss, L1Loss, MSELoss
from lib.utilities import one_hot_encoding
from tests.helpers import NO_RETURN, check_array, numerical_gradient


# ---------------------------------------------------------------- CrossEntropyLoss.backward (task 4)

def cross_entropy_hints(probabilities, targets) -> list:
    """The results of the common mistakes in CrossEntropyLoss.backward, each with what it means."""
    n = len(probabilities)
    gradient = probabilities - targets
    hints = [(gradient, "it is softmax(z) - y without the mean: divide by the batch size N = {}".format(n)),
             (-gradient / n, "it has the opposite sign: dL/dz = (softmax(z) - y) / N"),
             (probabilities / n, "it leaves out the targets: dL/dz = (softmax(z) - y) / N")]
    return hints


def check_cross_entropy_backward(loss_fn, expected, what, inputs):
    probabilities, targets = (np.array(array) for array in loss_fn.input_cache)
    got = loss_fn.backward()
    squeezed = (np.squeeze(expected), "it lost its axes of length 1 (np.squeeze?): dL/dz has the shape (N, C) of the "
                                      "logits also for N = 1")
    check_array(what, got, expected, inputs=inputs, hints=cross_entropy_hints(probabilities, targets) + [squeezed],
                if_none=NO_RETURN)
    # A second backward() after the same forward() must give the same result and leave the cache as it was.
    again = loss_fn.backward()
    check_array("{}, called a second time after the same forward()".format(what), again, expected,
                hints=[(expected * 2, "it doubled: backward() must not change the probabilities that forward() "
                                      "cached; compute a new array instead of changing it in place (-=, /=)")])
    check_array("CrossEntropyLoss: the probabilities cached by forward() after backward() (must not change)",
                loss_fn.input_cache[0], probabilities,
                hints=[(probabilities - targets, "backward() subtracted y from the cached probabilities in place: "
                                                 "compute a new array instead (probabilities - targets makes one)"),
                       ((probabilities - targets) / len(probabilities), "backward() changed the cached "
                        "probabilities in place (-= and /=): compute a new array instead")])
    check_array("CrossEntropyLoss: the one-hot targets cached by forward() after backward() (must not change)",
                loss_fn.input_cache[1], targets,
                hints=[(targets - probabilities, "backward() subtracted the probabilities from the cached targets in "
                                                 "place: compute a new array instead")])


@pytest.mark.cross_entropy_backward
def test_cross_entropy_backward_small_numbers():
    loss_fn = CrossEntropyLoss()
    # N = 3 samples, C = 2 classes. softmax([0, ln 3]) = [1/4, 3/4], softmax([0, 0]) = [1/2, 1/2] and
    # softmax([ln 3, 0]) = [3/4, 1/4].
    logits = np.array([[0.0, np.log(3.0)],
                       [0.0, 0.0],
                       [np.log(3.0), 0.0]])
    labels = np.array([0, 1, 1])
    loss_fn(logits, labels)
    # (softmax(z) - y) / N with y = [[1, 0], [0, 1], [0, 1]] and N = 3.
    expected = [[-0.25, 0.25],
                [1 / 6, -1 / 6],
                [0.25, -0.25]]
    check_cross_entropy_backward(loss_fn, expected, "CrossEntropyLoss.backward()",
                                 {"logits z": logits, "softmax(z)": softmax_of(logits), "labels": labels})


def softmax_of(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


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
    n, c = int(rng.integers(1, 7)), int(rng.integers(2, 6))
    logits = rng.normal(scale=3.0, size=(n, c))
    labels = rng.integers(0, c, size=n)
    loss_fn = CrossEntropyLoss()
    expected = numerical_gradient(lambda: loss_fn(logits, labels), logits)
    for name, targets in (("integer labels", labels), ("one-hot targets", one_hot_encoding(labels, c))):
        loss_fn(logits, targets)
        check_cross_entropy_backward(loss_fn, expected, "CrossEntropyLoss.backward() for logits of shape {} and {}"
                                     .format((n, c), name), {"logits z": logits, "labels": labels})


@pytest.mark.cross_entropy_backward
@pytest.mark.parametrize("targets", ["labels", "one-hot"])
def test_cross_entropy_backward_batch_of_one(targets):
    # A batch of one sample is still a batch: logits of shape (1, C), and dL/dz of shape (1, C).
    loss_fn = CrossEntropyLoss()
    logits = np.array([[0.0, np.log(3.0)]])  # softmax: [1/4, 3/4]
    labels = np.array([1])
    loss_fn(logits, labels if targets == "labels" else one_hot_encoding(labels, 2))
    check_cross_entropy_backward(loss_fn, [[0.25, -0.25]], "CrossEntropyLoss.backward() for a batch of one ({})"
                                 .format(targets), {"logits z": logits, "labels": labels})


@pytest.mark.cross_entropy_backward
@pytest.mark.parametrize("seed", [303, 404])
def test_cross_entropy_backward_large_batch(seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(17, 7))
    labels = rng.integers(0, 7, size=17)
    loss_fn = CrossEntropyLoss()
    expected = numerical_gradient(lambda: loss_fn(logits, labels), logits)
    loss_fn(logits, labels)
    check_cross_entropy_backward(loss_fn, expected, "CrossEntropyLoss.backward() for logits of shape (17, 7)",
                                 {"labels": labels})


@pytest.mark.cross_entropy_backward
def test_cross_entropy_backward_is_finite_at_extreme_logits():
    loss_fn = CrossEntropyLoss()
    loss_fn(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), np.array([1, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = loss_fn.backward()
    check_array("CrossEntropyLoss.backward() at logits of +-1000", got, [[0.5, -0.5], [0.0, 0.0]], if_none=NO_RETURN,
                inputs={"logits z": np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), "labels": np.array([1, 1])})


@pytest.mark.cross_entropy_backward
def test_cross_entropy_backward_keeps_float32():
    loss_fn = CrossEntropyLoss()
    logits = np.array([[0.5, -1.0, 2.0], [1.0, 1.0, 0.0]], dtype=np.float32)
    loss_fn(logits, np.array([2, 0]))
    expected = ((softmax_of(logits.astype(np.float64)) - np.eye(3)[[2, 0]]) / 2).astype(np.float32)
    probabilities, targets = loss_fn.input_cache
    check_array("CrossEntropyLoss.backward() for float32 logits", loss_fn.backward(), expected, rtol=1e-5,
                atol=1e-7, inputs={"logits z": logits, "labels": np.array([2, 0])},
                hints=cross_entropy_hints(probabilities, targets))


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
