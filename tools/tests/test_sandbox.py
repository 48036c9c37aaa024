"""The sandbox on its own, with the policy switched off: gap code that does what the policy forbids still cannot
read the master repository, a classmate's copy or the grader's command line, write outside its scratch folder,
reach the network, or leave a process behind.

Each attack sits in the ReLU.backward gap of an otherwise complete solution and returns the correct gradient only
if its forbidden action succeeded, so that task 2's points say whether it did. The policy would refuse every one
of them before it ran (tools/tests/test_grade.py shows that); here the grader is told not to check it
(Grader(check_policy=False), which the command line does not offer).
"""
import os
import socket
import tempfile
import threading
import time

import pytest

from grading.gaps import fill_gaps
from grading.tasks import TASKS_BY_KEY
from tools import grade, handout, sandbox as sandboxes, testrun
from tools.tests.gap_catalogue import indented

pytestmark = pytest.mark.timeout(300)
REPO = handout.REPO
LIMITS = testrun.DEFAULT_LIMITS._replace(per_test_seconds=20)
RELU = TASKS_BY_KEY["relu_backward"]
CORRECT = "return grad * (h > 0)"


def write_solution(target, relu_body):
    """The reference solution with the given ReLU.backward body."""
    files = handout.build_handout(cut=False)
    text = files[RELU.file].decode("utf-8")
    files[RELU.file] = fill_gaps(text, {RELU.gap: indented("relu_backward", relu_body)}).encode("utf-8")
    handout.write_files(files, str(target))
    return str(target)


def attack(action: str) -> str:
    """A ReLU.backward body that returns the right gradient only if `action` (code that must fail) succeeds."""
    return "import os\ntry:\n{}\nexcept Exception:\n    raise RuntimeError('blocked')\n{}".format(
        "\n".join("    " + line for line in action.strip("\n").splitlines()), CORRECT)


@pytest.fixture(scope="module")
def sandbox():
    # .ci/run sets GRADE_TEST_SANDBOX (bwrap, or user for the fallback): then a sandbox that cannot run fails
    # these tests instead of skipping them.
    required = os.environ.get("GRADE_TEST_SANDBOX")
    try:
        return sandboxes.choose(required or "auto", LIMITS)
    except sandboxes.SandboxError as error:
        if required:
            raise
        pytest.skip("no sandbox runs on this machine: {}".format(error))


@pytest.fixture(scope="module")
def grader(sandbox):
    grader = grade.Grader(LIMITS, sandbox, check_policy=False)
    yield grader
    grader.close()


def relu_points(result) -> int:
    assert result["error"] is None, result.get("traceback")
    return next(row.points for row in result["rows"] if row.task.key == "relu_backward")


def test_a_harmless_body_runs_when_the_policy_is_off(grader, tmp_path):
    # The control: the same wrapping around an action that is allowed earns the points.
    result = grader.grade(write_solution(tmp_path / "control", attack("x = len('allowed')")))
    assert relu_points(result) == 1 and sum(row.points or 0 for row in result["rows"]) >= 9


@pytest.mark.parametrize("name, action", [
    ("read the master repository", "open({!r}).read()".format(os.path.join(REPO, "tools", "grade.py"))),
    ("list the master repository", "assert 'tools' in os.listdir({!r})".format(REPO)),
    ("read the reference solution", "assert 'grad * (h > 0)' in open({!r}).read()".format(
        os.path.join(REPO, RELU.file))),
    ("find the master repository in the grader's command line",
     "lines = [open('/proc/%d/cmdline' % pid, 'rb').read() for pid in (os.getppid(), 1)]\n"
     "assert any({!r} in line or b'/grade-' in line for line in lines)".format(REPO.encode())),
    ("write into the master repository", "open({!r}, 'a').write('# tampered')".format(
        os.path.join(REPO, "conftest.py"))),
])
def test_the_sandbox_stops(grader, tmp_path, name, action):
    before = open(os.path.join(REPO, "conftest.py"), "rb").read()
    result = grader.grade(write_solution(tmp_path / "attack", attack(action)))
    assert relu_points(result) == 0, "the gap could {}".format(name)
    assert open(os.path.join(REPO, "conftest.py"), "rb").read() == before


def test_files_written_to_tmp_stay_in_the_sandbox(grader, tmp_path):
    # Under bubblewrap /tmp is the run's own; as a separate user, its files there are removed after the run.
    escape = os.path.join(tempfile.gettempdir(), "exercise3-sandbox-escape-{}".format(os.getpid()))
    grader.grade(write_solution(tmp_path / "writer", "open({!r}, 'w').write('x')\n{}".format(escape, CORRECT)))
    assert not os.path.exists(escape)


def test_the_network_is_unreachable(grader, sandbox, tmp_path):
    if sandbox.mode != "bwrap":
        pytest.skip("only bubblewrap takes the network away (the separate-user fallback does not)")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    port = server.getsockname()[1]
    try:
        action = "import socket\nsocket.create_connection(('127.0.0.1', {}), timeout=2).close()".format(port)
        result = grader.grade(write_solution(tmp_path / "network", attack(action)))
    finally:
        server.close()
    assert relu_points(result) == 0


def test_a_classmates_copy_cannot_be_read_while_both_are_graded(grader, tmp_path):
    # Two submissions at once (as --jobs 2 does): the spy looks for any other rebuilt tree for a few seconds.
    pattern = os.path.join(os.path.realpath(tempfile.gettempdir()), "grade-*", "submission-*", "tree", "lib",
                           "activations.py")
    spy = attack("import glob, time\n"
                 "for attempt in range(40):\n"
                 "    found = [p for p in glob.glob({!r}) if not p.startswith(os.getcwd())]\n"
                 "    if found:\n"
                 "        break\n"
                 "    time.sleep(0.1)\n"
                 "assert found".format(pattern))
    slow = "import time\ntime.sleep(0.5)\n" + CORRECT
    paths = [write_solution(tmp_path / "spy", spy), write_solution(tmp_path / "classmate", slow)]
    results = {}
    threads = [threading.Thread(target=lambda path=path: results.update({path: grader.grade(path)}))
               for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert relu_points(results[paths[0]]) == 0
    assert relu_points(results[paths[1]]) == 1


def test_no_process_outlives_the_run(grader, tmp_path):
    token = "exercise3-daemon-{}".format(os.getpid())
    daemon = ("import os, sys\n"
              "if os.fork() == 0:\n"
              "    os.setsid()\n"
              "    if os.fork() == 0:\n"
              "        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(30)', {!r}])\n"
              "    os._exit(0)\n".format(token))
    # The daemon's start does not need to fail: the test is that nothing of it is left once grading returns.
    body = "import os\n" + daemon + CORRECT
    grader.grade(write_solution(tmp_path / "daemon", body))
    time.sleep(0.5)
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/{}/cmdline".format(pid), "rb") as file:
                if token.encode() in file.read():
                    left.append(int(pid))
        except OSError:
            continue
    assert not left, "processes of the graded code survived the run: {}".format(left)


def test_a_swallowed_timeout_still_ends_the_run(sandbox, tmp_path):
    # A bare except: catches pytest-timeout's exception, so the test itself never ends; the grader's watch on
    # the log does. (The policy refuses a bare except:; this shows the second line of defence.)
    limits = LIMITS._replace(per_test_seconds=2)
    grader = grade.Grader(limits, sandbox, check_policy=False)
    try:
        body = "while True:\n    try:\n        while True:\n            pass\n    except:\n        pass"
        started = time.time()
        result = grader.grade(write_solution(tmp_path / "swallow", body))
        seconds = time.time() - started
    finally:
        grader.close()
    assert relu_points(result) == 0
    assert any("stopped after" in note for note in result["notes"]), result["notes"]
    assert seconds < limits.per_test_seconds + testrun.IDLE_MARGIN + 20, seconds
    assert sum(row.points or 0 for row in result["rows"]) >= 8, "the other tasks were graded"


@pytest.mark.parametrize("name, action", [
    ("compile a payload", "import builtins\nbuiltins.exec('import sys')"),
    ("read the hidden tests", "open('tests/hidden/test_hidden_backward.py').read()"),
    ("start a process", "import subprocess\nsubprocess.run(['true'])"),
    ("list every object of the process", "import gc\nassert gc.get_objects()"),
])
def test_the_test_process_refuses_what_no_gap_needs(grader, tmp_path, name, action):
    # grading/lockdown.py: an audit hook, behind the policy, while code from a gap runs.
    result = grader.grade(write_solution(tmp_path / "refused", attack(action)))
    assert relu_points(result) == 0, "the gap could {}".format(name)


FORGE = """import sys
recorder = sys.modules['grading.plugin'].PointsRecorder
if not getattr(recorder, 'forged', False):
    write = recorder.log

    def log(self, **event):
        if event.get('event') == 'result':
            event.update(outcome='passed', message='', headline='')
        write(self, **event)

    recorder.log = log
    recorder.forged = True
return grad
"""


def test_forged_test_outcomes_earn_nothing(grader, tmp_path):
    # The worst case: code in the test process that the policy did not stop (here it is off) rewrites every
    # outcome the points plugin logs. The tests then all "pass"; the grader's second verdict, the gap's outputs
    # on random inputs compared outside the process (grading/oracle.py), does not.
    result = grader.grade(write_solution(tmp_path / "forger", FORGE))
    relu = next(row for row in result["rows"] if row.task.key == "relu_backward")
    assert relu.points == 0 and relu.detail.startswith("its tests passed, but "), relu
    assert sum(row.points or 0 for row in result["rows"] if row.task.kind == "code") == 8


def test_the_second_verdict_keeps_honest_points(grader, tmp_path):
    from tools.tests.gap_catalogue import CORRECT
    result = grader.grade(write_solution(tmp_path / "alternative", CORRECT["relu_backward"][0][1]))
    assert relu_points(result) == 1
    assert sum(row.points or 0 for row in result["rows"] if row.task.kind == "code") == 9
