"""The value checks: each code task's gap run on inputs drawn from a random generator, its outputs returned by name.

The contract is exercise 3's (its grading/checks.py): check(rng) -> {output name: value}, deterministic given rng,
every input drawn from rng before the gap runs, only the task's own gap run (every other gap it calls is the
stand-in of tests/helpers.py that its tests use too), and outputs named in plain words a student may read.
A grader compares the outputs, within a tolerance, with the reference solution's for the same rng.
"""
from typing import Dict

import numpy as np

from grading.tasks import TASKS_BY_KEY, value_check
from tests.helpers import all_stand_ins_but, stand_ins


def frozen(value):
    """A copy of an array as it is now; anything else as it is."""
    return value.copy() if isinstance(value, np.ndarray) else value


def own_gap_only(key: str):
    """Stand-ins for every gap but task `key`'s, for the duration of a with block."""
    return stand_ins(all_stand_ins_but(TASKS_BY_KEY[key].gap))


def activation_cases(rng) -> list:
    """(label, z) for the four activations: shapes, the kink at 0, large |z|."""
    kinks = rng.normal(size=(4, 5))
    kinks.flat[::3] = 0.0
    return [("z of shape (6,)", rng.normal(scale=3.0, size=6)),
            ("z of shape (3, 4)", rng.normal(scale=3.0, size=(3, 4))),
            ("z of shape (2, 2, 3)", rng.normal(scale=3.0, size=(2, 2, 3))),
            ("z with zeros (the kink)", kinks),
            ("z from -1000 to 1000", np.concatenate([[-1000.0, 1000.0], rng.uniform(-1000, 1000, size=6)])),
            ("z of shape (0,)", np.zeros(0))]


def activation_check(key: str, rng) -> Dict[str, object]:
    from lib import activations

    cases = activation_cases(rng)
    out = {}
    with own_gap_only(key):
        function = getattr(activations, key)
        for label, z in cases:
            before = z.copy()
            out["{}({})".format(key, label)] = frozen(function(z))
            out["{}: {} afterwards (unchanged)".format(key, label)] = frozen(z) if not np.array_equal(
                z, before) else "unchanged"
    return out


@value_check("sigmoid")
def sigmoid_check(rng) -> Dict[str, object]:
    return activation_check("sigmoid", rng)


@value_check("relu")
def relu_check(rng) -> Dict[str, object]:
    return activation_check("relu", rng)


@value_check("sigmoid_derivative")
def sigmoid_derivative_check(rng) -> Dict[str, object]:
    return activation_check("sigmoid_derivative", rng)


@value_check("relu_derivative")
def relu_derivative_check(rng) -> Dict[str, object]:
    return activation_check("relu_derivative", rng)


@value_check("grad_f")
def grad_f_check(rng) -> Dict[str, object]:
    from lib.network import PARAMETER_COUNT, grad_f

    cases = []
    for n, scale in ((1, 1.0), (7, 1.0), (64, 0.1), (300, 2.0)):
        params = rng.normal(scale=scale, size=PARAMETER_COUNT)
        X = rng.uniform(-2, 2, size=(n, 2))
        y = (rng.random(n) < 0.5).astype(np.float64)
        cases.append(("N = {}, parameters of scale {:g}".format(n, scale), params, X, y))
    out = {}
    with own_gap_only("grad_f"):
        for label, params, X, y in cases:
            before = params.copy(), X.copy(), y.copy()
            out["grad_f, " + label] = frozen(grad_f(params, X, y))
            out["grad_f, {}: arguments unchanged".format(label)] = all(
                np.array_equal(a, b) for a, b in zip((params, X, y), before))
    return out


@value_check("gd_step")
def gd_step_check(rng) -> Dict[str, object]:
    from lib.optimizers import gd_step

    cases = [(rng.normal(size=13), rng.normal(size=13) * 10.0 ** rng.uniform(-3, 3, size=13),
              float(rng.uniform(1e-4, 2.0))) for _ in range(3)] + [(rng.normal(size=(2, 3)), rng.normal(size=(2, 3)),
                                                                   0.5)]
    out = {}
    with own_gap_only("gd_step"):
        for index, (params, grad, lr) in enumerate(cases, start=1):
            before = params.copy(), grad.copy()
            out["gd_step, case {} (lr = {:.4f})".format(index, lr)] = frozen(gd_step(params, grad, lr))
            out["gd_step, case {}: arguments unchanged".format(index)] = bool(
                np.array_equal(params, before[0]) and np.array_equal(grad, before[1]))
    return out


@value_check("momentum_step")
def momentum_step_check(rng) -> Dict[str, object]:
    from lib.optimizers import momentum_step

    start = rng.normal(size=13)
    grads = [rng.normal(size=13) * 10.0 ** rng.uniform(-2, 2, size=13) for _ in range(4)]
    lr, alpha = float(rng.uniform(1e-3, 1.0)), float(rng.uniform(0.0, 0.99))
    out = {}
    with own_gap_only("momentum_step"):
        params, velocity = start, np.zeros(13)
        for step, grad in enumerate(grads, start=1):
            result = momentum_step(params, velocity, grad, lr, alpha)
            params, velocity = result if isinstance(result, tuple) and len(result) == 2 else (result, velocity)
            where = "momentum_step (lr = {:.4f}, alpha = {:.4f}), after step {}: ".format(lr, alpha, step)
            out[where + "params"] = frozen(params)
            out[where + "velocity"] = frozen(velocity)
    return out


@value_check("decision_grid")
def decision_grid_check(rng) -> Dict[str, object]:
    from lib.boundary import decision_grid

    params = rng.normal(size=13)
    lows = rng.uniform(-3, 0, size=2)
    x1_range, x2_range = (float(lows[0]), float(lows[0] + rng.uniform(1, 4))), \
        (float(lows[1]), float(lows[1] + rng.uniform(1, 4)))
    steps = int(rng.integers(5, 40))
    out = {}
    with own_gap_only("decision_grid"):
        result = decision_grid(params, x1_range, x2_range, steps)
        for name, value in zip(("x1_grid", "x2_grid", "probabilities"), result):
            out["decision_grid({}, {}, steps = {}): {}".format(x1_range, x2_range, steps, name)] = frozen(value)
    return out
