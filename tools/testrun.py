"""Running the graded tests of one rebuilt tree in child processes that student code cannot take down with it.

Each run is one `python -m pytest` process, started through a sandbox (tools/sandbox.py) with limits on CPU
time, memory, file size and processes and a per-test timeout. The points plugin (grading/plugin.py) writes one
JSON line per test, as it starts and as it ends, to a log file that the grader opened and passes down as a file
descriptor; the score is read from that log, never from what the process prints. If a process dies or hangs
mid-run, the test it was running fails and a new process runs the tests that had not run yet, so a crash costs
only the task of the test that crashed. Visible tests run before hidden ones, so that nothing a hidden test gave
the code can come back in a visible test's message.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict, namedtuple
from typing import Dict, List, Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from grading.points import is_hidden  # noqa: E402  (the repository root must be importable first)
from grading.tasks import CODE_TASKS  # noqa: E402
from tools import sandbox as sandboxes  # noqa: E402

# collected: {node id: task key}; outcomes: {node id: {"outcome", "message", "headline"}}; running: the node id
# that started last without a result (the one a crash or hang happened in); errors: collection errors.
LogResult = namedtuple("LogResult", "collected outcomes running errors finished")

Limits = namedtuple("Limits", "per_test_seconds run_seconds cpu_seconds memory_mb file_mb")
DEFAULT_LIMITS = Limits(per_test_seconds=10, run_seconds=150, cpu_seconds=150, memory_mb=4096, file_mb=64)
# Seconds the log may stay silent beyond a test's own timeout (start-up and collection write nothing for a while).
IDLE_MARGIN = 10


def marker_expression() -> str:
    """The -m expression that selects every graded test."""
    return " or ".join(task.key for task in CODE_TASKS)


def graded_test_files(root: str) -> List[str]:
    """Test files under root/tests that mark a test with a task's marker: the visible ones, then tests/hidden/."""
    pattern = re.compile(r"pytest\.mark\.({})\b".format("|".join(task.key for task in CODE_TASKS)))
    found = []
    for directory, subdirectories, names in os.walk(os.path.join(root, "tests")):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        for name in sorted(names):
            if name.startswith("test_") and name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8", errors="replace") as file:
                    if pattern.search(file.read()):
                        found.append(os.path.relpath(path, root).replace(os.sep, "/"))
    return sorted(found, key=is_hidden)  # stable: visible files first, each group in walk order


def read_log(path: str) -> LogResult:
    collected, outcomes, errors, running, finished = OrderedDict(), OrderedDict(), [], None, False
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                if not isinstance(event, dict):
                    continue
                kind = event.get("event")
                if kind == "collected":
                    collected.update(event.get("tests", {}))
                elif kind == "start":
                    running = event.get("nodeid")
                elif kind == "result" and isinstance(event.get("nodeid"), str):
                    outcomes[event["nodeid"]] = {"outcome": event.get("outcome", "failed"),
                                                 "message": str(event.get("message", "")),
                                                 "headline": str(event.get("headline", ""))}
                    if running == event["nodeid"]:
                        running = None
                elif kind == "collect_error":
                    errors.append(event)
                elif kind == "finish":
                    finished = True
    return LogResult(collected, outcomes, running, errors, finished)


def pytest_arguments(log_fd: int, limits: Limits, extra: List[str]) -> List[str]:
    # -I: no current folder on sys.path at start-up and no PYTHON* variables; -B: no .pyc files.
    return ([sys.executable, "-I", "-B", "-m", "pytest", "-p", "pytest_timeout", "-p", "no:cacheprovider",
             "-c", "setup.cfg", "--rootdir", ".", "-q", "--tb=short", "--no-header", "-W", "ignore",
             "--continue-on-collection-errors", "--timeout", str(limits.per_test_seconds),
             "--points-log-fd", str(log_fd)] + extra)


def run_once(root: str, args: List[str], log_path: str, limits: Limits, output_path: str,
             sandbox: Optional[sandboxes.Sandbox] = None, scratch: Optional[str] = None) -> str:
    """One pytest process on the tree root, in the sandbox; returns "finished", "timeout" or "died (...)".

    The results are in log_path. Every process of the run is gone when this returns.
    """
    verdict, returncode = run_watched(root, lambda log_fd: pytest_arguments(log_fd, limits, args), log_path,
                                      output_path, limits, sandbox, scratch)
    if verdict:
        return verdict
    if returncode < 0:
        return "died (signal {})".format(-returncode)
    return "finished" if read_log(log_path).finished else "died (exit code {})".format(returncode)


def run_watched(root: str, command_for, report_path: str, output_path: str, limits: Limits,
                sandbox: Optional[sandboxes.Sandbox] = None, scratch: Optional[str] = None) -> tuple:
    """Run command_for(fd) in the sandbox on the tree root, where fd is report_path opened for appending and
    passed down; watch the report (see watch()). Returns (None or "timeout", the exit code). Every process of
    the run is gone when this returns."""
    sandbox = sandbox or sandboxes.Sandbox("none")
    scratch = scratch or tempfile.mkdtemp(prefix="testrun-")
    env = sandbox.environment(sandbox.prepare(scratch))
    report_fd = os.open(report_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        with open(output_path, "ab") as output:
            process = sandbox.launch(root, scratch, command_for(report_fd), limits, env, output,
                                     pass_fds=(report_fd,))
            try:
                verdict = watch(process, report_path, limits)
            finally:
                # Whatever the run started in its session goes too; the sandbox reaps the rest.
                sandboxes.kill_group(process)
                process.wait()
    finally:
        os.close(report_fd)
        sandbox.reap()
    return verdict, process.returncode


def watch(process: subprocess.Popen, log_path: str, limits: Limits) -> Optional[str]:
    """Wait for the run to end; "timeout" if it takes longer than run_seconds, or if the log stays silent for
    longer than a test may take (per_test_seconds plus IDLE_MARGIN): code that swallows pytest-timeout's
    exception keeps its test from ending, but not the run."""
    started = last_change = time.time()
    last_size = -1
    while True:
        try:
            process.wait(timeout=0.2)
            return None
        except subprocess.TimeoutExpired:
            pass
        now = time.time()
        size = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        if size != last_size:
            last_size, last_change = size, now
        if now - started > limits.run_seconds or now - last_change > limits.per_test_seconds + IDLE_MARGIN:
            return "timeout"


def describe(nodeid: str) -> str:
    """A test's name for a report that students see: a hidden test stays anonymous."""
    return "a hidden test" if is_hidden(nodeid) else nodeid


def run_graded_tests(root: str, expected: Dict[str, str], limits: Limits = DEFAULT_LIMITS,
                     workdir: Optional[str] = None, stop_task_on_failure: bool = True,
                     sandbox: Optional[sandboxes.Sandbox] = None, skip_tasks=()) -> dict:
    """Run the tests `expected` ({node id: task key}) in root until each has a result; returns the outcomes.

    A test whose process crashed, exited or hung while it ran fails with that reason; the tests after it
    run in a new process. Tests of a task that already failed are not run again (no partial credit), and
    neither are the tests of the tasks in skip_tasks (their gap was not run).
    """
    workdir = workdir or tempfile.mkdtemp(prefix="testrun-")
    os.makedirs(workdir, exist_ok=True)
    outcomes, notes = OrderedDict(), []
    ordered = sorted(expected, key=is_hidden)  # visible tests first
    queue = [ordered]  # groups of node ids still to run; split by file if a run never starts
    attempt = 0
    while queue:
        group = queue.pop(0)
        failed_tasks = {expected[n] for n, o in outcomes.items() if o["outcome"] != "passed"} | set(skip_tasks)
        todo = [n for n in group if n not in outcomes and
                not (stop_task_on_failure and expected[n] in failed_tasks)]
        if not todo:
            continue
        attempt += 1
        log_path = os.path.join(workdir, "log-{}.jsonl".format(attempt))
        extra = ["--points-grader"] if stop_task_on_failure else []
        started = time.time()
        run_scratch = os.path.join(workdir, "run-{}".format(attempt))
        os.makedirs(run_scratch)
        verdict = run_once(root, extra + todo, log_path, limits, os.path.join(workdir, "output-{}.txt".format(attempt)),
                           sandbox, run_scratch)
        log = read_log(log_path)
        for nodeid, result in log.outcomes.items():
            if nodeid in expected:
                outcomes[nodeid] = result
        for error in log.errors:
            for nodeid in todo:
                if nodeid not in outcomes and nodeid.startswith(str(error.get("nodeid")) + "::"):
                    outcomes[nodeid] = {"outcome": "failed",
                                        "message": "the test file could not be imported: " + str(error.get("message"))}
        if verdict == "finished":
            for nodeid in todo:
                # Not run although asked for: a task that had failed already, or a test the run never reached.
                outcomes.setdefault(nodeid, {"outcome": "skipped", "message": "not run"})
            continue
        reason = {"timeout": "the test run was stopped after {:.0f} s".format(time.time() - started)}.get(
            verdict, "the test process " + verdict)
        notes.append("run {}: {}{}".format(attempt, reason, " in " + describe(log.running) if log.running else ""))
        if log.running and log.running in expected:
            outcomes[log.running] = {"outcome": "failed", "message": "{} during this test".format(reason)}
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
                    outcomes.setdefault(nodeid, {"outcome": "failed",
                                                 "message": "{} before any test started".format(reason)})
    return {"outcomes": outcomes, "notes": notes, "runs": attempt}


ORACLE_COMMAND = "import sys; sys.path.insert(0, '.'); from grading import oracle; sys.exit(oracle.main())"
ORACLE_SECONDS = 60
ORACLE_BYTES = 4 * 1024 * 1024


def run_oracle(root: str, seed: int, limits: Limits, scratch: str,
               sandbox: Optional[sandboxes.Sandbox] = None) -> dict:
    """grading/oracle.py on the tree root, in the sandbox: {task key: result}. A case that hangs or crashes the
    process gets {"error": ...}, and the cases after it run in a new process, as the tests do. Every process of
    it is gone when this returns."""
    from grading import oracle

    sandbox = sandbox or sandboxes.Sandbox("none")
    results, remaining, attempt = {}, sorted(oracle.CASES), 0
    while remaining and attempt < len(oracle.CASES):
        attempt += 1
        run_scratch = os.path.join(scratch, "run-{}".format(attempt))
        out_path = os.path.join(run_scratch, "oracle.jsonl")
        os.makedirs(run_scratch, exist_ok=True)
        run_watched(root, lambda out_fd: [sys.executable, "-I", "-B", "-c", ORACLE_COMMAND, "--seed", str(seed),
                                          "--fd", str(out_fd), "--tasks", ",".join(remaining), "--seconds",
                                          str(int(limits.per_test_seconds))],
                    out_path, os.path.join(run_scratch, "output.txt"), limits._replace(run_seconds=ORACLE_SECONDS),
                    sandbox, run_scratch)
        with open(out_path, "rb") as file:
            finished, running = oracle.read_lines(file.read(ORACLE_BYTES).decode("utf-8", errors="replace"))
        results.update((key, value) for key, value in finished.items() if key in remaining)
        if running in remaining:
            results[running] = {"error": "the process ended or hung while this case ran"}
        elif not finished:
            # No case started, so no student code ran: the grader itself failed. Say so instead of scoring 0.
            with open(os.path.join(run_scratch, "output.txt"), encoding="utf-8", errors="replace") as file:
                raise RuntimeError("the grader's check (grading/oracle.py) did not start: " + file.read()[-500:])
        remaining = [key for key in remaining if key not in results]
    for key in remaining:
        results[key] = {"error": "not run"}
    return results


def collect_graded_tests(root: str, workdir: str, limits: Limits = DEFAULT_LIMITS) -> Dict[str, str]:
    """{node id: task key} of every graded test in root (our own tree: no sandbox needed to collect it)."""
    log_path = os.path.join(workdir, "collect.jsonl")
    verdict = run_once(root, ["--collect-only", "-m", marker_expression()] + graded_test_files(root), log_path,
                       limits, os.path.join(workdir, "collect-output.txt"), scratch=os.path.join(workdir, "collect"))
    log = read_log(log_path)
    if verdict != "finished" or log.errors or not log.collected:
        with open(os.path.join(workdir, "collect-output.txt"), encoding="utf-8", errors="replace") as file:
            output = file.read()[-3000:]
        raise RuntimeError("collecting the graded tests in {} failed ({}):\n{}".format(root, verdict, output))
    return dict(log.collected)
