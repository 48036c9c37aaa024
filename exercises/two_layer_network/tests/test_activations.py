"""Tests of lib/activations.py. Graded: sigmoid (task 1), relu (task 2), sigmoid_derivative (task 3) and
relu_derivative (task 4)."""
import sys
import warnings

import numpy as np
import pytest
from scipy.special import expit

from lib import activations
from tests.helpers import central_differences, check_array, check_unchanged, fail

SHAPES = [(7,), (3, 4), (2, 3, 4), (1, 1), (0,), (0, 3)]


def run(name, z):
    """activations.<name>(z), with the check that z came back unchanged."""
    before = z.copy()
    got = getattr(activations, name)(z)
    check_unchanged("{}: z".format(name), z, before)
    if got is z:
        fail("{}(z) returned z itself: return a new array (the caller keeps z)".format(name))
    return got


def run_quietly(name, z):
    """activations.<name>(z) with an overflow, a division by zero or an invalid value turned into a failure (an
    underflow to 0 is fine: it is the right answer rounded)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise"):
                return run(name, z)
        except (RuntimeWarning, FloatingPointError) as error:
            fail("{}(z) for z = {} gave a NumPy warning: {}\nhint: a large |z| must not overflow".format(
                name, z.tolist(), error))


def random_z(shape, seed, scale=3.0):
    return np.random.default_rng(seed).normal(scale=scale, size=shape)


# ---------------------------------------------------------------- task 1: sigmoid

@pytest.mark.sigmoid
def test_sigmoid_small_numbers():
    # sigmoid(0) = 1/2, sigmoid(log 3) = 1 / (1 + 1/3) = 3/4, sigmoid(-z) = 1 - sigmoid(z).
    z = np.array([[0.0, np.log(3.0)], [-np.log(3.0), 2.0]])
    check_array("sigmoid(z)", run("sigmoid", z), [[0.5, 0.75], [0.25, 1 / (1 + np.exp(-2.0))]], inputs={"z": z},
                hints=[(1 / (1 + np.exp(z)), "it is sigmoid(-z): the exponent is -z")])


@pytest.mark.sigmoid
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sigmoid_any_shape(shape):
    z = random_z(shape, len(shape))
    check_array("sigmoid(z) for z of shape {}".format(shape), run("sigmoid", z), 1 / (1 + np.exp(-z)),
                inputs={"z": z})


@pytest.mark.sigmoid
def test_sigmoid_large_inputs_stay_finite_and_quiet():
    z = np.array([-1000.0, -745.0, -40.0, 40.0, 745.0, 1000.0])
    expected = np.array([0.0, np.exp(-745.0), np.exp(-40.0) / (1 + np.exp(-40.0)), 1 / (1 + np.exp(-40.0)), 1.0, 1.0])
    check_array("sigmoid(z) for large |z|", run_quietly("sigmoid", z), expected, atol=1e-300, inputs={"z": z})


# ---------------------------------------------------------------- task 2: relu

@pytest.mark.relu
def test_relu_small_numbers():
    z = np.array([[-2.0, -0.5, 0.0], [0.5, 3.0, -1e-9]])
    check_array("relu(z)", run("relu", z), [[0.0, 0.0, 0.0], [0.5, 3.0, 0.0]], inputs={"z": z},
                hints=[(np.abs(z), "it is |z|: negative z give 0"), (z, "it is z itself: negative z give 0")])


@pytest.mark.relu
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_relu_any_shape(shape):
    z = random_z(shape, len(shape) + 10)
    check_array("relu(z) for z of shape {}".format(shape), run("relu", z), np.where(z > 0, z, 0.0), inputs={"z": z})


@pytest.mark.relu
def test_relu_large_inputs():
    z = np.array([-1e300, -1000.0, 1000.0, 1e300])
    check_array("relu(z) for large |z|", run_quietly("relu", z), [0.0, 0.0, 1000.0, 1e300], inputs={"z": z})


# ---------------------------------------------------------------- task 3: sigmoid_derivative

@pytest.mark.sigmoid_derivative
def test_sigmoid_derivative_small_numbers():
    # At z = 0: 1/2 * 1/2 = 1/4. At z = log 3: 3/4 * 1/4 = 3/16.
    z = np.array([0.0, np.log(3.0), -np.log(3.0)])
    check_array("sigmoid_derivative(z)", run("sigmoid_derivative", z), [0.25, 3 / 16, 3 / 16], inputs={"z": z},
                hints=[(expit(z), "it is sigmoid(z) itself, not its derivative"),
                       (z * (1 - z), "it is z * (1 - z): the formula s * (1 - s) takes s = sigmoid(z), not z")])


@pytest.mark.sigmoid_derivative
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sigmoid_derivative_any_shape(shape):
    z = random_z(shape, len(shape) + 20)
    check_array("sigmoid_derivative(z) for z of shape {}".format(shape), run("sigmoid_derivative", z),
                np.exp(-z) / (1 + np.exp(-z)) ** 2, inputs={"z": z})


@pytest.mark.sigmoid_derivative
def test_sigmoid_derivative_matches_central_differences():
    z = random_z((4, 5), 30)
    expected = np.array([central_differences(lambda t: float(expit(t[0])), np.array([value]))[0]
                         for value in z.ravel()]).reshape(z.shape)
    check_array("sigmoid_derivative(z) against central differences of sigmoid", run("sigmoid_derivative", z),
                expected, rtol=1e-6, atol=1e-9, inputs={"z": z})


@pytest.mark.sigmoid_derivative
def test_sigmoid_derivative_large_inputs_stay_finite_and_quiet():
    z = np.array([-1000.0, -40.0, 40.0, 1000.0])
    expected = np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))) ** 2
    # s * (1 - s) rounds to 0 at z = 40, where the derivative is 4e-18: close enough.
    check_array("sigmoid_derivative(z) for large |z|", run_quietly("sigmoid_derivative", z), expected, atol=1e-15,
                inputs={"z": z})


# ---------------------------------------------------------------- task 4: relu_derivative

@pytest.mark.relu_derivative
def test_relu_derivative_small_numbers():
    z = np.array([[-2.0, -0.5, 0.0], [0.5, 3.0, 1e-300]])
    check_array("relu_derivative(z)", run("relu_derivative", z), [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], inputs={"z": z},
                hints=[(np.sign(z), "it is sign(z): the derivative is 0, not -1, where z < 0"),
                       ((z >= 0).astype(float), "it is 1 at z = 0: take 0 at the kink, as the docstring says")])


@pytest.mark.relu_derivative
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_relu_derivative_any_shape(shape):
    z = random_z(shape, len(shape) + 40)
    check_array("relu_derivative(z) for z of shape {}".format(shape), run("relu_derivative", z),
                np.where(z > 0, 1.0, 0.0), inputs={"z": z})


@pytest.mark.relu_derivative
def test_relu_derivative_matches_central_differences():
    z = random_z((3, 6), 50)
    z[np.abs(z) < 1e-3] = 0.5  # central differences need a distance from the kink
    expected = np.array([central_differences(lambda t: float(np.maximum(t[0], 0.0)), np.array([value]))[0]
                         for value in z.ravel()]).reshape(z.shape)
    check_array("relu_derivative(z) against central differences of relu", run("relu_derivative", z), expected,
                rtol=1e-6, atol=1e-9, inputs={"z": z})


@pytest.mark.relu_derivative
def test_relu_derivative_is_float64():
    z = np.array([-1.0, 0.0, 2.0])
    got = run("relu_derivative", z)
    check_array("relu_derivative(z)", got, np.array([0.0, 0.0, 1.0]), inputs={"z": z})


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
