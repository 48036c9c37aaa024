"""Every plausible wrong gap solution of tools/tests/gap_catalogue.py loses its task's points, every correct
alternative keeps them, and the first failure line a student sees for each wrong one is printed.

Each body is put into a copy of the reference solution, in place of the solution's gap body, and the task's
graded tests (visible and hidden) run there in a separate pytest process, as the points plugin counts them.
Run with -s to read the first failure lines:
    python -m pytest -s tools/tests/test_gap_catalogue.py
"""
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from grading.gaps import fill_gaps
from grading.tasks import CODE_TASKS, TASKS_BY_KEY
from tools import handout
from tools.tests.gap_catalogue import CORRECT, WRONG, indented

pytestmark = pytest.mark.timeout(600)


def task_test_files(task_key) -> list:
    """The test files that mark tests with the task's marker: the visible ones first, so that the row shows the
    failure a student can read (a hidden test's message is withheld), then the hidden ones."""
    found = []
    for folder in ("tests", "tests/hidden"):
        for name in sorted(os.listdir(os.path.join(handout.REPO, folder))):
            path = os.path.join(handout.REPO, folder, name)
            if name.startswith("test_") and name.endswith(".py"):
                with open(path, encoding="utf-8") as file:
                    if "pytest.mark.{}\n".format(task_key) in file.read():
                        found.append(folder + "/" + name)
    return found


def write_solution(root):
    handout.write_files(handout.build_handout(cut=False), str(root))
    shutil.copytree(os.path.join(handout.REPO, "tests", "hidden"), str(root / "tests" / "hidden"),
                    ignore=shutil.ignore_patterns("__pycache__"))


def run_variant(solution, workdir, task_key, label, body):
    """The task's row of the points table for the solution with this gap body: (points, detail)."""
    task = TASKS_BY_KEY[task_key]
    root = workdir / "{}-{}".format(task_key, abs(hash(label)))
    shutil.copytree(str(solution), str(root))
    path = root / task.file
    path.write_text(fill_gaps(path.read_text(encoding="utf-8"), {task.gap: indented(task_key, body)}),
                    encoding="utf-8")
    results = root / "results.json"
    # -x: a wrong body stops at its first failure, which is all the row needs (it earns 0 points either way).
    subprocess.run([sys.executable, "-B", "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", task_key,
                    "--points-json", str(results)] + task_test_files(task_key), cwd=str(root), stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, timeout=300, env=dict(os.environ, MPLBACKEND="Agg"))
    tests = json.loads(results.read_text(encoding="utf-8"))["tests"]
    row = next(test for test in tests if test["name"].startswith("Task {}:".format(task.number)))
    shutil.rmtree(str(root), ignore_errors=True)
    return row["score"], row["output"]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """{(kind, task key, label): (points, detail)} for every body of the catalogue, two at a time."""
    workdir = tmp_path_factory.mktemp("catalogue")
    write_solution(workdir / "solution")
    jobs = [(kind, key, label, body) for kind, catalogue in (("wrong", WRONG), ("correct", CORRECT))
            for key, bodies in catalogue.items() for label, body in bodies]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda job: run_variant(workdir / "solution", workdir, *job[1:]), jobs))
    found = {job[:3]: result for job, result in zip(jobs, results)}
    print("\nThe first failure line of each wrong solution:")
    for (kind, key, label), (points, detail) in found.items():
        if kind == "wrong":
            print("- task {} ({}), {}: {} points; {}".format(TASKS_BY_KEY[key].number, key, label, points, detail))
    return found


def test_the_catalogue_covers_every_gap():
    for task in CODE_TASKS:
        assert len(WRONG[task.key]) >= 8, "at least 8 wrong solutions of {}".format(task.gap)
        assert len(CORRECT[task.key]) >= 3, "at least 3 correct alternatives of {}".format(task.gap)


def test_every_wrong_solution_loses_its_points(outcomes):
    kept = ["{} / {}: {}".format(key, label, detail) for (kind, key, label), (points, detail) in outcomes.items()
            if kind == "wrong" and points != 0]
    assert not kept, "wrong solutions that earn points:\n" + "\n".join(kept)


def test_every_correct_alternative_keeps_its_points(outcomes):
    lost = ["{} / {}: {}".format(key, label, detail) for (kind, key, label), (points, detail) in outcomes.items()
            if kind == "correct" and points != TASKS_BY_KEY[key].points]
    assert not lost, "correct solutions that lose points:\n" + "\n".join(lost)


def test_the_first_failure_line_says_what_is_wrong(outcomes):
    # Not a raw NumPy error and not a cut-off fragment: it names the gap's quantity or the gap itself.
    for (kind, key, label), (points, detail) in outcomes.items():
        if kind != "wrong":
            continue
        message = detail.split(": ", 1)[1] if ": " in detail else detail
        gap = TASKS_BY_KEY[key].gap
        assert gap.split(".")[0] in message or "backward_pass" in message or "check_gradients" in message, \
            "{} / {}: the first failure line does not name the gap: {}".format(key, label, detail)
        assert "np.int64" not in detail and "np.float64(" not in detail, detail
