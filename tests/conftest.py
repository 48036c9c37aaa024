"""Test set-up shared by all test files: one-line failures for empty gaps, and errors raised inside a gap
reported with the shapes of the arrays it works on."""
import linecache
import os
import traceback

import numpy as np
import pytest

from grading.tasks import TASK_BY_GAP, TASKS_BY_KEY, gap_label

LIB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib")
# The shape each gap's docstring gives its arrays, by the name they have in the gap.
SHAPE_NAMES = {
    "ReLU.backward": {"grad": "shape of z", "h": "shape of z"},
    "Linear.backward": {"grad": "(N, M)", "x": "(N, D)", "W": "(M, D)", "b": "(M,)"},
    "CrossEntropyLoss.backward": {"probabilities": "(N, C)", "targets": "(N, C)"},
}


def _task_of(item):
    for marker in item.iter_markers():
        if marker.name in TASKS_BY_KEY:
            return TASKS_BY_KEY[marker.name]
    return None


def _qualified_name(frame) -> str:
    """'Linear.backward' for a method (the class that defines it, also when called on a subclass), else the name."""
    name = frame.f_code.co_name
    owner = frame.f_locals.get("self")
    if owner is not None:
        for cls in type(owner).__mro__:
            function = cls.__dict__.get(name)
            if getattr(function, "__code__", None) is frame.f_code:
                return "{}.{}".format(cls.__name__, name)
    return name


def _gap_frame(excinfo):
    """(task, frame, line number) of the innermost gap function in the traceback, or None."""
    for frame, line in reversed(list(traceback.walk_tb(excinfo.tb))):
        if os.path.abspath(frame.f_code.co_filename).startswith(LIB_DIR):
            qualified = _qualified_name(frame)
            if qualified in TASK_BY_GAP:
                return TASK_BY_GAP[qualified], frame, line
    return None


def _not_implemented_gap(excinfo):
    """The code task whose gap raised NotImplementedError, or None if it came from elsewhere."""
    message = str(excinfo.value)
    for gap, task in TASK_BY_GAP.items():
        if message.startswith(gap + " is not implemented"):
            return task
    # A student may have written a bare `raise NotImplementedError`: look for the innermost gap function.
    found = _gap_frame(excinfo)
    return found[0] if found else None


def _shapes(task, frame) -> str:
    """'grad is (N, M) = (4, 2), x is (N, D) = (4, 3), W is (M, D) = (2, 3)' for the arrays the gap works on."""
    arrays = {name: value for name, value in frame.f_locals.items() if isinstance(value, np.ndarray)}
    owner = frame.f_locals.get("self")
    for name in ("W", "b"):
        data = getattr(getattr(owner, name, None), "data", None)
        if isinstance(data, np.ndarray):
            arrays[name] = data
    names = SHAPE_NAMES.get(task.gap, {})
    parts = []
    for name in sorted(arrays, key=lambda n: (n not in names, list(names).index(n) if n in names else 0, n)):
        shape = tuple(int(size) for size in arrays[name].shape)
        parts.append("{} is {} = {}".format(name, names[name], shape) if name in names else
                     "{} is {}".format(name, shape))
    return ", ".join(parts)


def _raised_in_gap(excinfo):
    """One line for an error raised inside a gap: what it raised, where, and the shapes of its arrays."""
    found = _gap_frame(excinfo)
    if found is None:
        return None
    task, frame, line = found
    message = " ".join(str(excinfo.value).split())
    if len(message) > 160:
        message = message[:157] + "..."
    source = linecache.getline(frame.f_code.co_filename, line).strip()
    shapes = _shapes(task, frame)
    return "{} raised {} ({}){}\n    at {}, line {}: {}".format(
        task.gap, excinfo.type.__name__, message, ": check the shapes: " + shapes if shapes else "",
        os.path.relpath(frame.f_code.co_filename, os.path.dirname(LIB_DIR)).replace(os.sep, "/"), line, source)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Replace the traceback of an error from a gap by a message that names the gap (and, for an empty gap,
    by one line that says which gap to fill)."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not report.failed or call.excinfo.errisinstance(pytest.fail.Exception):
        return
    if not call.excinfo.errisinstance(NotImplementedError):
        text = _raised_in_gap(call.excinfo)
        if text is None and call.excinfo.errisinstance(RuntimeError) and \
                str(call.excinfo.value).startswith("Gradient check of"):
            # Module.check_gradients found a wrong gradient: its message says which; the traceback through the
            # check's internals would not help.
            text = "{}\nhint: backward() disagrees with the finite differences of forward(); the tests with small " \
                   "numbers show which entries are wrong".format(call.excinfo.value)
        if text is not None:
            report.longrepr = text
        return
    missing = _not_implemented_gap(call.excinfo)
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
