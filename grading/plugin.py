"""The points plugin: after every test run, a table of the points that run earned (grading/tasks.py has the tasks).

    python -m pytest                               # the tests, then the points table
    python -m pytest -m linear_backward            # the tests of one task only
    python -m pytest --points-json results.json    # also write the points in Gradescope's results.json format
    python -m pytest --points-markdown FILE        # also append the table in Markdown to FILE

The table is a self-check: the grade of record comes from the instructor's grader, which runs these tests
on a fresh copy of them.
"""
import json
import os

import pytest

from grading import points
from grading.tasks import CODE_TASKS

# The exercise's root folder, where lib/ and feedback.md are.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def pytest_configure(config):
    # One marker per code task: `python -m pytest -m relu_backward` runs the tests of task 2.
    for task in CODE_TASKS:
        config.addinivalue_line("markers", "{}: graded tests of task {}, {}".format(task.key, task.number, task.title))
    config.pluginmanager.register(PointsRecorder(config), "exercise3-points")


class PointsRecorder:
    def __init__(self, config):
        self.config = config
        self.expected = {}  # task key -> node ids of its selected tests
        self.task_of = {}  # node id -> task key
        self.outcomes = {}  # node id -> {"outcome": ..., "message": ...}
        self.failed_tasks = set()
        path = config.getoption("points_log")
        # Unbuffered and appending: a line is on disk as soon as it is written, even if the process dies next.
        self.log_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600) if path else None
        if config.getoption("points_log_fd") is not None:
            # The sandbox has no writable file for a log: the grader opened one and passed its descriptor down.
            self.log_fd = config.getoption("points_log_fd")

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
        if self.config.getoption("points_grader") and self.task_of:
            # The grader's runs only: from now on, code from a gap may not compile strings, open files outside
            # the Python installation and lib/, or start anything (grading/lockdown.py).
            from grading import lockdown
            lockdown.install(ROOT)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        task = self.task_of.get(item.nodeid)
        if self.config.getoption("points_grader") and task in self.failed_tasks:
            pytest.skip("an earlier test of this task failed, so the task earns no points")

    def pytest_runtest_logstart(self, nodeid, location):
        self.log(event="start", nodeid=nodeid)

    def pytest_runtest_logreport(self, report):
        previous = self.outcomes.get(report.nodeid)
        if report.when == "call" or report.outcome != "passed":
            # A failure in any phase (set-up, call, tear-down) fails the test; the first one is the message.
            if previous is None or previous["outcome"] == "passed":
                text = report.longreprtext
                self.outcomes[report.nodeid] = {"outcome": report.outcome, "message": text[:4000],
                                                "headline": points.headline(text)}
        if report.outcome != "passed" and self.task_of.get(report.nodeid):
            self.failed_tasks.add(self.task_of[report.nodeid])
        if report.when == "teardown":
            outcome = self.outcomes.get(report.nodeid, {"outcome": "skipped", "message": ""})
            self.log(event="result", nodeid=report.nodeid, **outcome)

    def rows(self):
        code_rows = {task.key: points.code_task_row(task, self.expected.get(task.key, []), self.outcomes)
                     for task in CODE_TASKS}
        if not self.config.getoption("points_grader"):
            # The grader does not run a gap that breaks its policy: say so here too, before it costs points.
            for task in CODE_TASKS:
                message = points.policy_message(ROOT, task)
                if message:
                    code_rows[task.key] = points.Row(task, 0, "failed", "the grader will not run it: " + message)
        return points.all_rows(code_rows, points.code_style_row(ROOT), points.feedback_row(ROOT))

    def pytest_terminal_summary(self, terminalreporter):
        rows = self.rows()
        terminalreporter.section("points of exercise 3 (a self-check; grading/tasks.py lists the tasks)")
        if self.expected:
            for line in points.format_table(rows):
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

    def pytest_sessionfinish(self, session, exitstatus):
        self.log(event="finish", exitstatus=int(exitstatus))
        if self.log_fd is not None:
            os.close(self.log_fd)
            self.log_fd = None
