"""Test set-up shared by all test files.

- Every test runs with the stand-ins of tests/helpers.py in place of every gap but its own task's, so that a task
  is graded on its own gap alone (an ungraded test, of given code, runs on stand-ins only).
- An empty gap fails its tests with one line that names the gap to fill, instead of a traceback.
"""
import pytest

from grading.tasks import TASK_BY_GAP, TASKS_BY_KEY, gap_label
from tests.helpers import all_stand_ins_but, stand_ins


def task_of(item):
    """The code task a test is graded for, from its markers, or None."""
    for marker in item.iter_markers():
        task = TASKS_BY_KEY.get(marker.name)
        if task is not None and task.kind == "code":
            return task
    return None


@pytest.fixture(autouse=True)
def other_gaps_stand_in(request):
    own = task_of(request.node)
    with stand_ins(all_stand_ins_but(own.gap if own else None)):
        yield


def not_implemented_task(excinfo):
    """The code task whose empty gap raised this NotImplementedError, or None."""
    message = str(excinfo.value)
    for gap, task in TASK_BY_GAP.items():
        if message.startswith(gap + " is not implemented"):
            return task
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not report.failed or not call.excinfo.errisinstance(NotImplementedError):
        return
    missing = not_implemented_task(call.excinfo)
    if missing is None:
        return
    own = task_of(item)
    if own is None or own.key == missing.key:
        report.longrepr = "{} is not implemented yet: fill {}.".format(missing.gap, gap_label(missing))
    else:
        report.longrepr = "This test of {} needs {}, which is not implemented yet: fill {} first.".format(
            own.gap, missing.gap, gap_label(missing))
