"""The value checks of grading/checks.py as pytest items, for the grader's runs (the grade of record).

    python -m pytest ... grading/value_checks.py --value-seed S

Each item runs one task's value check on inputs drawn from the seed and records the outputs, encoded, as the
item's user property "values"; the points plugin writes them to the grader's log with the item's result. The
grader compares them, in its own process, with the reference solution's outputs for the same seed (outputs()).
Without --value-seed (a student's own run) every item is skipped: a check alone compares nothing.

test_lines_per_batch[key] counts, for tutors, the Python lines a gap runs on two batch sizes (the sheet's rule:
no loops over the samples); it earns and costs no points.
"""
import sys

import numpy as np
import pytest

from grading import checks  # noqa: F401  (importing it registers the checks)
from grading.gaps import gap_function
from grading.stand_ins import Affine, MatMul
from grading.tasks import CODE_TASKS, TASKS_BY_KEY, VALUE_CHECKS
from grading.values import encode_all


def outputs(key: str, seed: int) -> dict:
    """The encoded outputs of task `key`'s value check on the inputs drawn from `seed`."""
    rng = np.random.default_rng([seed, TASKS_BY_KEY[key].number])
    return encode_all(VALUE_CHECKS[key](rng))


@pytest.mark.parametrize("key", [pytest.param(task.key, marks=getattr(pytest.mark, task.key), id=task.key)
                                 for task in CODE_TASKS])
def test_value_check(key, request):
    seed = request.config.getoption("value_seed", None)
    if seed is None:
        pytest.skip("the value checks run in the grader, which compares their outputs with the reference's")
    request.node.user_properties.append(("values", outputs(key, seed)))


# ---------------------------------------------------------------- the vectorisation rule, for tutors only

# The sheet forbids Python loops over the samples. A gap that loops over them runs at least one more line per
# sample; one that loops over modules, layers or parameters runs as many lines at every batch size. So each gap
# that works on a batch runs at two batch sizes, and the grader compares the line counts (a finding for a tutor,
# never points: the grader's verdict reads test_value_check only).
BATCH_SIZES = (3, 48)


def code_objects(code) -> set:
    """The code object and every function, lambda, class body or comprehension defined inside it."""
    found = {code}
    for constant in code.co_consts:
        if isinstance(constant, type(code)):
            found |= code_objects(constant)
    return found


def lines_run(function, call) -> int:
    """How many 'line' events call() triggers in frames of `function`'s code or of code defined inside it.

    Only those frames get a local trace function, so the library, NumPy and the test code cost nothing."""
    own = code_objects(function.__code__)
    count = [0]

    def in_gap(frame, event, arg):
        if event == "line":
            count[0] += 1
        return in_gap

    def on_call(frame, event, arg):
        return in_gap if frame.f_code in own else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count[0]


# {task key: function(n, rng) -> a call of the gap on a batch of n samples}. Everything but the gap is set up
# before, from lib/'s given code and the stand-ins, so that only the gap's own lines are counted, and only its
# own gap runs (grading/tasks.py's rule for the checks). Tasks without a batch (zero_grad, check_gradients) have
# none.
def _relu(n, rng):
    from lib.activations import ReLU

    relu, grad = ReLU(), rng.normal(size=(n, 5))
    relu(rng.normal(size=(n, 5)))
    return lambda: relu.backward(grad)


def _linear(n, rng):
    from lib.network import Linear

    layer, grad = Linear(4, 3, rng=rng), rng.normal(size=(n, 3))
    layer(rng.normal(size=(n, 4)))
    return lambda: layer.backward(grad)


def _cross_entropy(n, rng):
    from lib.losses import CrossEntropyLoss

    loss_fn = CrossEntropyLoss()
    loss_fn(rng.normal(size=(n, 4)), rng.integers(0, 4, size=n))
    return loss_fn.backward


def _sequential(n, rng):
    from lib.network import Sequential

    model = Sequential(Affine(rng.normal(size=4), rng.normal(size=4)), MatMul(rng.normal(size=(4, 3))),
                       Affine(rng.normal(size=3), rng.normal(size=3)))
    grad = rng.normal(size=(n, 3))
    model(rng.normal(size=(n, 4)))
    return lambda: model.backward(grad)


def _backward_pass(n, rng):
    from lib.experiments import backward_pass
    from lib.losses import MSELoss

    model, loss_fn = Affine(rng.normal(size=4), rng.normal(size=4)), MSELoss()
    loss_fn(model(rng.normal(size=(n, 4))), rng.normal(size=(n, 4)))
    return lambda: backward_pass(model, loss_fn, 0.1)


BATCH_CALLS = {"relu_backward": _relu, "linear_backward": _linear, "cross_entropy_backward": _cross_entropy,
               "sequential_backward": _sequential, "backward_pass": _backward_pass}


def lines_per_batch(key: str, seed: int) -> dict:
    """{str(batch size): lines the task's gap runs on a batch of that size}, for each of BATCH_SIZES."""
    task = TASKS_BY_KEY[key]
    counts = {}
    for n in BATCH_SIZES:
        call = BATCH_CALLS[key](n, np.random.default_rng([seed, task.number, n]))
        counts[str(n)] = lines_run(gap_function(task.file, task.gap), call)
    return counts


# No task marker: these items belong to no task's tests, so they can neither fail a task nor leave it "not run",
# in the points table of a student's run or in the grader's verdict, and the handout's proof (make_handout.py,
# which selects by marker) does not take them for value checks. The grader runs them by node id after the value
# checks (tools/report/findings.py) and finds the task from the parameter.
@pytest.mark.parametrize("key", [pytest.param(task.key, id=task.key) for task in CODE_TASKS
                                 if task.key in BATCH_CALLS])
def test_lines_per_batch(key, request):
    seed = request.config.getoption("value_seed", None)
    if seed is None:
        pytest.skip("the grader counts the lines a gap runs per batch size, for its tutors")
    request.node.user_properties.append(("lines", lines_per_batch(key, seed)))
