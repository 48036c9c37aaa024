"""Tests of the given code: pack and unpack, the data, the forward pass, the loss, the training loops and the
experiment. Not graded; they run on the stand-ins of every gap (tests/conftest.py), so they pass in a fresh copy."""
import sys

import numpy as np
import pytest

from experiments import run
from lib.data import xor_dataset
from lib.network import PARAMETER_COUNT, forward, init_params, loss, pack, unpack
from lib.training import gradient_descent, gradient_descent_momentum
from tests.helpers import check_array


def test_pack_and_unpack_are_inverse_and_follow_the_layout():
    W, b, v, c = np.arange(6.0).reshape(2, 3), np.array([6.0, 7.0, 8.0]), np.array([9.0, 10.0, 11.0]), 12.0
    params = pack(W, b, v, c)
    check_array("pack(W, b, v, c)", params, np.arange(13.0))
    for name, got, expected in zip("Wbvc", unpack(params), (W, b, v, np.float64(c))):
        check_array("unpack(params): " + name, np.asarray(got), np.asarray(expected))


def test_unpack_returns_copies():
    params = np.arange(13.0)
    W, b, v, _ = unpack(params)
    W[:] = b[:] = v[:] = -1.0
    check_array("params after changing what unpack returned", params, np.arange(13.0))


def test_pack_takes_the_sheets_shapes():
    check_array("pack of b (1, 3) and v (3, 1)", pack(np.zeros((2, 3)), np.ones((1, 3)), np.ones((3, 1)), 2.0),
                np.r_[np.zeros(6), np.ones(6), 2.0])
    with pytest.raises(ValueError):
        pack(np.zeros((3, 3)), np.zeros(3), np.zeros(3), 0.0)


def test_xor_dataset_labels_and_seed():
    X, y = xor_dataset(400, np.random.default_rng(3))
    check_array("xor_dataset: y", y, ((X[:, 0] > 0) == (X[:, 1] > 0)).astype(float))
    assert X.shape == (400, 2) and np.all(np.abs(X) <= 2.0)
    X_again, _ = xor_dataset(400, np.random.default_rng(3))
    check_array("xor_dataset with the same seed", X_again, X)


def test_loss_is_the_mean_binary_cross_entropy():
    rng = np.random.default_rng(4)
    params, (X, y) = init_params(rng, 1.0), xor_dataset(30, rng)
    y_hat = forward(params, X)
    expected = -np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))
    assert abs(loss(params, X, y) - expected) < 1e-12
    assert np.isfinite(loss(params * 1000, X, y))


def test_training_loops_return_the_losses_of_every_step():
    rng = np.random.default_rng(5)
    X, y = xor_dataset(50, rng)
    params = init_params(rng, 0.5)
    for final, losses in (gradient_descent(X, y, params, 4, 0.5), gradient_descent_momentum(X, y, params, 4, 0.5,
                                                                                            0.9)):
        assert final.shape == (PARAMETER_COUNT,) and losses.shape == (5,)
        assert abs(losses[0] - loss(params, X, y)) < 1e-12 and abs(losses[-1] - loss(final, X, y)) < 1e-12


def test_the_experiment_runs_every_optimiser_from_one_start():
    result = run(seed=1, points=40, iterations=3, lr=0.1, alphas=(0.5, 0.9), init_scale=0.1)
    assert list(result["runs"]) == ["gradient descent", "momentum, alpha = 0.5", "momentum, alpha = 0.9"]
    assert all(losses[0] == loss(result["params_init"], result["X"], result["y"])
               for _, losses in result["runs"].values())


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
