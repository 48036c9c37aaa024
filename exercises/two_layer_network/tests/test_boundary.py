"""Tests of decision_grid in lib/boundary.py (task 8): the grid's shape, its points, and the probabilities the
given forward pass computes at them (on stand-ins for sigmoid and relu, tests/conftest.py)."""
import sys

import numpy as np
import pytest

from lib.boundary import decision_grid
from lib.network import PARAMETER_COUNT, forward
from tests.helpers import check_array, check_kind, check_unchanged, fail


def params_of(seed):
    return np.random.default_rng(seed).normal(size=PARAMETER_COUNT)


def run(params, x1_range, x2_range, steps):
    before = params.copy()
    got = decision_grid(params, x1_range, x2_range, steps)
    check_unchanged("decision_grid: params", params, before)
    if not isinstance(got, tuple) or len(got) != 3:
        fail("decision_grid should return a tuple (x1_grid, x2_grid, probabilities), got {}".format(
            type(got).__name__))
    for name, array in zip(("x1_grid", "x2_grid", "probabilities"), got):
        check_kind("decision_grid: {} for steps = {}".format(name, steps), array, (steps, steps))
    return got


def check_grid(params, x1_range, x2_range, steps):
    x1_grid, x2_grid, probabilities = run(params, x1_range, x2_range, steps)
    x1_values, x2_values = np.linspace(*x1_range, steps), np.linspace(*x2_range, steps)
    what = "decision_grid(params, {}, {}, steps = {})".format(x1_range, x2_range, steps)
    check_array(what + ": x1_grid", x1_grid, np.tile(x1_values, (steps, 1)),
                hints=[(np.tile(x1_values, (steps, 1)).T, "x1 runs down the columns: it must run along each row, "
                                                          "as np.meshgrid(x1_values, x2_values) makes it")])
    check_array(what + ": x2_grid", x2_grid, np.tile(x2_values, (steps, 1)).T)
    # The forward pass, one grid point at a time.
    expected = np.array([[forward(params, np.array([[x1, x2]]))[0] for x1 in x1_values] for x2 in x2_values])
    check_array(what + ": probabilities", probabilities, expected, rtol=1e-9, atol=1e-12,
                hints=[(expected.T, "the probabilities are transposed: entry [i, j] belongs to x1_grid[i, j] and "
                                    "x2_grid[i, j]"),
                       (1 - expected, "it is the probability of class 0: return forward()'s y_hat")])


@pytest.mark.decision_grid
def test_decision_grid_small():
    check_grid(params_of(0), (-2.0, 2.0), (-2.0, 2.0), 5)


@pytest.mark.decision_grid
def test_decision_grid_ranges_of_their_own():
    check_grid(params_of(1), (-1.0, 3.0), (0.5, 1.5), 7)


@pytest.mark.decision_grid
def test_decision_grid_many_steps():
    check_grid(params_of(2), (-2.5, 2.5), (-3.0, 2.0), 60)


@pytest.mark.decision_grid
def test_decision_grid_probabilities_lie_in_zero_one():
    _, _, probabilities = run(params_of(3) * 5, (-2.0, 2.0), (-2.0, 2.0), 40)
    if not np.all((probabilities >= 0) & (probabilities <= 1)):
        low, high = probabilities.min(), probabilities.max()
        fail("decision_grid: probabilities outside [0, 1]: from {} to {}".format(low, high))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
