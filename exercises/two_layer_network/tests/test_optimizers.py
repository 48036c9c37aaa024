"""Tests of lib/optimizers.py. Graded: gd_step (task 6) and momentum_step (task 7).

Each step is checked against the formula of its docstring, computed here on random inputs, and in a short
training run on XOR, whose loss it must lower. In those runs grad_f is a stand-in (central differences of the
loss, tests/helpers.py), so that neither task depends on task 5.
"""
import sys

import numpy as np
import pytest

from lib.data import xor_dataset
from lib.network import PARAMETER_COUNT, init_params
from lib.optimizers import gd_step, momentum_step
from lib.training import gradient_descent, gradient_descent_momentum
from tests.helpers import check_array, check_unchanged, fail


def random_vectors(seed, count, shape=(PARAMETER_COUNT,)):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) * 10.0 ** rng.uniform(-2, 2, size=shape) for _ in range(count)]


def xor_run(seed=0, points=200):
    rng = np.random.default_rng(seed)
    X, y = xor_dataset(points, rng)
    return X, y, init_params(rng, 0.5)


def check_lowers_the_loss(what, losses, iterations):
    losses = np.asarray(losses)
    if losses.shape != (iterations + 1,) or not np.all(np.isfinite(losses)):
        fail("{}: the losses of the run are {}".format(what, losses))
    if not losses[-1] < 0.8 * losses[0]:
        fail("{}: {} steps lowered the loss on XOR only from {:.4f} to {:.4f}, expected below {:.4f}\n"
             "losses every 50 steps: {}".format(what, iterations, losses[0], losses[-1], 0.8 * losses[0],
                                                np.round(losses[::50], 4).tolist()))


# ---------------------------------------------------------------- task 6: gd_step

def check_gd_step(params, grad, lr):
    before = params.copy(), grad.copy()
    got = gd_step(params, grad, lr)
    check_unchanged("gd_step: params", params, before[0])
    check_unchanged("gd_step: grad", grad, before[1])
    if got is params:
        fail("gd_step returned params itself: return a new array")
    check_array("gd_step(params, grad, lr = {:g})".format(lr), got, before[0] - lr * before[1],
                inputs={"params": before[0], "grad": before[1], "lr": lr},
                hints=[(before[0] + lr * before[1], "it steps uphill: subtract lr * grad"),
                       (before[0] - before[1], "it leaves out the learning rate")])


@pytest.mark.gd_step
def test_gd_step_small_numbers():
    check_gd_step(np.array([1.0, -2.0, 0.5]), np.array([0.5, 1.0, -4.0]), 0.1)


@pytest.mark.gd_step
@pytest.mark.parametrize("seed", range(3))
def test_gd_step_random_vectors(seed):
    params, grad = random_vectors(seed, 2)
    check_gd_step(params, grad, float(np.random.default_rng(seed).uniform(1e-3, 2.0)))


@pytest.mark.gd_step
def test_gd_step_any_shape():
    params, grad = random_vectors(5, 2, (2, 3))
    check_gd_step(params, grad, 0.3)


@pytest.mark.gd_step
def test_gd_step_lowers_the_loss_on_xor():
    X, y, params = xor_run()
    _, losses = gradient_descent(X, y, params, 200, 0.5)
    check_lowers_the_loss("gradient_descent with your gd_step", losses, 200)


# ---------------------------------------------------------------- task 7: momentum_step

def check_momentum_step(params, velocity, grad, lr, alpha):
    before = params.copy(), velocity.copy(), grad.copy()
    got = momentum_step(params, velocity, grad, lr, alpha)
    for name, array, copy in zip(("params", "velocity", "grad"), (params, velocity, grad), before):
        check_unchanged("momentum_step: {}".format(name), array, copy)
    if not isinstance(got, tuple) or len(got) != 2:
        fail("momentum_step should return a tuple (new params, new velocity), got {}".format(type(got).__name__))
    new_params, new_velocity = got
    if new_params is params or new_velocity is velocity:
        fail("momentum_step returned one of its arguments itself: return new arrays")
    params, velocity, grad = before
    expected_velocity = alpha * velocity - lr * grad
    inputs = {"params": params, "velocity": velocity, "grad": grad, "lr": lr, "alpha": alpha}
    check_array("momentum_step: the new velocity", new_velocity, expected_velocity, inputs=inputs,
                hints=[(alpha * velocity + lr * grad, "it adds lr * grad: the velocity points downhill"),
                       (velocity - lr * grad, "it leaves out alpha"),
                       (alpha * velocity - grad, "it leaves out the learning rate")])
    check_array("momentum_step: the new params", new_params, params + expected_velocity, inputs=inputs,
                hints=[(params + velocity, "it moves params by the old velocity: use the one just computed"),
                       (params - lr * grad, "it is a plain gradient-descent step: move by the new velocity"),
                       (params - expected_velocity, "it moves against the velocity: add it")])


@pytest.mark.momentum_step
def test_momentum_step_small_numbers():
    check_momentum_step(np.array([1.0, -2.0]), np.array([0.5, 0.25]), np.array([2.0, -1.0]), 0.1, 0.5)


@pytest.mark.momentum_step
def test_momentum_step_from_zero_velocity_is_a_gradient_step():
    params, grad = random_vectors(10, 2)
    check_momentum_step(params, np.zeros(PARAMETER_COUNT), grad, 0.2, 0.9)


@pytest.mark.momentum_step
@pytest.mark.parametrize("seed", range(3))
def test_momentum_step_random_vectors(seed):
    params, velocity, grad = random_vectors(seed + 20, 3)
    rng = np.random.default_rng(seed)
    check_momentum_step(params, velocity, grad, float(rng.uniform(1e-3, 1.0)), float(rng.uniform(0.0, 0.99)))


@pytest.mark.momentum_step
def test_momentum_step_alpha_zero():
    params, velocity, grad = random_vectors(30, 3)
    check_momentum_step(params, velocity, grad, 0.5, 0.0)


@pytest.mark.momentum_step
def test_momentum_step_several_steps():
    # Three steps in a row, each from the velocity the previous one returned.
    params, velocity = random_vectors(40, 1)[0], np.zeros(PARAMETER_COUNT)
    for grad in random_vectors(41, 3):
        check_momentum_step(params, velocity, grad, 0.1, 0.9)
        params, velocity = momentum_step(params, velocity, grad, 0.1, 0.9)


@pytest.mark.momentum_step
def test_momentum_step_lowers_the_loss_on_xor():
    X, y, params = xor_run()
    _, losses = gradient_descent_momentum(X, y, params, 200, 0.1, 0.9)
    check_lowers_the_loss("gradient_descent_momentum with your momentum_step", losses, 200)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
