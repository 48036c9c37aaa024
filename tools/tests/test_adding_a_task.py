"""Adding a task, as docs/instructor.md's "Adding a task" says, in a temporary copy of this repository: a gap in
`Tanh.backward` worth 1 point. It takes exactly four edits: the gap, one registry row, one test file and one value
check. Then the handout, the student's points table, the grader (tests and value check), the CSV and Gradescope's
results.json all know the task; make_handout refuses the task without its value check, and refuses a task whose
tests use another task's gap without declaring it.
"""
import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from grading.tasks import CODE_TASKS, total
from tools import handout

REPO = handout.REPO
pytestmark = pytest.mark.timeout(600)
# The new task's number and what the registry's totals become with its 1 point: every figure below comes from it.
NUMBER = len(CODE_TASKS) + 1
NUMBERS_TWICE = [task.number for task in CODE_TASKS] + [NUMBER - 1]

# 1. the gap: Tanh.backward's body between the markers, with its instructions.
GAP = '''        h = self.input_cache
        # START TODO ################
        # Return dL/dz = dL/dh * (1 - h^2), h = tanh(z) as forward() cached it. One vectorised line.
        return grad * (1 - h * h)
        # END TODO ##################
'''
# 2. one row of the registry.
ROW = '''    Task("tanh_backward", {}, "Tanh.backward", 1, "code", "Tanh.backward", "lib/activations.py", ()),
'''.format(NUMBER)
# 3. one test file.
TESTS = '''"""Graded tests of the new task, Tanh.backward."""
import sys

import numpy as np
import pytest

from lib.activations import Tanh
from tests.helpers import check_array


@pytest.mark.tanh_backward
def test_tanh_backward_small_numbers():
    tanh = Tanh()
    tanh(np.array([[0.0, 1.0], [-2.0, 0.5]]))
    grad = np.array([[1.0, 2.0], [3.0, -1.0]])
    h = np.tanh(np.array([[0.0, 1.0], [-2.0, 0.5]]))
    check_array("Tanh.backward(grad)", tanh.backward(grad), grad * (1 - h ** 2))
{extra}

if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
'''
# A test that also uses ReLU.backward (task 2's gap), which the row does not declare in its needs.
UNDECLARED = '''

@pytest.mark.tanh_backward
def test_tanh_after_relu():
    from lib.activations import ReLU
    relu, tanh = ReLU(), Tanh()
    tanh(relu(np.array([1.0, -1.0])))
    assert relu.backward(tanh.backward(np.ones(2))).shape == (2,)
'''
# 4. one value check.
CHECK = '''

@value_check("tanh_backward")
def tanh_backward_check(rng):
    from lib.activations import Tanh
    tanh = Tanh()
    z = rng.normal(size=(int(rng.integers(1, 6)), 3))
    tanh(z)
    grad = rng.normal(size=z.shape)
    return {"dL/dz": tanh.backward(grad), "dL/dz again": tanh.backward(grad)}
'''


def copy_repository(target):
    shutil.copytree(REPO, str(target), ignore=shutil.ignore_patterns(".git", "__pycache__", "results", "*.pyc"))
    return target


def add_task(root, check=True, tests_extra="", tests=TESTS, row=ROW):
    """The four edits; returns the files they touched."""
    path = root / "lib" / "activations.py"
    text = path.read_text(encoding="utf-8")
    old = "        h = self.input_cache\n        return grad * (1 - h * h)\n"
    assert text.count(old) == 1
    path.write_text(text.replace(old, GAP), encoding="utf-8")
    tasks = root / "grading" / "tasks.py"
    text = tasks.read_text(encoding="utf-8")
    anchor = '    Task("code_style"'
    tasks.write_text(text.replace(anchor, row + anchor, 1), encoding="utf-8")
    (root / "tests" / "test_tanh_backward.py").write_text(tests.replace("{extra}", tests_extra), encoding="utf-8")
    touched = ["lib/activations.py", "grading/tasks.py", "tests/test_tanh_backward.py"]
    if check:
        with open(str(root / "grading" / "checks.py"), "a", encoding="utf-8") as file:
            file.write(CHECK)
        touched.append("grading/checks.py")
    return touched


def run(args, cwd, timeout=300):
    return subprocess.run([sys.executable] + args, cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=timeout, env=dict(os.environ, MPLBACKEND="Agg"))


def test_a_new_task_reaches_the_handout_the_points_table_the_grader_csv_and_results_json(tmp_path):
    root = copy_repository(tmp_path / "master")
    assert len(add_task(root)) == 4
    made = run(["tools/make_handout.py", str(tmp_path / "handout")], root)
    assert made.returncode == 0, made.stdout
    readme = (tmp_path / "handout" / "README.md").read_text(encoding="utf-8")
    assert "| {} | `Tanh.backward` | `lib/activations.py` | 1 | `python -m pytest -m tanh_backward` |".format(
        NUMBER) in readme
    code = total("code") + 1
    assert "Coding tasks 1 to {} (table above) | {} |".format(NUMBER, code) in readme
    assert "worth {} points".format(code + total("tutor")) in readme
    # make_handout rendered the master's README too: its blocks are the handout's (test_readme's check holds).
    master = (root / "README.md").read_text(encoding="utf-8")
    assert "rendered anew" in made.stdout and "Coding tasks 1 to {} (table above)".format(NUMBER) in master
    # The student's points table, in the handout: the new task fails with its own one-line message.
    table = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "tanh_backward"], tmp_path / "handout")
    assert "{}  Tanh.backward".format(NUMBER) in table.stdout, table.stdout
    assert "Tanh.backward is not implemented yet" in table.stdout, table.stdout

    # A solution (every gap of the master filled) and a forge that says "passed" but computes the wrong thing.
    solution = tmp_path / "solution"
    shutil.copytree(str(tmp_path / "handout"), str(solution))
    for path in ("lib/activations.py", "lib/network.py", "lib/losses.py", "lib/gradient_utilities.py",
                 "lib/experiments.py"):
        shutil.copyfile(str(root / path), str(solution / path))
    wrong = tmp_path / "wrong_tanh"
    shutil.copytree(str(solution), str(wrong))
    path = wrong / "lib" / "activations.py"
    path.write_text(path.read_text(encoding="utf-8").replace("        return grad * (1 - h * h)\n",
                                                             "        return grad * (1 - h)\n"), encoding="utf-8")
    graded = run(["tools/grade.py", str(solution), str(wrong), "--jobs", "2", "--csv", str(tmp_path / "grades.csv"),
                  "--sandbox", os.environ.get("GRADE_TEST_SANDBOX", "auto")], root)
    assert graded.returncode == 0, graded.stdout
    with open(str(tmp_path / "grades.csv"), newline="", encoding="utf-8") as file:
        rows = {row["name"]: row for row in csv.DictReader(file)}
    assert rows["solution"]["tanh_backward"] == "1" and rows["wrong_tanh"]["tanh_backward"] == "0", graded.stdout
    # The task's neighbours keep their points: nothing else uses Tanh.backward.
    assert rows["wrong_tanh"]["sequential_backward"] == "1", graded.stdout
    one = run(["tools/grade.py", str(solution), "--json", str(tmp_path / "results.json"), "--sandbox",
               os.environ.get("GRADE_TEST_SANDBOX", "auto")], root)
    assert one.returncode == 0, one.stdout
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    task = next(test for test in results["tests"] if test["name"].startswith("Task {}: Tanh.backward".format(NUMBER)))
    assert task["score"] == 1 and task["max_score"] == 1


def test_a_task_without_a_value_check_is_refused_by_name(tmp_path):
    root = copy_repository(tmp_path / "master")
    add_task(root, check=False)
    made = run(["tools/make_handout.py", str(tmp_path / "handout")], root)
    assert made.returncode == 1
    assert "task {} (tanh_backward) has no value check".format(NUMBER) in made.stdout, made.stdout


def test_a_task_whose_tests_use_an_undeclared_gap_is_refused(tmp_path):
    root = copy_repository(tmp_path / "master")
    add_task(root, tests_extra=UNDECLARED)
    made = run(["tools/make_handout.py", str(tmp_path / "handout")], root)
    assert made.returncode == 1
    assert "test_tanh_after_relu" in made.stdout and "only the gaps task tanh_backward declares" in made.stdout, \
        made.stdout


@pytest.mark.parametrize("case, tests, row, expected", [
    ("no test marked for it", TESTS.replace("@pytest.mark.tanh_backward\n", ""), ROW,
     "task {} (tanh_backward) has no graded test: mark its tests with @pytest.mark.tanh_backward".format(NUMBER)),
    ("a misspelt marker", TESTS.replace("@pytest.mark.tanh_backward", "@pytest.mark.tanh_bakward"), ROW,
     "'tanh_bakward' not found in `markers` configuration option"),
    ("a number taken twice", TESTS, ROW.replace(", {}, ".format(NUMBER), ", {}, ".format(NUMBER - 1)),
     "the code tasks are numbered {}, expected 1 to {}".format(NUMBERS_TWICE, NUMBER)),
    ("no registry row", TESTS, "",
     "tanh_backward_check is registered with @value_check('tanh_backward'), but grading/tasks.py has no code "
     "task 'tanh_backward': add its row to TASKS"),
], ids=["no test", "misspelt marker", "number twice", "no row"])
def test_the_registry_is_refused_where_it_does_not_match_the_tests(tmp_path, case, tests, row, expected):
    # Before, a task whose only graded item was its value check passed make_handout, and the grader then gave the
    # reference solution 0 for it; a misspelt marker left its test out of every task.
    root = copy_repository(tmp_path / "master")
    add_task(root, tests=tests, row=row)
    made = run(["tools/make_handout.py", str(tmp_path / "handout")], root)
    assert made.returncode == 1 and expected in made.stdout, made.stdout
    assert not (tmp_path / "handout").exists()


def test_a_stand_in_that_is_the_new_gaps_answer_is_refused(tmp_path):
    # Where other tasks' tests use the new gap, they get a stand-in (grading/stand_ins.py); written from the
    # answer, it would ship the answer to every student.
    root = copy_repository(tmp_path / "master")
    add_task(root)
    with open(str(root / "grading" / "stand_ins.py"), "a", encoding="utf-8") as file:
        file.write("\n\nclass TanhStandIn:\n    def backward(self, grad):\n        h = self.input_cache\n"
                   "        return grad * (1 - h * h)\n")
    made = run(["tools/make_handout.py", str(tmp_path / "handout")], root)
    assert made.returncode == 1, made.stdout
    assert "grading/stand_ins.py:" in made.stdout and "this code is Tanh.backward's reference solution" in \
        made.stdout, made.stdout
    assert not (tmp_path / "handout").exists()
