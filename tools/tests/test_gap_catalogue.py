"""Through the grade of record, every wrong gap body of tools/tests/gap_catalogue.py loses its task and every correct
one keeps it; the first failure line a student reads for each wrong one is printed.

Each body goes into a student's repository: the handout with the reference solution in every gap but those holding
a body. A repository holds at most one body per task, and a task's body only where the gaps it needs hold the
reference or a correct body (gap_catalogue.rounds), so each body's task is judged as if it were the only one.
tools/grade.grade_folders grades them all, as `tools/grade.py FOLDER... --jobs 2` does: the
gaps spliced into a fresh handout, the tests and the value checks run in the sandbox on the Python of
$EXERCISE3_PYTHON (the sheet's Python 3.8; else this one), the checks' outputs compared here with the reference's.
Run with -s to read the first failure lines:
    EXERCISE3_PYTHON=/path/to/python3.8 python -m pytest -s tools/tests/test_gap_catalogue.py
"""
import os
import subprocess
import sys

import pytest

from grading.gaps import fill_gaps
from grading.tasks import CODE_TASKS, TASKS_BY_KEY
from tools import grade, handout
from tools.tests.gap_catalogue import CORRECT, NUMPY_1_ONLY, WRONG, bodies, holds_up, indented, relies_on, rounds

pytestmark = pytest.mark.timeout(3600)


def sandbox_python() -> str:
    return os.environ.get(grade.PYTHON_VARIABLE) or sys.executable


def numpy_major(python: str) -> int:
    found = subprocess.run([python, "-c", "import numpy; print(numpy.__version__)"], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout
    return int(found.strip().split(".")[0])


def write_repository(path: str, placed: dict) -> str:
    """A student's repository: the handout with the reference solution in its gaps, and in each task's of `placed`
    ({task key: Body}) that body."""
    files = handout.build_handout(cut=False)
    for key, body in placed.items():
        task = TASKS_BY_KEY[key]
        files[task.file] = fill_gaps(files[task.file].decode("utf-8"), {task.gap: indented(key, body.text)},
                                     task.file).encode("utf-8")
    handout.write_files(files, path)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """[({task key: Body}, {task key: Row})]: the reference solution (no body), then the catalogue's bodies, packed
    into repositories by gap_catalogue.rounds (about a quarter as many as bodies)."""
    workdir = tmp_path_factory.mktemp("catalogue")
    repositories = [{}] + rounds(bodies())
    paths = [write_repository(str(workdir / "student-{:03d}".format(number)), placed)
             for number, placed in enumerate(repositories)]
    results = grade.grade_folders(paths, jobs=2)
    found = []
    for placed, result in zip(repositories, results):
        assert not result.error, "{}: grading failed: {}".format(described(placed), result.error)
        found.append((placed, {row.task.key: row for row in result.rows if row.task.kind == "code"}))
    print("\nThe first failure line of each wrong solution:")
    for body, row in each_body(found):
        if body.kind == "wrong":
            print("- task {} ({}), {}: {} points; {}".format(
                TASKS_BY_KEY[body.key].number, body.key, body.label, row.points, row.detail))
    return found


def described(placed: dict) -> str:
    return "; ".join("{} / {}".format(key, body.label) for key, body in placed.items()) or "the reference solution"


def each_body(graded):
    """(Body, the row of its task) for every body graded."""
    return [(body, rows[key]) for placed, rows in graded for key, body in placed.items()]


def test_the_catalogue_covers_every_gap_it_has_bodies_for():
    # The catalogue is the kit's own test of the grade (docs/instructor.md: optional for a new task); a task it
    # has bodies for must have enough of both kinds.
    assert set(WRONG) == set(CORRECT) and set(WRONG) <= {task.key for task in CODE_TASKS}, sorted(WRONG)
    for task in (task for task in CODE_TASKS if task.key in WRONG):
        assert len(WRONG[task.key]) >= 10, "at least 10 wrong solutions of {}".format(task.gap)
        assert len(CORRECT[task.key]) >= 5, "at least 5 correct alternatives of {}".format(task.gap)
        labels = [label for label, _ in WRONG[task.key] + CORRECT[task.key]]
        assert len(set(labels)) == len(labels), "labels of {} twice: {}".format(task.gap, labels)
    assert NUMPY_1_ONLY <= {(key, label) for key, bodies in CORRECT.items() for label, _ in bodies}


# What the wrong bodies must include (the kinds that once earned points, issue 18), and the correct ones (code any
# honest student may write): (task key or None for any, a piece of a body).
WRONG_KINDS = [("linear_backward", "np.squeeze("), ("cross_entropy_backward", "np.squeeze("),
               ("relu_backward", "np.isclose("), ("relu_backward", "out=h"), ("linear_backward", "out=x"),
               ("relu_backward", "np.clip(grad"), ("linear_backward", "np.clip(grad"),
               ("zero_grad", "np.zeros_like(param.grad)"), ("zero_grad", "param.grad * 0"),
               ("zero_grad", "0 * param.data"), ("linear_backward", "reshape(len(grad), -1)"),
               ("backward_pass", 'state_dict.get("velocity"'), ("backward_pass", "0.9 ** step"),
               ("backward_pass", "np.clip(lr * param.grad"), ("backward_pass", "astype(np.float64)"),
               ("zero_grad", "param.state_dict = {}"), ("zero_grad", "param.data = param.data.copy()"),
               ("zero_grad", "params[index] = Parameter("), ("zero_grad", "param.name in seen"),
               ("zero_grad", "break"), ("relu_backward", "out=self.buffer"),
               ("sequential_backward", "except NotImplementedError:"), ("sequential_backward", "copy.deepcopy(")]
CORRECT_KINDS = [(None, "type("), (None, ".format("), (None, "hasattr("), (None, ": np.ndarray ="),
                 (None, "nonlocal"), (None, "np.testing.assert_equal"), ("relu_backward", "self.mask ="),
                 (None, "import sys"), (None, "file=sys.stderr"), (None, "**"), (None, "__,"), (None, "np.ma."),
                 (None, "from lib."), (None, "np.einsum"), (None, "astype(np.float64)"),
                 ("check_gradients", ") from error")]


@pytest.mark.parametrize("catalogue, kinds", [(WRONG, WRONG_KINDS), (CORRECT, CORRECT_KINDS)], ids=["wrong", "correct"])
def test_the_catalogue_holds_the_kinds_it_must(catalogue, kinds):
    missing = [(key, piece) for key, piece in kinds
               if not any(piece in body for task_key, bodies in catalogue.items() for _, body in bodies
                          if key in (None, task_key))]
    assert not missing, "no body of the catalogue has {}".format(missing)


def test_the_reference_solution_earns_every_point(graded):
    placed, rows = graded[0]
    assert not placed
    lost = ["{}: {}".format(key, row.detail) for key, row in rows.items() if row.points != TASKS_BY_KEY[key].points]
    assert not lost, "the reference solution loses points:\n" + "\n".join(lost)


def test_every_body_is_graded_once():
    placed = [body for repository in rounds(bodies()) for body in repository.values()]
    assert sorted(placed) == sorted(bodies())
    for repository in rounds(bodies()):
        assert all(holds_up(repository[need]) for body in repository.values() for need in relies_on(body)
                   if need in repository), described(repository)


def test_every_wrong_solution_loses_its_task(graded):
    kept = ["{} / {}: {}".format(body.key, body.label, row.detail) for body, row in each_body(graded)
            if body.kind == "wrong" and row.points != 0]
    assert not kept, "wrong solutions that earn points:\n" + "\n".join(kept)


def test_every_correct_solution_keeps_its_task(graded):
    numpy_2 = numpy_major(sandbox_python()) >= 2
    lost, numpy_1_kept = [], []
    for body, row in each_body(graded):
        if body.kind != "correct":
            continue
        if numpy_2 and (body.key, body.label) in NUMPY_1_ONLY:
            # Under NumPy 2 this code gives another dtype (or raises): there it is wrong, and must lose.
            if row.points != 0:
                numpy_1_kept.append("{} / {}".format(body.key, body.label))
        elif row.points != TASKS_BY_KEY[body.key].points:
            lost.append("{} / {}: {}".format(body.key, body.label, row.detail))
    assert not lost, "correct solutions that lose points:\n" + "\n".join(lost)
    assert not numpy_1_kept, "under NumPy 2, code that is right under NumPy 1 only earns points: {}".format(
        numpy_1_kept)


def test_a_body_costs_no_other_task_its_points(graded):
    # In each repository, a task whose gap holds the reference solution or a correct body keeps its points, unless
    # a gap it relies on holds a body that may not hold up (check_gradients needs Linear.backward and
    # Sequential.backward: a wrong body there may cost it its points too). rounds() spreads the wrong bodies so
    # that each shares its repository with such tasks. The wrong bodies' own tasks are judged above.
    lost = []
    for placed, rows in graded:
        for other, row in rows.items():
            holder = placed.get(other)
            if holder is not None and not holds_up(holder):
                continue
            relied_on = relies_on(holder) if holder is not None else set(TASKS_BY_KEY[other].needs)
            if all(holds_up(placed[key]) for key in relied_on if key in placed) and \
                    row.points != TASKS_BY_KEY[other].points:
                lost.append("with {}, task {} ({}) loses its points: {}".format(
                    described(placed), other, holder.label if holder else "the reference solution", row.detail))
    assert not lost, "\n".join(lost)


def test_every_wrong_body_shares_its_repository_with_a_task_it_could_cost_points():
    alone = [described(repository) for repository in rounds(bodies()) for key, body in repository.items()
             if body.kind == "wrong" and not any(
                 other.key != key and (other.key not in repository or holds_up(repository[other.key]))
                 for other in CODE_TASKS)]
    assert not alone, alone


def test_the_first_failure_line_says_what_is_wrong(graded):
    # Not a raw NumPy error and not a cut-off fragment: it names the gap's quantity or the gap itself.
    for body, row in each_body(graded):
        if body.kind != "wrong":
            continue
        detail = row.detail
        message = detail.split(": ", 1)[1] if ": " in detail else detail
        gap = TASKS_BY_KEY[body.key].gap
        assert gap.split(".")[0] in message, "{} / {}: the first failure line does not name the gap: {}".format(
            body.key, body.label, detail)
        assert "np.int64" not in detail and "np.float64(" not in detail, detail
