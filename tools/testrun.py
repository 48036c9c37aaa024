"""Running the graded tests and value checks of one rebuilt tree in sandboxed processes.

Each run is one `python -m pytest` process in a sandbox (tools/sandbox.py), with limits on CPU time, memory, file
size and processes, and pytest-timeout's per-test limit (setup.cfg's `timeout`, the one place it is set). The
points plugin (grading/plugin.py) writes one JSON line per test, as it starts and as it ends, to a file that the
grader opened and passes down as a file descriptor: the tests' outcomes, and the outputs of the value checks
(grading/value_checks.py). If a process dies or hangs mid-run, the test it was running fails and a new process
runs the tests that had not run yet, so a crash costs only the task of the test it happened in.

The log is written by the process that runs the student's code, so nothing in it is trusted: it is read as
untrusted JSON, and only the value checks' outputs, compared with the reference's by the grader, decide points.
"""
import configparser
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict, namedtuple
from typing import Dict, List, Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from grading.tasks import CODE_TASKS  # noqa: E402  (the repository root must be importable first)
from tools import sandbox as sandboxes  # noqa: E402

# collected: {node id: task key}; outcomes: {node id: {"outcome", "message", "headline", "properties"}}; running:
# the node id that started last without a result (the one a crash or hang happened in); errors: collection errors.
LogResult = namedtuple("LogResult", "collected outcomes running errors finished")

Limits = namedtuple("Limits", "per_test_seconds run_seconds cpu_seconds memory_mb file_mb")
# Seconds the log may stay silent beyond a test's own timeout (start-up and collection write nothing for a while).
IDLE_MARGIN = 10
# The most of a log that is read: a run that writes more is cut there.
LOG_BYTES = 16 * 1024 * 1024
VALUE_CHECKS = "grading/value_checks.py"


def setup_cfg_timeout(root: str = REPO) -> float:
    """pytest-timeout's per-test limit from setup.cfg: the students' runs, the workflow and the grader share it."""
    parser = configparser.ConfigParser()
    parser.read(os.path.join(root, "setup.cfg"), encoding="utf-8")
    return parser.getfloat("tool:pytest", "timeout")


DEFAULT_LIMITS = Limits(per_test_seconds=setup_cfg_timeout(), run_seconds=300, cpu_seconds=300, memory_mb=4096,
                        file_mb=64)


def marker_expression() -> str:
    """The -m expression that selects every graded test."""
    return " or ".join(task.key for task in CODE_TASKS)


def read_log(path: str) -> LogResult:
    """The events of a log that untrusted code wrote: anything that is not a well-formed event is passed over."""
    collected, outcomes, errors, running, finished = OrderedDict(), OrderedDict(), [], None, False
    text = ""
    if os.path.exists(path):
        with open(path, "rb") as file:
            text = file.read(LOG_BYTES).decode("utf-8", errors="replace")
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            continue  # a line cut short by a crash, or not JSON at all
        if not isinstance(event, dict):
            continue
        kind, nodeid = event.get("event"), event.get("nodeid")
        if kind == "collected" and isinstance(event.get("tests"), dict):
            collected.update((str(k), str(v)) for k, v in event["tests"].items())
        elif kind == "start" and isinstance(nodeid, str):
            running = nodeid
        elif kind == "result" and isinstance(nodeid, str):
            properties = event.get("properties")
            outcomes[nodeid] = {"outcome": str(event.get("outcome", "failed")),
                                "message": str(event.get("message", "")), "headline": str(event.get("headline", "")),
                                "properties": properties if isinstance(properties, dict) else {}}
            if running == nodeid:
                running = None
        elif kind == "collect_error":
            errors.append({"nodeid": str(nodeid), "message": str(event.get("message", ""))})
        elif kind == "finish":
            finished = True
    return LogResult(collected, outcomes, running, errors, finished)


def pytest_arguments(python: str, log_fd: int, limits: Limits, extra: List[str]) -> List[str]:
    # -I: no current folder on sys.path at start-up and no PYTHON* variables; -B: no .pyc files.
    return ([python, "-I", "-B", "-m", "pytest", "-p", "pytest_timeout", "-p", "no:cacheprovider",
             "-c", "setup.cfg", "--rootdir", ".", "-q", "--tb=short", "--no-header", "-W", "ignore",
             "--continue-on-collection-errors", "--timeout", str(limits.per_test_seconds),
             "--points-log-fd", str(log_fd)] + extra)


def run_once(root: str, args: List[str], log_path: str, limits: Limits, output_path: str,
             sandbox: Optional[sandboxes.Sandbox] = None, scratch: Optional[str] = None,
             python: Optional[str] = None, notes: Optional[List[str]] = None) -> str:
    """One pytest process on the tree root, in the sandbox; returns "finished", "timeout", "disk" or "died (...)".

    The results are in log_path. Every process of the run is gone when this returns; what the sandbox had to say
    about the run (a limit clamped, the disk cap) is appended to notes.
    """
    sandbox = sandbox or sandboxes.Sandbox("none")
    scratch = scratch or tempfile.mkdtemp(prefix="testrun-")
    os.makedirs(scratch, exist_ok=True)
    run = sandbox.start_run(scratch)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        run.share(root)
        with open(output_path, "ab") as output:
            command = pytest_arguments(python or sys.executable, log_fd, limits, args)
            process = run.launch(root, command, limits, output, pass_fds=(log_fd,))
            try:
                verdict = watch(process, log_path, limits, run)
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


def watch(process: subprocess.Popen, log_path: str, limits: Limits, run) -> Optional[str]:
    """Wait for the run to end; "timeout" if it takes longer than run_seconds, or if the log stays silent for
    longer than a test may take (per_test_seconds plus IDLE_MARGIN): code that swallows pytest-timeout's
    exception keeps its test from ending, but not the run. "disk" if the run passed the sandbox's disk cap."""
    started = last_change = time.time()
    last_size = -1
    while True:
        try:
            process.wait(timeout=0.25)
            return "disk" if run.over_disk_cap() else None  # the sandbox's own watch may have ended it
        except subprocess.TimeoutExpired:
            pass
        now = time.time()
        size = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        if size != last_size:
            last_size, last_change = size, now
        if now - started > limits.run_seconds or now - last_change > limits.per_test_seconds + IDLE_MARGIN:
            return "timeout"
        if run.over_disk_cap():
            return "disk"


def run_graded_tests(root: str, expected: Dict[str, str], seed: int, limits: Limits = DEFAULT_LIMITS,
                     workdir: Optional[str] = None, sandbox: Optional[sandboxes.Sandbox] = None, skip_tasks=(),
                     python: Optional[str] = None) -> dict:
    """Run the tests and value checks `expected` ({node id: task key}) in root until each has a result; returns
    {"outcomes": {node id: outcome}, "notes": [...], "runs": how many processes}.

    A test whose process crashed, exited or hung while it ran fails with that reason; the tests after it run in a
    new process. Tests of a task that already failed are not run again (no partial credit), and neither are the
    tests of the tasks in skip_tasks (their gap was not taken).
    """
    workdir = workdir or tempfile.mkdtemp(prefix="testrun-")
    os.makedirs(workdir, exist_ok=True)
    outcomes, notes = OrderedDict(), []
    # The student's feedback first: the visible tests, then the value checks (pytest keeps the order given).
    ordered = sorted(expected, key=lambda nodeid: nodeid.startswith(VALUE_CHECKS))
    queue = [ordered]  # groups of node ids still to run; split by file if a run never starts
    attempt = 0
    while queue:
        group = queue.pop(0)
        failed_tasks = {expected[n] for n, o in outcomes.items() if o["outcome"] != "passed"} | set(skip_tasks)
        todo = [n for n in group if n not in outcomes and expected[n] not in failed_tasks]
        if not todo:
            continue
        attempt += 1
        log_path = os.path.join(workdir, "log-{}.jsonl".format(attempt))
        started = time.time()
        verdict = run_once(root, ["--points-grader", "--value-seed", str(seed)] + todo, log_path, limits,
                           os.path.join(workdir, "output-{}.txt".format(attempt)), sandbox,
                           os.path.join(workdir, "run-{}".format(attempt)), python, notes)
        log = read_log(log_path)
        for nodeid, result in log.outcomes.items():
            if nodeid in todo:
                outcomes[nodeid] = result
        for error in log.errors:
            for nodeid in todo:
                if nodeid not in outcomes and nodeid.startswith(error["nodeid"] + "::"):
                    outcomes[nodeid] = {"outcome": "failed", "properties": {},
                                        "message": "the test file could not be imported: " + error["message"]}
        if verdict == "finished":
            for nodeid in todo:
                # Not run although asked for: a task that had failed already, or a test the run never reached.
                outcomes.setdefault(nodeid, {"outcome": "skipped", "message": "not run", "properties": {}})
            continue
        reason = {"timeout": "the test run was stopped after {:.0f} s".format(time.time() - started),
                  "disk": "the test run was stopped: it wrote more to disk than a run may"}.get(
            verdict, "the test process " + verdict)
        notes.append("run {}: {}{}".format(attempt, reason, " in " + log.running if log.running else ""))
        if log.running and log.running in todo:
            outcomes[log.running] = {"outcome": "failed", "message": "{} during this test".format(reason),
                                     "properties": {}}
            queue.insert(0, todo)
        elif log.outcomes:
            queue.insert(0, todo)  # it ended between tests: go on with the rest
        else:
            files = OrderedDict()
            for nodeid in todo:
                files.setdefault(nodeid.split("::")[0], []).append(nodeid)
            if len(files) > 1:
                queue[0:0] = list(files.values())  # find the file whose import hangs or crashes
            else:
                for nodeid in todo:
                    outcomes.setdefault(nodeid, {"outcome": "failed", "properties": {},
                                                 "message": "{} before any test started".format(reason)})
    return {"outcomes": outcomes, "notes": notes, "runs": attempt}


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
