"""The points plugin: after every test run, a table of the points that run earned (grading/tasks.py has the tasks).

    python -m pytest                               # the tests, then the points table
    python -m pytest -m linear_backward            # the tests of one task only
    python -m pytest --points-json results.json    # also write the points in Gradescope's results.json format
    python -m pytest --points-markdown FILE        # also append the table in Markdown to FILE

runtests.sh and runtests.bat set POINTS_STATUS_FILE: the plugin writes the test that is running to it, then "table"
once the points table is printed, so that the scripts can tell a run that a gap ended (os._exit, a crash) from one
that finished, whatever pytest's exit code.

The table is a self-check: the grade of record comes from the instructor's grader, which runs these tests
on a fresh copy of them, keeps their time limits itself and computes the points in its own process.

What a test prints is cut after PRINT_LIMIT characters (and the whole run's after RUN_PRINT_LIMIT), so that a gap
that prints on every call still leaves a failure report and a points table that fit on a screen.
"""
import json
import os
import sys
import traceback

import pytest

from grading import points
from grading.gaps import gap_function
from grading.tasks import CODE_TASKS

# The exercise's root folder, where lib/ and feedback.md are.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The file runtests.sh and runtests.bat read after the run (see the module's docstring).
STATUS_VARIABLE = "POINTS_STATUS_FILE"
# Characters one test may print (each of stdout and stderr), and the whole run.
PRINT_LIMIT = 10000
RUN_PRINT_LIMIT = 200000


def pytest_addoption(parser):
    group = parser.getgroup("points", "the points of exercise 3")
    group.addoption("--points-json", metavar="FILE", help="write the points to FILE as Gradescope's results.json")
    group.addoption("--points-markdown", metavar="FILE", help="append the points table to FILE in Markdown")
    group.addoption("--points-log", metavar="FILE",
                    help="(for the grader) append one JSON line to FILE as each test starts and ends")
    group.addoption("--points-log-fd", metavar="FD", type=int,
                    help="(for the grader) the same, to the open file descriptor FD that the grader passed down")
    group.addoption("--points-grader", action="store_true",
                    help="(for the grader) skip a task's remaining tests once one of them failed")
    group.addoption("--value-seed", type=int, metavar="S",
                    help="(for the grader) run the value checks of grading/value_checks.py on inputs drawn from S")


def pytest_configure(config):
    # One marker per code task: `python -m pytest -m relu_backward` runs the tests of task 2.
    for task in CODE_TASKS:
        config.addinivalue_line("markers", "{}: graded tests of task {}, {}".format(task.key, task.number, task.title))
    config.pluginmanager.register(PointsRecorder(config), "exercise3-points")


def gap_functions() -> dict:
    """{code object: function} of every gap function of lib/ (imported: the tests import it anyway)."""
    found = {}
    for task in CODE_TASKS:
        try:
            function = gap_function(task.file, task.gap)
            found[function.__code__] = function
        except (ImportError, AttributeError, SyntaxError):
            continue  # a file that does not import: its tests say so
    return found


def stop_running(function, test: str) -> None:
    """Make `function` raise at once from now on, saying why (its code object is replaced, so that every name
    bound to the function, in every module, gets the stand-in). Not a time limit: pytest-timeout is the students'
    runs' limit, and the grader keeps its own; this only keeps one endless loop from costing every test that
    calls the gap."""
    message = "{} ran past its time limit in {} and is not run again in this test run".format(
        function.__qualname__, test)
    namespace = {}
    exec(compile("def stand_in(*args, **kwargs):\n    raise RuntimeError({!r})\n".format(message), "<timeout>",
                 "exec"), namespace)
    try:
        function.__code__ = namespace["stand_in"].__code__
    except ValueError:
        pass  # a function with a closure: it keeps its code, and its further tests pay the time limit


class BoundedStream:
    """A test's sys.stdout or sys.stderr that passes on the first `limit` characters written and counts the rest."""

    def __init__(self, stream, limit: int):
        self.stream, self.limit, self.cut = stream, limit, 0

    def write(self, text):
        text = str(text)
        kept = text[:max(self.limit, 0)]
        self.limit -= len(kept)
        self.cut += len(text) - len(kept)
        if kept:
            self.stream.write(kept)
        return len(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


# Under the table of a run that selected tests by name: its rows count only the tests that ran.
SELECTION_NOTE = ("Only the tests named ran: a row counts the tests of it that ran.\n"
                  "`python -m pytest` runs them all; a task earns its points only when all of them pass.")


class PointsRecorder:
    def __init__(self, config):
        self.config = config
        self.expected = {}  # task key -> node ids of its selected tests
        self.task_of = {}  # node id -> task key
        self.outcomes = {}  # node id -> {"outcome": ..., "message": ...}
        self.failed_tasks = set()
        self.timed_out = {}  # task key -> the test of it that timed out
        self.printed = 0  # characters the tests printed so far (RUN_PRINT_LIMIT)
        self.status = os.environ.get(STATUS_VARIABLE)
        self.write_status("started")
        path = config.getoption("points_log")
        # Unbuffered and appending: a line is on disk as soon as it is written, even if the process dies next.
        self.log_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600) if path else None
        if config.getoption("points_log_fd") is not None:
            # The sandbox has no writable file for a log: the grader opened one and passed its descriptor down.
            self.log_fd = config.getoption("points_log_fd")

    def write_status(self, text: str) -> None:
        if self.status:
            with open(self.status, "w", encoding="utf-8") as file:
                file.write(text + "\n")

    def log(self, **event):
        if self.log_fd is not None:
            os.write(self.log_fd, (json.dumps(event) + "\n").encode("utf-8"))

    def pytest_collectreport(self, report):
        if report.failed:
            self.log(event="collect_error", nodeid=report.nodeid, message=report.longreprtext[:4000])

    def pytest_collection_finish(self, session):
        for item in session.items:
            task = points.task_of_markers(marker.name for marker in item.iter_markers())
            if task is not None:
                self.expected.setdefault(task.key, []).append(item.nodeid)
                self.task_of[item.nodeid] = task.key
        self.log(event="collected", tests=self.task_of)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        """After a timeout inside a gap, that gap raises at once wherever it is called again in this run: an
        endless loop would otherwise cost every further test that calls it (a looping zero_grad, 17 of them)."""
        outcome = yield
        report = outcome.get_result()
        if call.excinfo is None or not report.failed or not points.is_timeout(str(call.excinfo.value)):
            return
        for frame, _ in reversed(list(traceback.walk_tb(call.excinfo.tb))):
            function = gap_functions().get(frame.f_code)
            if function is not None:
                stop_running(function, item.nodeid.split("::")[-1])
                return

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        task = self.task_of.get(item.nodeid)
        if task in self.timed_out:
            # An endless loop would cost every further test of the task its whole time limit.
            pytest.skip("not run: {} of the same task timed out".format(self.timed_out[task].split("::")[-1]))
        if self.config.getoption("points_grader") and task in self.failed_tasks:
            pytest.skip("an earlier test of this task failed, so the task earns no points")

    def pytest_runtest_logstart(self, nodeid, location):
        self.write_status("running " + nodeid)
        self.log(event="start", nodeid=nodeid)

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_call(self, item):
        """What the test prints, cut at PRINT_LIMIT characters (and the run's at RUN_PRINT_LIMIT). Last, so that
        it wraps the streams that pytest's capture put in place for the call."""
        limit = min(PRINT_LIMIT, max(RUN_PRINT_LIMIT - self.printed, 0))
        streams = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = (BoundedStream(stream, limit) for stream in streams)
        try:
            yield
        finally:
            bounded = (sys.stdout, sys.stderr)
            sys.stdout, sys.stderr = streams
            for stream, wrapper in zip(streams, bounded):
                if isinstance(wrapper, BoundedStream):
                    self.printed += limit - max(wrapper.limit, 0)
                    if wrapper.cut:
                        stream.write("\n[... {} more characters that this test printed were cut]\n".format(
                            wrapper.cut))

    def pytest_runtest_logreport(self, report):
        previous = self.outcomes.get(report.nodeid)
        if report.when == "call" or report.outcome != "passed":
            # A failure in any phase (set-up, call, tear-down) fails the test; the first one is the message.
            if previous is None or previous["outcome"] == "passed":
                text = report.longreprtext
                self.outcomes[report.nodeid] = {"outcome": report.outcome, "message": text[:4000],
                                                "headline": points.headline(text)}
        task = self.task_of.get(report.nodeid)
        if report.outcome != "passed" and task:
            self.failed_tasks.add(task)
            if report.failed and points.is_timeout(report.longreprtext):
                self.timed_out.setdefault(task, report.nodeid)
        # The properties of the call (a value check's outputs), or of a set-up that failed (an empty gap's task).
        if report.user_properties and (report.when == "call" or (report.when == "setup" and report.failed)):
            self.outcomes.setdefault(report.nodeid, {"outcome": report.outcome, "message": ""})["properties"] = \
                {str(name): value for name, value in report.user_properties}
        if report.when == "teardown":
            outcome = self.outcomes.get(report.nodeid, {"outcome": "skipped", "message": ""})
            self.log(event="result", nodeid=report.nodeid, **outcome)

    def rows(self):
        code_rows = {task.key: points.code_task_row(task, self.expected.get(task.key, []), self.outcomes)
                     for task in CODE_TASKS}
        if not self.config.getoption("points_grader"):
            # The grader takes each gap body only if it stays inside its function: say so here too.
            for task in CODE_TASKS:
                message = points.splice_warning(ROOT, task)
                if message:
                    code_rows[task.key] = points.Row(task, 0, "failed", "the grader will not take it: " + message)
        style = points.code_style_row(ROOT, points.filled_gaps(ROOT))
        return points.all_rows(code_rows, style, points.feedback_row(ROOT))

    def selected_some(self) -> bool:
        """Whether the run was asked for some tests by name: -k, a test (file::name) or a file. Then a task's row
        counts only its tests that ran (-m TASK runs all of a task's tests)."""
        named = [arg for arg in self.config.invocation_params.args if not str(arg).startswith("-")]
        return bool(self.config.getoption("keyword")) or any("::" in str(arg) or str(arg).endswith(".py")
                                                             for arg in named)

    def pytest_terminal_summary(self, terminalreporter):
        if self.config.getoption("points_grader"):
            return  # the grader computes the points in its own process, from the log
        rows = self.rows()
        terminalreporter.section("points of exercise 3 (a self-check; grading/tasks.py lists the tasks)")
        if self.expected:
            for line in points.format_table(rows) + points.outside_gap_notes(ROOT):
                terminalreporter.write_line(line)
            if self.selected_some():
                for line in SELECTION_NOTE.splitlines():
                    terminalreporter.write_line(line)
        else:
            terminalreporter.write_line("No graded test ran; `python -m pytest` runs them all and shows the points.")
        markdown = self.config.getoption("points_markdown")
        if markdown:
            with open(markdown, "a", encoding="utf-8") as file:
                file.write(points.format_markdown(rows))
        results = self.config.getoption("points_json")
        if results:
            with open(results, "w", encoding="utf-8") as file:
                json.dump(points.gradescope_results(rows, output="A self-check run of the tests."), file, indent=2)
        self.write_status("table")

    def pytest_sessionfinish(self, session, exitstatus):
        self.log(event="finish", exitstatus=int(exitstatus))
        if self.log_fd is not None:
            os.close(self.log_fd)
            self.log_fd = None
