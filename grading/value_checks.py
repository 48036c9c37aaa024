"""The value checks of grading/checks.py as pytest items, for the grader's runs (the grade of record).

    python -m pytest ... grading/value_checks.py --value-seed S

Each item runs one task's value check on inputs drawn from the seed and records the outputs, encoded, as the
item's user property "values"; the points plugin writes them to the grader's log with the item's result. The
grader compares them, in its own process, with the reference solution's outputs for the same seed (outputs()).
Without --value-seed (a student's own run) every item is skipped: a check alone compares nothing.
"""
import numpy as np
import pytest

from grading import checks  # noqa: F401  (importing it registers the checks)
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
