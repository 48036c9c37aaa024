"""Test set-up shared by all test files: one-line failures for empty gaps, and errors raised inside a gap
reported with the shapes of the arrays it works on."""
import linecache
import os
import traceback

import numpy as np
import pytest

from grading.points import NOT_IMPLEMENTED, task_of_markers
from grading.tasks import TASK_BY_GAP, TASKS_BY_KEY, gap_label

LIB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib")
# The shape each gap's docstring gives its arrays, by the name they have in the gap.
SHAPE_NAMES = {
    "ReLU.backward": {"grad": "shape of z", "h": "shape of z"},
    "Linear.backward": {"grad": "(N, M)", "x": "(N, D)", "W": "(M, D)", "b": "(M,)"},
    "CrossEntropyLoss.backward": {"probabilities": "(N, C)", "targets": "(N, C)"},
}


def _task_of(item):
    """The code task a test is graded for, from its markers (the one mapping the points plugin uses too)."""
    return task_of_markers(marker.name for marker in item.iter_markers())


def _needs_hint(task) -> str:
    """For a task that runs other tasks' gaps (its `needs`): that a mistake there fails its tests too."""
    if task is None or not task.needs:
        return ""
    needed = [TASKS_BY_KEY[key] for key in task.needs]
    return ("\nhint: {} runs your {} too: a mistake there fails this test as well; their own tests "
            "(python -m pytest -m \"{}\") say whether they are right".format(
                task.gap, " and ".join("{} (gap {})".format(need.gap, need.number) for need in needed),
                " or ".join(need.key for need in needed)))


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


# Errors whose message is about the shapes of arrays: for these, the shapes of the gap's arrays are the clue.
SHAPE_WORDS = ("shape", "broadcast", "dimension", "aligned", "matmul", "size", "axis", "index")


def _about_shapes(error: BaseException) -> bool:
    return isinstance(error, (ValueError, IndexError)) and any(word in str(error) for word in SHAPE_WORDS)


def _raised_in_gap(excinfo):
    """One line for an error raised inside a gap: what it raised, where, and for an error about shapes, the shapes
    of the arrays it works on."""
    found = _gap_frame(excinfo)
    if found is None:
        return None
    task, frame, line = found
    source = linecache.getline(frame.f_code.co_filename, line).strip()
    shapes = _shapes(task, frame) if _about_shapes(excinfo.value) else ""
    return "{} raised {} ({}){}\n    at {}, line {}: {}".format(
        task.gap, excinfo.type.__name__, _error_text(excinfo.value), ": check the shapes: " + shapes if shapes else "",
        _where(frame.f_code.co_filename), line, source)


def _error_text(error: BaseException) -> str:
    message = " ".join(str(error).split())
    return message if len(message) <= 160 else message[:157] + "..."


def _where(path: str) -> str:
    return os.path.relpath(path, os.path.dirname(LIB_DIR)).replace(os.sep, "/")


# ---------------------------------------------------------------- a gradient of the wrong shape, and where it came from

# The library's modules whose backward() needs a gradient of the shape of their output, and that shape.
ELEMENT_WISE = ("ReLU", "Sigmoid", "Tanh", "Softmax")
GIVEN_BACKWARD = ("Sigmoid", "Tanh", "Softmax")  # given code: each returns a gradient of the shape it got


def _library_module(value, names) -> bool:
    return type(value).__name__ in names and type(value).__module__.startswith("lib.")


def _output_shape(module):
    """The shape of the module's last forward output, read from its cache, or None if the module is not known."""
    cache = module.__dict__.get("input_cache") if hasattr(module, "__dict__") else None
    if not isinstance(cache, np.ndarray):
        return None
    out_features = module.__dict__.get("out_features")
    if _library_module(module, ("Linear",)) and cache.ndim == 2 and isinstance(out_features, int):
        return (int(cache.shape[0]), out_features)
    if _library_module(module, ELEMENT_WISE):
        return tuple(int(size) for size in cache.shape)
    return None


def _wrong_gradient(excinfo):
    """If the error came from a backward() of the library that was handed a gradient of another shape than its
    output's, one line that says so and names what handed it over; else None."""
    frames = [frame for frame, _ in traceback.walk_tb(excinfo.tb)]
    for position in range(len(frames) - 1, -1, -1):
        frame = frames[position]
        if frame.f_code.co_name != "backward" or not os.path.abspath(frame.f_code.co_filename).startswith(LIB_DIR):
            continue
        module, grad = frame.f_locals.get("self"), frame.f_locals.get("grad")
        expected = _output_shape(module) if module is not None else None
        if not isinstance(grad, np.ndarray) or expected is None or tuple(grad.shape) == expected:
            continue
        got = tuple(int(size) for size in grad.shape)
        source = _gradient_source(frames[:position], module)
        if source is None:
            return None
        raised = "{}.backward raised {} ({})".format(type(module).__name__, excinfo.type.__name__,
                                                     _error_text(excinfo.value))
        return "{} a gradient of shape {}, but {} needs one of the shape of its output, {}: {}".format(
            source, got, module, expected, raised)
    return None


def _gradient_source(outer_frames, module):
    """Who handed `module` its gradient, read from the frames around its backward(): the module after it in a
    Sequential, or a loss whose backward() the caller passed on (backward_pass, a training loop), or None if that
    cannot be told."""
    for index in range(len(outer_frames) - 1, -1, -1):
        frame = outer_frames[index]
        owner = frame.f_locals.get("self")
        in_lib = os.path.abspath(frame.f_code.co_filename).startswith(LIB_DIR)
        if frame.f_code.co_name == "backward" and _library_module(owner, ("Sequential",)):
            modules = owner.__dict__.get("modules")
            positions = [number for number, item in enumerate(modules or []) if item is module]
            if not positions:
                return None
            if positions[0] + 1 < len(modules):
                after = modules[positions[0] + 1]
                if _library_module(after, GIVEN_BACKWARD):
                    return "Sequential.backward handed {} (before {} in the Sequential)".format(module, after)
                return "{}.backward (the module after {} in the Sequential) returned".format(
                    type(after).__name__, module)
            module = owner  # the last module got what the Sequential got: look further out
            continue
        values = list(frame.f_locals.values())
        if any(value is module for value in values):
            losses = [value for value in values if type(value).__module__ == "lib.losses"]
            if losses:
                return "{}.backward() returned".format(type(losses[0]).__name__)
        if not in_lib:
            return None  # a test or a script that handed the gradient over itself
    return None


# ---------------------------------------------------------------- an error inside Module.check_gradients

REPOSITORY = os.path.dirname(LIB_DIR)
NETWORK_BASE = os.path.join(LIB_DIR, "network_base.py")


def _failed_in_check(excinfo):
    """One line for an error that Module.check_gradients (given code) ran into because of what a backward() or
    forward() gave it: which module was checked, for what, what was raised where, and a hint for the shapes."""
    frames = [frame for frame, _ in traceback.walk_tb(excinfo.tb)]
    checks = [frame for frame in frames if frame.f_code.co_name == "check_gradients" and
              os.path.abspath(frame.f_code.co_filename) == NETWORK_BASE]
    if not checks:
        return None
    module = checks[-1].f_locals.get("self")
    x = checks[-1].f_locals.get("x")
    compares = [frame for frame in frames if frame.f_code.co_name == "_compare_gradients" and
                os.path.abspath(frame.f_code.co_filename) == NETWORK_BASE]
    what = compares[-1].f_locals.get("what") if compares else None
    ours = [frame for frame in frames if os.path.abspath(frame.f_code.co_filename).startswith(REPOSITORY + os.sep)]
    inner = ours[-1] if ours else None
    comparing = inner is None or os.path.abspath(inner.f_code.co_filename) == NETWORK_BASE
    where = "the comparison of backward() with finite differences" if comparing else _qualified_name(inner)
    text = "Module.check_gradients of {} could not finish{}: {} raised {} ({})".format(
        module, " its check of " + what if isinstance(what, str) else "", where, excinfo.type.__name__,
        _error_text(excinfo.value))
    message = str(excinfo.value)
    if inner is not None and inner.f_code.co_name == "forward" and _library_module(module, ("Sequential",)):
        text += ("\nhint: forward() failed after a backward(): did Sequential.backward change self.modules (their "
                 "order, as printed here)?")
    elif not comparing:
        pass
    elif "NoneType" in message and what == "the input":
        text += "\nhint: backward() returned None: did it end without a return?"
    elif "NoneType" in message and isinstance(what, str):
        text += "\nhint: the .grad of {} was None after backward()".format(what)
    elif _about_shapes(excinfo.value) and what == "the input" and isinstance(x, np.ndarray):
        text += "\nhint: backward() must return dL/dx with the shape of the input, {}".format(
            tuple(int(size) for size in x.shape))
    elif _about_shapes(excinfo.value) and isinstance(what, str) and what.startswith("parameter"):
        text += "\nhint: after backward(), the .grad of {} must have the shape of its .data".format(what)
    return text


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Replace the traceback of an error from a gap by a message that names the gap (and, for an empty gap,
    by one line that says which gap to fill)."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not report.failed or call.excinfo.errisinstance(pytest.fail.Exception):
        return
    if not call.excinfo.errisinstance(NotImplementedError):
        text = _wrong_gradient(call.excinfo) or _raised_in_gap(call.excinfo) or _failed_in_check(call.excinfo)
        if text is None and call.excinfo.errisinstance(RuntimeError) and \
                str(call.excinfo.value).startswith("Gradient check of"):
            # Module.check_gradients found a wrong gradient: its message says which; the traceback through the
            # check's internals would not help.
            text = "{}\nhint: backward() disagrees with the finite differences of forward(); the tests with small " \
                   "numbers show which entries are wrong".format(call.excinfo.value)
        if text is not None:
            report.longrepr = text + _needs_hint(_task_of(item))
        return
    missing = _not_implemented_gap(call.excinfo)
    if missing is None:
        return
    own = _task_of(item)
    # As data, for tools/make_handout.py's proof that each test of the cut handout fails for its own gap (or a
    # need's): the task whose gap is empty (grading/points.NOT_IMPLEMENTED).
    report.user_properties.append((NOT_IMPLEMENTED, missing.key))
    if own is None:
        report.longrepr = ("This test needs {}, which is not implemented yet: fill {} first."
                           .format(missing.gap, gap_label(missing)))
    elif own.key == missing.key:
        report.longrepr = "{} is not implemented yet: fill {}.".format(missing.gap, gap_label(missing))
    else:
        report.longrepr = ("This test of {} needs {}, which is not implemented yet: fill {} first."
                           .format(own.gap, missing.gap, gap_label(missing)))
