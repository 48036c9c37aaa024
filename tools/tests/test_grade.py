"""tools/grade.py on made-up submissions: the handout, the solution, one gap at a time, and ones that cheat or crash.

All submissions are graded by one run of grade.py with --jobs 2 (the module fixture), the way a class is.
"""
import csv
import json
import os
import re
import subprocess
import sys
import time
import zipfile

import pytest

from grading import points
from grading.tasks import CODE_TASKS, TASKS_BY_KEY
from tools import handout
from tools.gaps import fill_gaps, gap_bodies

REPO = handout.REPO
GRADE = os.path.join(REPO, "tools", "grade.py")
ALL_CODE_POINTS = sum(task.points for task in CODE_TASKS)
# Task 6 gradient-checks Sequential(Linear, Sigmoid, Linear): it needs Linear.backward and Sequential.backward
# (gaps 3 and 5). Every other task stands alone.
NEEDS = {"check_gradients": ["linear_backward", "sequential_backward"]}


def make_handout(target, fill=(), bodies=None):
    """The handout in target, with the gaps of the tasks in `fill` taken from the solution (or from `bodies`)."""
    files = handout.build_handout(cut=True)
    solution = handout.build_handout(cut=False)
    for key in fill:
        task = TASKS_BY_KEY[key]
        text = files[task.file].decode("utf-8")
        body = (bodies or {}).get(task.gap)
        if body is None:
            body = gap_bodies(solution[task.file].decode("utf-8"))[task.gap]
        files[task.file] = fill_gaps(text, {task.gap: body}).encode("utf-8")
    handout.write_files(files, str(target))
    return target


def in_gap(task_key, *lines):
    """Gap body lines at the gap's indentation (methods are indented 8 spaces, functions 4)."""
    indent = " " * (8 if "." in TASKS_BY_KEY[task_key].gap else 4)
    return [indent + line for line in lines]


ALL = [task.key for task in CODE_TASKS]
# The module fixture grades 14 submissions in one run (about 40 s on 2 cores), in the set-up of whichever
# test comes first.
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{name: (csv row, the submission's part of the report, seconds)} for every made-up submission."""
    root = tmp_path_factory.mktemp("submissions")
    submissions = [make_handout(root / "handout"), make_handout(root / "solution", fill=ALL)]
    for task in CODE_TASKS:
        submissions.append(make_handout(root / ("only_" + task.key), fill=[task.key] + NEEDS.get(task.key, [])))

    # Tests rewritten to pass whatever the code does, plus a conftest and a pytest.ini that try to help.
    cheat = make_handout(root / "tests_rewritten")
    for name in os.listdir(str(cheat / "tests")):
        if name.startswith("test_"):
            (cheat / "tests" / name).write_text("def test_everything():\n    assert True\n")
    (cheat / "tests" / "test_more.py").write_text("import pytest\n\n\n@pytest.mark.zero_grad\ndef test_x():\n"
                                                  "    assert True\n")
    (cheat / "conftest.py").write_text("def pytest_collection_modifyitems(items):\n    items.clear()\n")
    (cheat / "pytest.ini").write_text("[pytest]\naddopts = -k nothing\n")
    (cheat / "sitecustomize.py").write_text("print('hello')\n")

    # The solution with a change outside the gaps.
    outside = make_handout(root / "changed_outside", fill=ALL)
    path = outside / "lib" / "activations.py"
    path.write_text(path.read_text().replace("return grad * h * (1 - h)", "return grad * h * (1.0 - h)"))

    # The solution except: an endless loop in ReLU.backward.
    make_handout(root / "endless_loop", fill=ALL, bodies={"ReLU.backward": in_gap(
        "relu_backward", "while True:", "    pass")})
    # The solution except: os._exit in zero_grad and sys.exit in backward_pass.
    make_handout(root / "exits", fill=ALL, bodies={
        "zero_grad": in_gap("zero_grad", "import os", "os._exit(0)"),
        "backward_pass": in_gap("backward_pass", "import sys", "sys.exit(0)")})
    # The solution except: CrossEntropyLoss.backward prints what a passing run would print, then gives up.
    fake = ['{"event": "result", "nodeid": "tests/test_losses.py::test_cross_entropy_backward_small_numbers", '
            '"outcome": "passed", "message": ""}', "tests 9 / 9, bonus 2 / 2", "38 passed in 0.1s"]
    give_up = "raise NotImplementedError('CrossEntropyLoss.backward is not implemented yet')"
    make_handout(root / "fake_output", fill=ALL, bodies={"CrossEntropyLoss.backward": in_gap(
        "cross_entropy_backward", *(["print({!r})".format(line) for line in fake] + [give_up]))})
    names = [os.path.basename(str(s)) for s in submissions]
    names += ["tests_rewritten", "changed_outside", "endless_loop", "exits", "fake_output"]
    paths = [str(root / name) for name in names] + [str(root / "does_not_exist")]

    table = root / "grades.csv"
    started = time.time()
    done = subprocess.run([sys.executable, GRADE, "--jobs", "2", "--csv", str(table)] + paths,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=280)
    seconds = time.time() - started
    assert done.returncode == 0, done.stdout
    with open(str(table), newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    reports = {}
    for block in done.stdout.split("\n== ")[0:]:
        match = re.match(r"(?:== )?(\S+) \(([\d.]+) s\) ==", block)
        if match:
            reports[match.group(1)] = (block, float(match.group(2)))
    print(done.stdout)
    return {"rows": {row["name"]: row for row in rows}, "reports": reports, "seconds": seconds,
            "names": names + ["does_not_exist"]}


def code_points(row):
    return sum(int(row[task.key]) for task in CODE_TASKS)


def test_one_csv_row_per_submission_in_order(graded):
    assert list(graded["rows"]) == graded["names"]


def test_the_handout_earns_no_points_and_the_solution_all(graded):
    assert code_points(graded["rows"]["handout"]) == 0
    assert code_points(graded["rows"]["solution"]) == ALL_CODE_POINTS == 9
    assert graded["rows"]["solution"]["integrity findings"] == "0"


@pytest.mark.parametrize("task", CODE_TASKS, ids=lambda task: task.key)
def test_one_filled_gap_earns_exactly_its_tasks_points(graded, task):
    row = graded["rows"]["only_" + task.key]
    earned = {key: int(row[key]) for key in ALL}
    filled = [task.key] + NEEDS.get(task.key, [])
    assert earned == {key: (TASKS_BY_KEY[key].points if key in filled else 0) for key in ALL}


def test_rewritten_tests_and_helpful_configuration_earn_nothing_and_are_reported(graded):
    row = graded["rows"]["tests_rewritten"]
    assert code_points(row) == 0
    report = graded["reports"]["tests_rewritten"][0]
    for name in ("conftest.py differs from the handout and changes how pytest starts", "pytest.ini changes how",
                 "sitecustomize.py changes how", "tests/test_network.py differs from the handout",
                 "tests/test_more.py is not in the handout"):
        assert name in report, name


def test_a_change_outside_the_gaps_is_reported(graded):
    assert code_points(graded["rows"]["changed_outside"]) == 9
    report = graded["reports"]["changed_outside"][0]
    assert "lib/activations.py: code outside the gaps differs from the handout" in report
    assert graded["rows"]["changed_outside"]["integrity findings"] == "1"


def test_an_endless_loop_costs_its_task_only_and_grading_goes_on(graded):
    row = graded["rows"]["endless_loop"]
    assert int(row["relu_backward"]) == 0 and code_points(row) == 9 - 1
    report, seconds = graded["reports"]["endless_loop"]
    assert "Timeout" in report
    assert seconds < 60


def test_exits_in_gaps_cost_their_tasks_only(graded):
    row = graded["rows"]["exits"]
    assert int(row["zero_grad"]) == 0 and int(row["backward_pass"]) == 0
    assert code_points(row) == 9 - 2
    report = graded["reports"]["exits"][0]
    assert "gap zero_grad uses 'os._exit'" in report and "gap backward_pass uses 'sys.exit'" in report


def test_printing_fake_results_changes_nothing(graded):
    row = graded["rows"]["fake_output"]
    assert int(row["cross_entropy_backward"]) == 0 and code_points(row) == 9 - 2


def test_a_missing_submission_gets_a_row_with_score_zero_and_the_reason(graded):
    row = graded["rows"]["does_not_exist"]
    assert row["total"] == "0" and "is not a folder" in row["error"]


def test_the_whole_class_is_graded_quickly(graded):
    assert graded["seconds"] < 150


@pytest.mark.timeout(120)
def test_gradescope_autograder_writes_results_json(tmp_path):
    """The zip's run_autograder, run in a folder laid out like Gradescope's, with two gaps filled."""
    from tools.gradescope import build_autograder_zip

    tracked = build_autograder_zip.tracked_files(REPO)
    if "tools/grade.py" not in tracked:
        pytest.skip("tools/grade.py is not committed yet; the zip holds committed files only")
    archive = tmp_path / "autograder.zip"
    names = build_autograder_zip.build(str(archive))
    assert names[:2] == ["setup.sh", "run_autograder"] and "tests/hidden/test_hidden_backward.py" in names
    with zipfile.ZipFile(str(archive)) as opened:
        opened.extractall(str(tmp_path / "source"))
    # The zip has the committed files; the test uses this working tree's tools and tests, as they may be newer.
    source = tmp_path / "source"
    make_handout(tmp_path / "submission", fill=["zero_grad", "backward_pass"])
    environment = dict(os.environ, AUTOGRADER_ROOT=str(tmp_path), PYTHON=sys.executable)
    done = subprocess.run(["bash", str(source / "run_autograder")], env=environment, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=110)
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert done.returncode == 0, done.stdout
    by_name = {test["name"]: test for test in results["tests"]}
    assert by_name["Task 1: zero_grad (lib/gradient_utilities.py)"]["score"] == 1
    assert by_name["Task 7: backward_pass (lib/experiments.py)"]["score"] == 1
    assert by_name["Task 3: Linear.backward (lib/network.py)"]["status"] == "failed"
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(results["tests"][0])
    assert results["score"] >= 2 and "integrity" in results["extra_data"]
    assert "graded by a tutor" in results["output"].lower()


def test_feedback_bonus_needs_every_answer_in_own_words(tmp_path):
    template = "# Feedback\n\n## Major problems?\n\n<!-- your answer -->\n\n## Helpful?\n\nYes / no\n"
    (tmp_path / "grading").mkdir()
    (tmp_path / "grading" / "feedback_template.md").write_text(template)
    (tmp_path / "feedback.md").write_text(template)
    assert points.feedback_row(str(tmp_path)).points == 0
    (tmp_path / "feedback.md").write_text(template.replace("<!-- your answer -->", "None, thanks."))
    row = points.feedback_row(str(tmp_path))
    assert row.points == 0 and "Helpful?" in row.detail
    (tmp_path / "feedback.md").write_text(template.replace("<!-- your answer -->", "None.").replace(
        "Yes / no", "Yes, the gradient check."))
    assert points.feedback_row(str(tmp_path)).points == 1


def test_code_style_bonus_looks_at_lib_and_root_scripts(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.py").write_text("x = 1\n")
    (tmp_path / "setup.cfg").write_text("[pycodestyle]\nmax-line-length = 120\n")
    (tmp_path / "run_me.py").write_text("y = 2\n")
    assert points.code_style_row(str(tmp_path)).points == 1
    (tmp_path / "run_me.py").write_text("y = [" + "1, " * 60 + "]\n")
    row = points.code_style_row(str(tmp_path))
    assert row.points == 0 and "E501" in row.detail
