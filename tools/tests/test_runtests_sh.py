"""./runtests.sh on a real handout, with a real Python: a gap that ends Python (os._exit(0), a segfault) cannot make
it say "all passed", and a gap that prints megabytes on every call leaves a bounded output with one points table.
(runtests.bat is tested under Wine with stand-ins: tools/tests/test_runtests_bat.py.)"""
import os
import subprocess
import sys

import pytest

from tools.tests.test_endless_loop import handout_with

pytestmark = pytest.mark.timeout(300)
ENDED = ("runtests: FAILED: the test run ended during tests/test_activations.py::{} before it printed the points "
         "table (os._exit, a crash, or a time-out that ended Python)")


def runtests(root, *arguments):
    return subprocess.run(["bash", "runtests.sh", "-q", "-p", "no:cacheprovider"] + list(arguments), cwd=str(root),
                          env=dict(os.environ, PYTHON=sys.executable), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=240)


@pytest.mark.parametrize("body", ["        import os\n        os._exit(0)",
                                  "        import os, signal\n        os.kill(os.getpid(), signal.SIGSEGV)"],
                         ids=["os._exit(0)", "a segfault"])
def test_a_gap_that_ends_python_fails_with_one_line_naming_the_test(tmp_path, body):
    done = runtests(handout_with(tmp_path, body), "-m", "relu_backward")
    last = done.stdout.rstrip().splitlines()[-1]
    assert done.returncode == 1, done.stdout[-3000:]
    assert last.startswith(ENDED.split("{}")[0]) and last.endswith(ENDED.split("{}")[1]), last
    assert "runtests: all passed" not in done.stdout


def test_a_gap_that_prints_megabytes_leaves_a_bounded_output_and_one_table(tmp_path):
    body = ("        import sys\n        print('x' * 5000000)\n        print('y' * 5000000, file=sys.stderr)\n"
            "        return grad")
    done = runtests(handout_with(tmp_path, body), "-m", "relu_backward")
    assert done.returncode == 1
    assert len(done.stdout) < 300000, len(done.stdout)
    assert done.stdout.count("points of exercise 3") == 1, done.stdout[-3000:]
    assert "more characters that this test printed were cut]" in done.stdout
    relu = next(line for line in done.stdout.splitlines() if line.strip().startswith("2  ReLU.backward"))
    assert "0 / 1" in relu, relu


@pytest.mark.parametrize("selection, noted", [
    (["tests/test_network.py::test_linear_backward_small_numbers"], True), (["-k", "small_numbers"], True),
    (["tests/test_network.py"], True), (["-m", "relu_backward"], False)],
    ids=["one test", "-k", "one file", "-m a task"])
def test_a_run_of_named_tests_says_that_its_rows_count_only_those(selection, noted):
    # A wrong Linear.backward shows "2 / 2 passed" when one test of it that passes is run by name: the note under
    # the table says what the row counts.
    from grading.plugin import SELECTION_NOTE
    from tools.handout import REPO

    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"] + selection,
                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=dict(os.environ, MPLBACKEND="Agg"), timeout=600)
    assert "points of exercise 3" in done.stdout, done.stdout[-2000:]
    assert (SELECTION_NOTE.splitlines()[0] in done.stdout) == noted, done.stdout[-1500:]
