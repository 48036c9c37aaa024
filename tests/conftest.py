"""Test set-up shared by all test files: one-line failures for empty gaps."""
import os
import traceback

import pytest

from grading.tasks import TASK_BY_GAP, TASKS_BY_KEY, gap_label

LIB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib")


def _task_of(item):
    for marker in item.iter_markers():
        if marker.name in TASKS_BY_KEY:
            return TASKS_BY_KEY[marker.name]
    return None


def _gap_that_raised(excinfo):
    """The code task whose gap raised NotImplementedError, or None if it came from elsewhere."""
    message = str(excinfo.value)
    for gap, task in TASK_BY_GAP.items():
        if message.startswith(gap + " is not implemented"):
            return task
    # A student may have written a bare `raise NotImplementedError`: look for the innermost lib function.
    for frame, _ in reversed(list(traceback.walk_tb(excinfo.tb))):
        if not os.path.abspath(frame.f_code.co_filename).startswith(LIB_DIR):
            continue
        name = frame.f_code.co_name
        owner = frame.f_locals.get("self")
        qualified = "{}.{}".format(type(owner).__name__, name) if owner is not None else name
        if qualified in TASK_BY_GAP:
            return TASK_BY_GAP[qualified]
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Replace the traceback of a NotImplementedError from an empty gap by one line that names the gap."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not report.failed or not call.excinfo.errisinstance(NotImplementedError):
        return
    missing = _gap_that_raised(call.excinfo)
    if missing is None:
        return
    own = _task_of(item)
    if own is None:
        report.longrepr = ("This test needs {}, which is not implemented yet: fill {} first."
                           .format(missing.gap, gap_label(missing)))
    elif own.key == missing.key:
        report.longrepr = "{} is not implemented yet: fill {}.".format(missing.gap, gap_label(missing))
    else:
        report.longrepr = ("This test of {} needs {}, which is not implemented yet: fill {} first."
                           .format(own.gap, missing.gap, gap_label(missing)))
