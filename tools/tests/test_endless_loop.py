"""An endless loop in one gap, as a student meets it in their own run, where pytest-timeout is the per-test limit:
- with its signal method (Linux, macOS) the loop costs about one test's time limit, the run goes on and the points
  table is printed;
- with its thread method (the only one on Windows) pytest-timeout ends the run, and runtests says so in one line
  that names the test.
(The grader keeps its own limits, outside the student's process: tools/tests/test_watchdog.py.)"""
import os
import subprocess
import sys
import time

import pytest

from tools import handout

LIMIT = 3
pytestmark = pytest.mark.timeout(300)

LOOPS = {"loop": "        while True:\n            pass"}


def handout_with(tmp_path, body, path="lib/activations.py", gap="ReLU.backward"):
    root = tmp_path / "handout"
    handout.write_files(handout.build_handout(cut=True), str(root))
    path = root / path
    indent = "        " if "." in gap else "    "
    path.write_text(path.read_text(encoding="utf-8").replace(
        '{}raise NotImplementedError("{} is not implemented yet")'.format(indent, gap),
        "\n".join(line[8 - len(indent):] for line in body.splitlines())), encoding="utf-8")
    return root


def run(root, method):
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout", str(LIMIT),
                           "--timeout-method", method], cwd=str(root), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=240)
    return done, time.time() - started


def test_an_endless_loop_costs_one_time_limit_and_the_points_table_prints(tmp_path):
    done, seconds = run(handout_with(tmp_path, LOOPS["loop"]), "signal")
    print("signal: {:.1f} s".format(seconds))
    assert "points of exercise 3" in done.stdout, done.stdout
    relu = next(line for line in done.stdout.splitlines() if line.strip().startswith("2  ReLU.backward"))
    assert "Timeout" in relu and "failed at test " in relu, relu
    # The other tasks' tests ran: each fails with its own gap's message.
    assert "Linear.backward is not implemented yet" in done.stdout
    assert "not run: test_" in done.stdout and "of the same task timed out" in done.stdout
    assert seconds < LIMIT + 30, seconds


def test_with_the_thread_method_runtests_names_the_test_the_run_ended_in(tmp_path):
    root = handout_with(tmp_path, LOOPS["loop"])
    started = time.time()
    done = subprocess.run(["bash", "runtests.sh", "-q", "-p", "no:cacheprovider", "--timeout", str(LIMIT),
                           "--timeout-method", "thread"], cwd=str(root), env=dict(os.environ, PYTHON=sys.executable),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=240)
    print("thread: {:.1f} s".format(time.time() - started))
    last = done.stdout.rstrip().splitlines()[-1]
    assert done.returncode == 1, done.stdout
    assert last.startswith("runtests: FAILED: the test run ended during tests/test_activations.py::test_relu"), last
    assert last.endswith("before it printed the points table (os._exit, a crash, or a time-out that ended Python)")
    assert time.time() - started < LIMIT + 60


def test_a_looping_gap_that_many_tests_call_costs_one_time_limit(tmp_path):
    # zero_grad is called by the tests of several tasks (SGD, train, the PyTorch comparison): after its first
    # timeout it raises at once, naming the test where it looped.
    done, seconds = run(handout_with(tmp_path, LOOPS["loop"], "lib/gradient_utilities.py", "zero_grad"), "signal")
    print("zero_grad, signal: {:.1f} s".format(seconds))
    assert "zero_grad ran past its time limit in test_" in done.stdout, done.stdout
    assert done.stdout.count("Timeout (>") <= 2, done.stdout
    assert seconds < LIMIT + 30, seconds
