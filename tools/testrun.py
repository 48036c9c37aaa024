"""Running the graded tests and value checks of one rebuilt tree in sandboxed processes.

Each run is one `python -m pytest` process in a sandbox (tools/sandbox.py), with limits on memory, file size and
processes. The points plugin (grading/plugin.py) writes one JSON line per test, as it starts and as it ends, to a
file that the grader opened and passes down as a file descriptor: the tests' outcomes, and the outputs of the value
checks (grading/value_checks.py).

The time limits are kept here, in the grader's process, where the student's code cannot reach them:
- one per test (Watchdog): a test may run for setup.cfg's `timeout` from the moment its start event is read; the
  run is killed when it is over. pytest-timeout, which would run inside the student's process, is off in these runs;
- one per submission (`Limits.run_seconds`): all of a submission's processes together.
If a process dies or is killed mid-run, the test it was running fails and a new process runs the tests that had not
run yet, so a crash or an endless loop costs only the task of the test it happened in.

The log is written by the process that runs the student's code, so nothing in it is trusted: it is read as
untrusted JSON, only complete well-formed events for the tests asked for count, and only the value checks' outputs,
compared with the reference's by the grader, decide points.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict, namedtuple
from typing import Dict, Iterable, List, Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from grading.points import NOT_IMPLEMENTED, setup_cfg  # noqa: E402  (the repository root must be importable first)
from grading.tasks import CODE_TASKS  # noqa: E402
from tools import sandbox as sandboxes  # noqa: E402

# collected: {node id: task key}; outcomes: {node id: {"outcome", "message", "headline", "properties"}}; running:
# the node id that started last without a result (the one a crash or hang happened in); errors: collection errors.
LogResult = namedtuple("LogResult", "collected outcomes running errors finished")

# What a submission's runs gave: outcomes {node id: {"outcome", "message", "headline", "properties"}}, the notes
# on runs that ended early, and how many processes it took.
GradedRun = namedtuple("GradedRun", "outcomes notes runs")
# per_test_seconds: one test, kept by the Watchdog; run_seconds: all the runs of one submission together.
Limits = namedtuple("Limits", "per_test_seconds run_seconds memory_mb file_mb")
# Seconds the first test may take to start: the interpreter starts, imports NumPy and collects the tests (a second
# or two; 30 s and more were seen on a machine at a load of 60). Only the given code runs before the first test
# (no gap runs on import), so this buys a submission nothing.
STARTUP_SECONDS = 60
# Seconds the watchdog allows past a limit: it reads the log four times a second.
MARGIN_SECONDS = 1
POLL_SECONDS = 0.25
# The most of a log that is read: a run that writes more is cut there.
LOG_BYTES = 16 * 1024 * 1024
# The longest event read: a value check's outputs take under 30 kB. A longer line is passed over unparsed (parsed,
# 16 MB of JSON becomes about 400 MB of Python objects in the grader's own process).
EVENT_BYTES = 1024 * 1024
# The most of a message, and of its headline, that is kept (the plugin writes at most 4,000 characters).
MESSAGE_CHARACTERS = 4000
HEADLINE_CHARACTERS = 300
VALUE_CHECKS = "grading/value_checks.py"
# A task's value check, the one item whose outputs earn its points (the file's lines items are for tutors).
VALUE_CHECK_ITEM = VALUE_CHECKS + "::test_value_check["


def setup_cfg_timeout(root: str = REPO) -> float:
    """The per-test limit from setup.cfg: the students' runs (pytest-timeout), the workflow and the grader's
    watchdog share it."""
    return setup_cfg(root).getfloat("tool:pytest", "timeout")


# A submission's runs get 300 s in all: an endless loop in every gap costs about 7 per-test limits (140 s).
DEFAULT_LIMITS = Limits(per_test_seconds=setup_cfg_timeout(), run_seconds=300, memory_mb=4096, file_mb=64)


def marker_expression() -> str:
    """The -m expression that selects every graded test."""
    return " or ".join(task.key for task in CODE_TASKS)


def events(lines: Iterable[bytes]) -> List[dict]:
    """The well-formed events among complete log lines: anything else (a line cut short by a crash, text that is
    not a JSON object, an event without a name, a line longer than EVENT_BYTES) is passed over."""
    found = []
    for line in lines:
        if len(line) > EVENT_BYTES:
            continue
        try:
            event = json.loads(line.decode("utf-8", errors="replace"))
        except (ValueError, RecursionError):
            continue
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            found.append(event)
    return found


class LogTail:
    """The events a running process appends to its log, read as they come: complete lines only, at most LOG_BYTES
    in all."""

    def __init__(self, path: str):
        self.path = path
        self.offset = 0
        self.partial = b""

    def new_events(self) -> List[dict]:
        if self.offset >= LOG_BYTES or not os.path.exists(self.path):
            return []
        with open(self.path, "rb") as file:
            file.seek(self.offset)
            chunk = file.read(LOG_BYTES - self.offset)
        self.offset += len(chunk)
        *lines, self.partial = (self.partial + chunk).split(b"\n")
        return events(lines)


class Watchdog:
    """The per-test limit, kept by the grader from the events it reads.

    A test's time starts when its start event is read, and it ends with its result. Only events for the tests this
    run was asked for count, each test starts once and ends once, so forged, repeated or unknown events cannot
    extend anyone's time: a run lasts at most STARTUP_SECONDS plus two limits per test asked for.
    """

    def __init__(self, per_test_seconds: float, todo: Optional[Iterable[str]] = None, now: Optional[float] = None):
        self.limit = per_test_seconds
        self.todo = None if todo is None else set(todo)  # None: our own tree, whose every test counts
        self.started, self.ended = set(), set()
        self.running = None  # the test that started last and has no result yet
        self.deadline = (time.monotonic() if now is None else now) + max(STARTUP_SECONDS, per_test_seconds)

    def see(self, event: dict, now: float) -> None:
        nodeid = event.get("nodeid")
        if not isinstance(nodeid, str) or (self.todo is not None and nodeid not in self.todo):
            return
        if event["event"] == "start" and nodeid not in self.started:
            self.started.add(nodeid)
            self.running, self.deadline = nodeid, now + self.limit
        elif event["event"] == "result" and nodeid in self.started and nodeid not in self.ended:
            self.ended.add(nodeid)
            # Tear-down, the next test's start, or the end of the session: each within one limit as well.
            self.running, self.deadline = None, now + self.limit

    def over(self, now: float) -> bool:
        return now > self.deadline + MARGIN_SECONDS


def kept_properties(nodeid: str, properties) -> dict:
    """What is read of a result's properties, and nothing else: a value check's "values", a lines item's "lines",
    and the task key of an empty gap a test failed on (whatever else a forged event carries is dropped, so that a
    submission's outcomes stay small; the grader's verdict reads the values only)."""
    if not isinstance(properties, dict):
        return {}
    wanted = "values" if nodeid.startswith(VALUE_CHECK_ITEM) else "lines" if nodeid.startswith(VALUE_CHECKS) else None
    kept = {wanted: properties[wanted]} if wanted in properties else {}
    missing = properties.get(NOT_IMPLEMENTED)
    if isinstance(missing, str) and len(missing) <= 100:
        kept[NOT_IMPLEMENTED] = missing
    return kept


def read_log(path: str) -> LogResult:
    """The events of a log that untrusted code wrote: anything that is not a well-formed event is passed over."""
    collected, outcomes, errors, running, finished = OrderedDict(), OrderedDict(), [], None, False
    lines = []
    if os.path.exists(path):
        with open(path, "rb") as file:
            lines = file.read(LOG_BYTES).split(b"\n")
    for event in events(lines):
        kind, nodeid = event["event"], event.get("nodeid")
        if kind == "collected" and isinstance(event.get("tests"), dict):
            collected.update((str(k), str(v)) for k, v in event["tests"].items())
        elif kind == "start" and isinstance(nodeid, str):
            running = nodeid
        elif kind == "result" and isinstance(nodeid, str):
            outcomes[nodeid] = {"outcome": str(event.get("outcome", "failed"))[:20],
                                "message": str(event.get("message", ""))[:MESSAGE_CHARACTERS],
                                "headline": str(event.get("headline", ""))[:HEADLINE_CHARACTERS],
                                "properties": kept_properties(nodeid, event.get("properties"))}
            if running == nodeid:
                running = None
        elif kind == "collect_error":
            errors.append({"nodeid": str(nodeid), "message": str(event.get("message", ""))})
        elif kind == "finish":
            finished = True
    return LogResult(collected, outcomes, running, errors, finished)


def pytest_arguments(python: str, log_fd: int, extra: List[str]) -> List[str]:
    # -I: no current folder on sys.path at start-up and no PYTHON* variables; -B: no .pyc files. pytest-timeout is
    # off: the per-test limit is the grader's watchdog, which the tests' process cannot turn off.
    return ([python, "-I", "-B", "-m", "pytest", "-p", "no:timeout", "-p", "no:cacheprovider",
             "-c", "setup.cfg", "--rootdir", ".", "-q", "--tb=short", "--no-header", "-W", "ignore",
             "--continue-on-collection-errors", "--points-log-fd", str(log_fd)] + extra)


def run_once(root: str, args: List[str], log_path: str, limits: Limits, output_path: str,
             sandbox: Optional[sandboxes.Sandbox] = None, scratch: Optional[str] = None,
             python: Optional[str] = None, notes: Optional[List[str]] = None,
             watchdog: Optional[Watchdog] = None, deadline: Optional[float] = None) -> str:
    """One pytest process on the tree root, in the sandbox; returns "finished", "test timeout", "run timeout",
    "disk" or "died (...)".

    watchdog keeps the per-test limit (by default every test of the run counts); deadline (time.monotonic()) ends
    the run, by default limits.run_seconds from now. The results are in log_path. Every process of the run is gone
    when this returns; what the sandbox had to say about the run (a limit clamped, the disk cap) is appended to
    notes.
    """
    sandbox = sandbox or sandboxes.Sandbox("none")
    scratch = scratch or tempfile.mkdtemp(prefix="testrun-")
    os.makedirs(scratch, exist_ok=True)
    watchdog = watchdog or Watchdog(limits.per_test_seconds)
    deadline = deadline if deadline is not None else time.monotonic() + limits.run_seconds
    run = sandbox.start_run(scratch)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        run.share(root)
        with open(output_path, "ab") as output:
            command = pytest_arguments(python or sys.executable, log_fd, args)
            process = run.launch(root, command, limits, output, pass_fds=(log_fd,))
            try:
                verdict = watch(process, LogTail(log_path), watchdog, deadline, run)
            finally:
                sandboxes.kill_group(process)
                process.wait()
    finally:
        os.close(log_fd)
        run.reap()
        if notes is not None:
            notes.extend(note for note in run.notes if note not in notes)
    if verdict:
        return verdict
    if process.returncode < 0:
        return "died (signal {})".format(-process.returncode)
    return "finished" if read_log(log_path).finished else "died (exit code {})".format(process.returncode)


def watch(process: subprocess.Popen, tail: LogTail, watchdog: Watchdog, deadline: float, run) -> Optional[str]:
    """Wait for the run to end, reading its events; None when it ended by itself, else why it was ended: "test
    timeout" (the watchdog's limit), "run timeout" (the deadline) or "disk" (the sandbox's disk cap)."""
    while True:
        try:
            process.wait(timeout=POLL_SECONDS)
            ended = True
        except subprocess.TimeoutExpired:
            ended = False
        now = time.monotonic()
        for event in tail.new_events():
            watchdog.see(event, now)
        if ended:
            return "disk" if run.over_disk_cap() else None  # the sandbox's own watch may have ended it
        if watchdog.over(now):
            return "test timeout"
        if now > deadline:
            return "run timeout"
        if run.over_disk_cap():
            return "disk"


def failure(message: str) -> dict:
    return {"outcome": "failed", "message": message, "headline": message, "properties": {}}


def run_graded_tests(root: str, expected: Dict[str, str], seed: int, limits: Limits = DEFAULT_LIMITS,
                     workdir: Optional[str] = None, sandbox: Optional[sandboxes.Sandbox] = None, skip_tasks=(),
                     python: Optional[str] = None) -> GradedRun:
    """Run the tests and value checks `expected` ({node id: task key}) in root until each has a result.

    The visible tests run first, in one process; then each value check runs in a process of its own (a fresh run,
    a fresh identity), asked for that check alone. So the only gaps that have run in the process whose outputs earn
    a task's points are that task's own and those it declares in `needs` (grading/tasks.py), and no other gap can
    patch the task's class, nor forge its check's result, to earn its points.

    A test whose process crashed, exited or was stopped while it ran fails with that reason; the tests after it run
    in a new process. Tests of a task that already failed are not run again (no partial credit), and neither are
    the tests of the tasks in skip_tasks (their gap was not taken). Every process either gives a test asked for its
    outcome or fails one, so a submission takes at most one process per test.
    """
    workdir = workdir or tempfile.mkdtemp(prefix="testrun-")
    os.makedirs(workdir, exist_ok=True)
    outcomes, notes = OrderedDict(), []
    # The student's feedback first: the visible tests (pytest keeps the order given) and the lines items (for
    # tutors: their outcomes fail no task), then the value checks.
    groups = [[nodeid for nodeid in expected if not nodeid.startswith(VALUE_CHECK_ITEM)]] + [
        [nodeid] for nodeid in expected if nodeid.startswith(VALUE_CHECK_ITEM)]
    deadline = time.monotonic() + limits.run_seconds
    attempt = 0
    for group in groups:
        while True:
            failed_tasks = {expected[n] for n, o in outcomes.items() if o["outcome"] != "passed" and (
                n.startswith(VALUE_CHECK_ITEM) or not n.startswith(VALUE_CHECKS))} | set(skip_tasks)
            todo = [n for n in group if n not in outcomes and expected[n] not in failed_tasks]
            if not todo:
                break
            if time.monotonic() >= deadline:
                for nodeid in todo:
                    outcomes[nodeid] = failure("not run: the submission's tests used up their time limit of {:g} s "
                                               "in all".format(limits.run_seconds))
                break
            attempt += 1
            run_tests(root, todo, expected, seed, limits, workdir, attempt, sandbox, python, deadline, outcomes,
                      notes)
    return GradedRun(outcomes, notes, attempt)


def run_tests(root: str, todo: List[str], expected: Dict[str, str], seed: int, limits: Limits, workdir: str,
              attempt: int, sandbox, python, deadline: float, outcomes: dict, notes: List[str]) -> None:
    """One process asked for the tests `todo`: their outcomes, and that of the test it ended in, into outcomes.
    Only events for the tests in todo count."""
    log_path = os.path.join(workdir, "log-{}.jsonl".format(attempt))
    watchdog = Watchdog(limits.per_test_seconds, todo)
    verdict = run_once(root, ["--points-grader", "--value-seed", str(seed)] + todo, log_path, limits,
                       os.path.join(workdir, "output-{}.txt".format(attempt)), sandbox,
                       os.path.join(workdir, "run-{}".format(attempt)), python, notes, watchdog, deadline)
    log = read_log(log_path)
    progress = [nodeid for nodeid in todo if nodeid in log.outcomes]
    for nodeid in progress:
        outcomes[nodeid] = log.outcomes[nodeid]
    for error in log.errors:
        for nodeid in todo:
            if nodeid not in outcomes and nodeid.startswith(error["nodeid"] + "::"):
                outcomes[nodeid] = failure("the test file could not be imported: " + error["message"])
    if verdict == "finished":
        for nodeid in todo:
            # Not run although asked for: a task that had failed already, or a test the run never reached.
            outcomes.setdefault(nodeid, {"outcome": "skipped", "message": "not run", "properties": {}})
        return
    reason = {"test timeout": "the test ran past its time limit of {:g} s and was stopped".format(
                  limits.per_test_seconds),
              "run timeout": "the submission's tests used up their time limit of {:g} s in all".format(
                  limits.run_seconds),
              "disk": "the test run was stopped: it wrote more to disk than a run may"}.get(
        verdict, "the test process " + verdict)
    running = watchdog.running if watchdog.running not in outcomes else None
    notes.append("run {}: {}{}".format(attempt, reason, " in " + running if running else ""))
    if running:
        outcomes[running] = failure("{} during this test".format(reason))
    elif not progress:
        # Nothing asked for ended (a crash at start-up, or events for other tests): the next test pays.
        nodeid = next(n for n in todo if n not in outcomes)
        outcomes[nodeid] = failure("{} before this test ended".format(reason))


def collect_graded_tests(root: str, workdir: str, limits: Limits = DEFAULT_LIMITS,
                         python: Optional[str] = None) -> Dict[str, str]:
    """{node id: task key} of every graded test and value check in root (our own tree: no sandbox needed)."""
    log_path = os.path.join(workdir, "collect.jsonl")
    output = os.path.join(workdir, "collect-output.txt")
    verdict = run_once(root, ["--collect-only", "-m", marker_expression(), "tests", VALUE_CHECKS], log_path, limits,
                       output, scratch=os.path.join(workdir, "collect"), python=python)
    log = read_log(log_path)
    if verdict != "finished" or log.errors or not log.collected:
        with open(output, encoding="utf-8", errors="replace") as file:
            text = file.read()[-3000:]
        raise RuntimeError("collecting the graded tests in {} failed ({}):\n{}".format(root, verdict, text))
    return dict(log.collected)
