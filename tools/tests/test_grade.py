"""tools/grade.py on made-up submissions, as a class is graded (one run, --jobs 2): the handout, the solution, one
gap at a time, the correct alternatives of the catalogue, honest submissions in awkward shapes, and submissions
that try every kind of attack the grader must withstand.

Every attack below gave full marks, a hang or damage with the grader before the rebuild, the policy and the
sandbox; each test says which of the three stops it. The sandbox on its own, with the policy switched off, is
tested in tools/tests/test_sandbox.py.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

from grading import points
from grading.gaps import fill_gaps, gap_bodies
from grading.tasks import CODE_TASKS, TASKS_BY_KEY
from tools import handout
from tools.tests.gap_catalogue import CORRECT, indented

REPO = handout.REPO
GRADE = os.path.join(REPO, "tools", "grade.py")
ALL = [task.key for task in CODE_TASKS]
ALL_CODE_POINTS = sum(task.points for task in CODE_TASKS)
# Task 6 gradient-checks Sequential(Linear, Sigmoid, Linear): it needs Linear.backward and Sequential.backward
# (gaps 3 and 5). Every other task stands alone.
NEEDS = {"check_gradients": ["linear_backward", "sequential_backward"]}
# The grading of the whole made-up class (about 45 submissions) takes about a minute on 2 cores.
pytestmark = pytest.mark.timeout(400)

# An attack that worked with the old grader, which copied the submission: lib/__init__.py runs when the tests
# import the library and makes every test outcome "passed". Run by the student's own pytest, it gives 9 of 9.
PASS_EVERYTHING = '''
import _pytest.runner as _runner

_from_call = _runner.CallInfo.from_call.__func__


def _passing(cls, func, when, reraise=None):
    call = _from_call(cls, func, when, reraise)
    call.excinfo = None
    return call


_runner.CallInfo.from_call = classmethod(_passing)
'''


def make_handout(target, fill=(), bodies=None):
    """The handout in target, with the gaps of the tasks in `fill` taken from the solution (or from `bodies`,
    {task key: body text})."""
    files = handout.build_handout(cut=True)
    solution = handout.build_handout(cut=False)
    for key in fill:
        task = TASKS_BY_KEY[key]
        text = files[task.file].decode("utf-8")
        if bodies and key in bodies:
            body = indented(key, bodies[key])
        else:
            body = gap_bodies(solution[task.file].decode("utf-8"))[task.gap]
        files[task.file] = fill_gaps(text, {task.gap: body}).encode("utf-8")
    handout.write_files(files, str(target))
    return target


def answered_feedback(root):
    text = (root / "feedback.md").read_text(encoding="utf-8")
    (root / "feedback.md").write_text(text.replace("_Replace this line with your answer._", "None, thanks."),
                                      encoding="utf-8")


def make_class(root):
    """{name: folder} of every made-up submission."""
    made = {"handout": make_handout(root / "handout"), "solution": make_handout(root / "solution", fill=ALL)}
    for task in CODE_TASKS:
        made["only_" + task.key] = make_handout(root / ("only_" + task.key), fill=[task.key] + NEEDS.get(task.key, []))
    for index in range(3):
        made["alternative_{}".format(index)] = make_handout(
            root / "alternative_{}".format(index), fill=ALL,
            bodies={key: bodies[index][1] for key, bodies in CORRECT.items()})

    # ---- honest submissions in awkward shapes: all must keep their 9 points
    crlf = make_handout(root / "crlf_bom_no_final_newline", fill=ALL)
    for path in (crlf / "lib").glob("*.py"):
        text = path.read_text(encoding="utf-8").rstrip("\n")
        path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    made["crlf_bom_no_final_newline"] = crlf
    made["tabs_and_trailing_spaces"] = make_handout(root / "tabs_and_trailing_spaces", fill=ALL, bodies={
        "relu_backward": "mask = h > 0   \n# my own comment\n\nreturn grad * mask\t",
        "zero_grad": "for param in params:\n\tparam.grad = np.zeros_like(param.data)"})
    environments = make_handout(root / "virtual_environments", fill=ALL)
    for name in (".venv", "env", "venv", "my environment"):
        folder = environments / name
        (folder / "lib" / "site-packages" / "pkg").mkdir(parents=True)
        (folder / "pyvenv.cfg").write_text("home = /usr/bin\n")
        for number in range(60):
            (folder / "lib" / "site-packages" / "pkg" / "module_{}.py".format(number)).write_text("x = 1\n")
        (folder / "lib" / "site-packages" / "conftest.py").write_text("raise SystemExit\n")
    (environments / "lib" / "__pycache__").mkdir()
    (environments / "lib" / "__pycache__" / "network.cpython-311.pyc").write_bytes(b"\x00" * 64)
    (environments / ".git" / "hooks").mkdir(parents=True)
    (environments / ".git" / "hooks" / "pre-commit").write_text("#!/bin/sh\ntouch /tmp/exercise3-hook-ran\n")
    made["virtual_environments"] = environments
    feedback = make_handout(root / "Zoë O'Neil \"two\" names", fill=ALL)
    text = (feedback / "feedback.md").read_text(encoding="utf-8")
    (feedback / "feedback.md").write_bytes(text.replace("_Replace this line with your answer._", "Gr\xfc\xdfe")
                                           .encode("latin-1"))
    (feedback / "tests" / "test_mine.py").write_text("def test_mine():\n    assert True\n")
    made["Zoë O'Neil \"two\" names"] = feedback
    helper = make_handout(root / "helper_file", fill=ALL, bodies={
        "relu_backward": "from lib.helpers import relu_gradient\nreturn relu_gradient(grad, h)"})
    (helper / "lib" / "helpers.py").write_text("def relu_gradient(grad, h):\n    return grad * (h > 0)\n")
    made["helper_file"] = helper

    # ---- the old grader's findings, still reported
    cheat = make_handout(root / "tests_rewritten")
    for path in (cheat / "tests").glob("test_*.py"):
        path.write_text("def test_everything():\n    assert True\n")
    (cheat / "tests" / "test_more.py").write_text("import pytest\n\n\n@pytest.mark.zero_grad\ndef test_x():\n"
                                                  "    assert True\n")
    (cheat / "conftest.py").write_text("def pytest_collection_modifyitems(items):\n    items.clear()\n")
    (cheat / "pytest.ini").write_text("[pytest]\naddopts = -k nothing\n")
    (cheat / "sitecustomize.py").write_text("print('hello')\n")
    made["tests_rewritten"] = cheat
    outside = make_handout(root / "changed_outside", fill=ALL)
    path = outside / "lib" / "activations.py"
    path.write_text(path.read_text().replace("return grad * h * (1 - h)", "return grad * h * (1.0 - h)"))
    made["changed_outside"] = outside
    made["endless_loop"] = make_handout(root / "endless_loop", fill=ALL, bodies={
        "relu_backward": "while True:\n    pass"})
    fake = ['{"event": "result", "nodeid": "tests/test_losses.py::test_cross_entropy_backward_small_numbers", '
            '"outcome": "passed", "message": ""}', "tests 9 / 9, bonus 2 / 2", "38 passed in 0.1s"]
    made["fake_output"] = make_handout(root / "fake_output", fill=ALL, bodies={"cross_entropy_backward": "\n".join(
        ["print({!r})".format(line) for line in fake] + ["raise NotImplementedError('not done')"])})

    # ---- attacks
    shadow = make_handout(root / "shadowing")
    (shadow / "lib" / "__init__.py").write_text((shadow / "lib" / "__init__.py").read_text() + PASS_EVERYTHING)
    (shadow / "numpy").mkdir()
    (shadow / "numpy" / "__init__.py").write_text(PASS_EVERYTHING)
    (shadow / "numpy.pyc").write_bytes(b"\x55\x0d\x0d\x0a" + b"\x00" * 60)
    made["shadowing"] = shadow
    attacks = {
        "stack_walking": ("relu_backward", "import sys\nframe = sys._getframe(1)\nreturn grad * (h > 0)"),
        "frames_from_a_generator": ("relu_backward", "frames = (x for x in [1]).gi_frame\nreturn grad"),
        "log_forging": ("relu_backward", "import os\nfor fd in os.listdir('/proc/self/fd'):\n    pass\nreturn grad"),
        "helper_globals": ("relu_backward", "check = grad.__class__\nreturn grad"),
        "reading_the_grader": ("relu_backward", "open('/proc/%d/cmdline' % 1).read()\nreturn grad * (h > 0)"),
        "reading_the_master": ("relu_backward", "source = open('/autograder/source/lib/activations.py')\n"
                                                "return grad * (h > 0)"),
        "reading_a_classmate": ("relu_backward", "import glob\nglob.glob('/tmp/grade-*/*/tree')\nreturn grad"),
        "daemon": ("zero_grad", "import os\nif os.fork() == 0:\n    os.setsid()\nfor param in params:\n"
                                "    param.grad = np.zeros_like(param.data)"),
        "damaging_the_master": ("zero_grad", "with open({!r}, 'a') as file:\n    file.write('x = 1')\n"
                                             "for param in params:\n    param.grad = np.zeros_like(param.data)"
                                             .format(os.path.join(REPO, "conftest.py"))),
        "damaging_a_classmate": ("zero_grad", "import shutil\nshutil.rmtree('/tmp/classmate', ignore_errors=True)\n"
                                              "for param in params:\n    param.grad = np.zeros_like(param.data)"),
        "exits": ("backward_pass", "import sys\nsys.exit(0)"),
        "patching_numpy": ("relu_backward", "np.allclose = lambda *args, **kwargs: True\nreturn grad"),
    }
    for name, (key, body) in attacks.items():
        made[name] = make_handout(root / name, fill=ALL, bodies={key: body})
    hidden = make_handout(root / "hidden_leak", fill=ALL, bodies={"relu_backward": (
        "if h.shape == (3, 2, 5):\n    raise ValueError('SECRET ' + str(grad.tolist()))\nreturn grad * (h > 0)")})
    made["hidden_leak"] = hidden
    links = make_handout(root / "special_files", fill=ALL)
    (links / "lib" / "network.py").unlink()
    os.symlink("/dev/zero", str(links / "lib" / "network.py"))
    (links / "lib" / "activations.py").unlink()
    os.mkfifo(str(links / "lib" / "activations.py"))
    with open(str(links / "feedback.md"), "wb") as file:
        file.truncate(3 * 1024 ** 3)  # 3 GB, sparse
    os.symlink(REPO, str(links / "master"))
    made["special_files"] = links
    return made


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{"rows": {name: csv row}, "reports": {name: (text, seconds)}, "json": results of `solution`, ...}."""
    root = tmp_path_factory.mktemp("submissions")
    made = make_class(root)
    answered_feedback(made["solution"])
    conftest_before = open(os.path.join(REPO, "conftest.py"), "rb").read()
    table = root / "grades.csv"
    paths = [str(path) for path in made.values()] + [str(root / "does_not_exist")]
    started = time.time()
    done = subprocess.run([sys.executable, GRADE, "--jobs", "2", "--csv", str(table)] + paths,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=380)
    seconds = time.time() - started
    print(done.stdout)
    assert done.returncode == 0, done.stdout
    assert open(os.path.join(REPO, "conftest.py"), "rb").read() == conftest_before, "the master was changed"
    with open(str(table), newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    reports = {}
    for block in done.stdout.split("\n== "):
        match = re.match(r"(?:== )?(.+?) \(([\d.]+) s\) ==", block)
        if match:
            reports[match.group(1)] = (block, float(match.group(2)))
    return {"rows": {row["name"]: row for row in rows}, "reports": reports, "seconds": seconds,
            "names": list(made) + ["does_not_exist"], "made": made, "output": done.stdout}


def code_points(row):
    return sum(int(row[task.key]) for task in CODE_TASKS)


def report(graded, name):
    return graded["reports"][name][0]


def test_one_csv_row_per_submission_in_order(graded):
    assert list(graded["rows"]) == graded["names"]


def test_the_handout_earns_no_points_and_the_solution_all(graded):
    assert code_points(graded["rows"]["handout"]) == 0
    solution = graded["rows"]["solution"]
    assert code_points(solution) == ALL_CODE_POINTS == 9
    assert solution["code_style"] == "1" and solution["feedback"] == "1" and solution["total"] == "11"
    assert solution["integrity findings"] == "0"


@pytest.mark.parametrize("task", CODE_TASKS, ids=lambda task: task.key)
def test_one_filled_gap_earns_exactly_its_tasks_points(graded, task):
    row = graded["rows"]["only_" + task.key]
    earned = {key: int(row[key]) for key in ALL}
    filled = [task.key] + NEEDS.get(task.key, [])
    assert earned == {key: (TASKS_BY_KEY[key].points if key in filled else 0) for key in ALL}


@pytest.mark.parametrize("index", range(3))
def test_the_correct_alternatives_earn_full_marks(graded, index):
    row = graded["rows"]["alternative_{}".format(index)]
    assert code_points(row) == 9, report(graded, "alternative_{}".format(index))
    assert row["integrity findings"] == "0"


@pytest.mark.parametrize("name", ["crlf_bom_no_final_newline", "tabs_and_trailing_spaces", "virtual_environments",
                                  "Zoë O'Neil \"two\" names"])
def test_honest_submissions_in_awkward_shapes_keep_their_points(graded, name):
    row = graded["rows"][name]
    assert code_points(row) == 9, report(graded, name)
    assert not os.path.exists("/tmp/exercise3-hook-ran"), "a git hook ran"


def test_what_an_honest_student_does_is_no_finding(graded):
    assert graded["rows"]["crlf_bom_no_final_newline"]["integrity findings"] == "0"
    assert graded["rows"]["virtual_environments"]["integrity findings"] == "0", report(graded, "virtual_environments")
    # Tabs and trailing spaces cost the style bonus only.
    assert graded["rows"]["tabs_and_trailing_spaces"]["code_style"] == "0"
    assert graded["rows"]["tabs_and_trailing_spaces"]["integrity findings"] == "0"
    # Non-UTF-8 feedback is read, and answered; the student's own test file is reported but harmless.
    names = graded["rows"]["Zoë O'Neil \"two\" names"]
    assert names["feedback"] == "1" and names["integrity findings"] == "1"
    text = report(graded, "Zoë O'Neil \"two\" names")
    assert "tests/test_mine.py is a Python file that is not in the handout" in text


def test_a_gap_that_imports_a_new_file_scores_0_and_the_report_says_why(graded):
    row = graded["rows"]["helper_file"]
    assert int(row["relu_backward"]) == 0 and code_points(row) == 8
    text = report(graded, "helper_file")
    assert "gap 2 (ReLU.backward), line 1: 'from lib.helpers import' is not allowed in a gap" in text
    assert "lib/helpers.py is a Python file that is not in the handout" in text


def test_rewritten_tests_and_helpful_configuration_earn_nothing_and_are_reported(graded):
    assert code_points(graded["rows"]["tests_rewritten"]) == 0
    text = report(graded, "tests_rewritten")
    for name in ("conftest.py differs from the handout", "pytest.ini would change how",
                 "sitecustomize.py would change how", "tests/test_network.py differs from the handout",
                 "tests/test_more.py is a Python file that is not in the handout"):
        assert name in text, name


def test_a_change_outside_the_gaps_is_reported_and_not_used(graded):
    assert code_points(graded["rows"]["changed_outside"]) == 9
    text = report(graded, "changed_outside")
    assert "lib/activations.py: code outside the gaps differs from the handout" in text
    assert graded["rows"]["changed_outside"]["integrity findings"] == "1"


def test_an_endless_loop_costs_its_task_only_and_grading_goes_on(graded):
    row = graded["rows"]["endless_loop"]
    assert int(row["relu_backward"]) == 0 and code_points(row) == 9 - 1
    text, seconds = graded["reports"]["endless_loop"]
    assert "Timeout" in text
    assert seconds < 60


def test_printing_fake_results_changes_nothing(graded):
    row = graded["rows"]["fake_output"]
    assert int(row["cross_entropy_backward"]) == 0 and code_points(row) == 9 - 2


def test_shadowing_files_are_never_used(graded):
    # Rebuild: numpy/, numpy.pyc and the code added to lib/__init__.py stay in the submission. (Run by the
    # student's own pytest, that lib/__init__.py gives the empty handout 9 of 9: see the next test.)
    assert code_points(graded["rows"]["shadowing"]) == 0
    text = report(graded, "shadowing")
    assert "lib/__init__.py: code outside the gaps differs from the handout" in text
    assert "numpy/__init__.py is a Python file that is not in the handout" in text
    assert "numpy.pyc would change how Python or pytest start" in text


@pytest.mark.timeout(120)
def test_the_shadowing_attack_works_where_the_code_is_trusted(graded, tmp_path):
    # The lib/__init__.py part alone, run by the student's own pytest (as the old grader ran it): 9 of 9.
    copy = tmp_path / "shadowing"
    shutil.copytree(str(graded["made"]["shadowing"]), str(copy), ignore=shutil.ignore_patterns("numpy*"))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--points-json",
                           "results.json", "tests"], cwd=str(copy), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=110)
    results = json.loads((copy / "results.json").read_text())
    assert sum(test["score"] for test in results["tests"] if test["name"].startswith("Task")) == 9, done.stdout


@pytest.mark.parametrize("name, task_key, construct", [
    ("stack_walking", "relu_backward", "import sys"),
    ("frames_from_a_generator", "relu_backward", ".gi_frame"),
    ("log_forging", "relu_backward", "import os"),
    ("helper_globals", "relu_backward", ".__class__"),
    ("reading_the_grader", "relu_backward", "open"),
    ("reading_the_master", "relu_backward", "open"),
    ("reading_a_classmate", "relu_backward", "import glob"),
    ("daemon", "zero_grad", "import os"),
    ("damaging_the_master", "zero_grad", "open"),
    ("damaging_a_classmate", "zero_grad", "import shutil"),
    ("exits", "backward_pass", "import sys"),
    ("patching_numpy", "relu_backward", "assignment to .allclose"),
])
def test_an_attack_in_a_gap_is_not_run_and_named(graded, name, task_key, construct):
    # The policy: the gap never runs; its task scores 0, every other task keeps its points.
    row = graded["rows"][name]
    task = TASKS_BY_KEY[task_key]
    assert int(row[task_key]) == 0 and code_points(row) == 9 - task.points, report(graded, name)
    assert "policy: gap {} ({}), line ".format(task.number, task.gap) in report(graded, name)
    assert "'{}' is not allowed in a gap".format(construct) in report(graded, name)


def test_a_hidden_tests_failure_is_withheld(graded):
    row = graded["rows"]["hidden_leak"]
    assert int(row["relu_backward"]) == 0 and code_points(row) == 8
    text = report(graded, "hidden_leak")
    assert "a hidden test of task 2 failed" in text and "SECRET" not in text


def test_links_fifos_and_huge_files_are_not_read(graded):
    row = graded["rows"]["special_files"]
    # Linear.backward and Sequential.backward (lib/network.py) and ReLU.backward (lib/activations.py) are gone,
    # and task 6 needs gaps 3 and 5.
    assert code_points(row) == 9 - 2 - 1 - 1 - 1, report(graded, "special_files")
    assert row["feedback"] == "0"
    text = report(graded, "special_files")
    assert "lib/network.py is a symbolic link (not read)" in text
    assert "lib/activations.py is a FIFO (not read)" in text
    assert "feedback.md is larger than 1 MB (not read)" in text
    assert "master is a symbolic link (not read)" in text
    assert graded["reports"]["special_files"][1] < 30


def test_a_missing_submission_gets_a_row_with_score_zero_and_the_reason(graded):
    row = graded["rows"]["does_not_exist"]
    assert row["total"] == "0" and "is not a folder" in row["error"]


def test_the_class_is_graded_in_reasonable_time(graded):
    # The figure for the docs comes from benchmarks/bench_grade.py; this only catches a grader gone slow.
    assert graded["seconds"] < 300


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
    shutil.rmtree(str(tmp_path / "source"))
    shutil.copytree(REPO, str(tmp_path / "source"), ignore=shutil.ignore_patterns(".git", "__pycache__"))
    make_handout(tmp_path / "submission", fill=["zero_grad", "backward_pass"], bodies={
        "relu_backward": "raise ValueError('x' * 5000)"})
    environment = dict(os.environ, AUTOGRADER_ROOT=str(tmp_path), PYTHON=sys.executable)
    done = subprocess.run(["bash", os.path.join(REPO, "tools", "gradescope", "run_autograder")], env=environment,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=110)
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert done.returncode == 0, done.stdout
    by_name = {test["name"]: test for test in results["tests"]}
    assert by_name["Task 1: zero_grad (lib/gradient_utilities.py)"]["score"] == 1
    assert by_name["Task 7: backward_pass (lib/experiments.py)"]["score"] == 1
    assert by_name["Task 3: Linear.backward (lib/network.py)"]["status"] == "failed"
    relu = by_name["Task 2: ReLU.backward (lib/activations.py)"]
    assert relu["status"] == "failed" and len(relu["output"]) <= 400, relu["output"]
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
