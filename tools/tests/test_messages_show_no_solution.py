"""No message a student can read gives a line of a gap's reference solution away.

A solution line is a line of a gap's body in the master copy, after the gap's instruction comments, compared with
its whitespace squeezed. What students read is
- the source of the tests, the stand-ins and the value checks they receive (its strings, which become messages, and
  its comments);
- every failure message of the graded tests and value checks: of the cut handout, where every gap is empty, and of
  each wrong body of tools/tests/gap_catalogue.py put into its gap (with the reference solution in the gaps its task
  declares in `needs`, as a student who has solved those would have it). The bodies are packed as the catalogue's
  test packs them (gap_catalogue.rounds: one per task in a tree, none where a gap it needs would be taken), and a
  run's messages are told apart by the task marker of the test they come from.
A message may quote the student's own code (an error's line): lines of the gap bodies in the tree that ran are
taken out of its messages before the search.

No code of the handout reproduces a gap's solution either: every Python file of the cut handout is searched for
the statements of each reference body, by syntax tree (so a reformatted copy is found too): each block of the body
(the gap's and those nested in it) and each window of two or more of a block's statements.

And a message says what the student's code did: an error raised where a gradient of the wrong shape arrived
names the code that made that gradient, not the code that choked on it.
"""
import ast
import io
import json
import os
import subprocess
import sys
import tokenize
from concurrent.futures import ThreadPoolExecutor

import pytest

from grading.gaps import fill_gaps, find_gaps, gap_bodies
from grading.tasks import CODE_TASKS, TASKS_BY_KEY
from tools import handout, solution_copies
from tools.tests.gap_catalogue import WRONG, bodies, indented, rounds

pytestmark = pytest.mark.timeout(900)

# Shipped files whose text a student reads: the tests and what they and the value checks are built from.
READ_BY_STUDENTS = ("tests", "grading/checks.py", "grading/stand_ins.py", "grading/value_checks.py",
                    "grading/conftest.py")

# A pytest plugin for the runs below: every failure's report text and the test's keywords (its markers among
# them), one JSON line each, to $MESSAGES_FILE.
COLLECTOR = '''
import json, os


def pytest_runtest_logreport(report):
    if report.failed:
        with open(os.environ["MESSAGES_FILE"], "a", encoding="utf-8") as file:
            file.write(json.dumps({"nodeid": report.nodeid, "text": report.longreprtext,
                                   "keywords": sorted(report.keywords)}) + "\\n")
'''


def squeezed(text: str) -> str:
    return " ".join(text.split())


def solution_lines() -> dict:
    """{gap name: the squeezed lines of its reference solution} from the master copy."""
    found = {}
    for task in CODE_TASKS:
        with open(os.path.join(handout.REPO, task.file), encoding="utf-8") as file:
            text = file.read()
        lines = text.splitlines()
        for gap in find_gaps(text, task.file):
            if gap.name == task.gap:
                body = lines[gap.start + 1 + gap.instructions:gap.end]
                found[gap.name] = [squeezed(line) for line in body if line.strip() and
                                   not line.strip().startswith("#")]
    return found


SOLUTION = solution_lines()


def leaks(text: str, own_lines=()) -> list:
    """The solution lines found in text, after the lines of `own_lines` (code of the tree that ran) are taken out."""
    text = squeezed(text)
    for line in sorted({squeezed(line) for line in own_lines if line.strip()}, key=len, reverse=True):
        text = text.replace(line, " ")
    return ["{}: {}".format(gap, line) for gap, lines in SOLUTION.items() for line in lines if line in text]


def test_the_search_finds_a_solution_line():
    # The message the visible tests used to give for a looser tolerance wrote gap 6's line into the handout.
    found = leaks("check_gradients should call model.check_gradients((x,)) with the default tolerance (1e-05)")
    assert found == ["check_gradients: model.check_gradients((x,))"], found
    assert not leaks("ReLU.backward raised ValueError\n    at lib/activations.py, line 52: return grad * (h > 0)",
                     own_lines=["        return grad * (h > 0)"])
    assert all(SOLUTION[task.gap] for task in CODE_TASKS), SOLUTION


def shipped_python_files() -> list:
    files = []
    for entry in READ_BY_STUDENTS:
        path = os.path.join(handout.REPO, entry)
        if os.path.isdir(path):
            files += [os.path.join(path, name) for name in sorted(os.listdir(path)) if name.endswith(".py")]
        elif os.path.exists(path):
            files.append(path)
    return files


def strings_and_comments(path: str) -> list:
    """(line number, text) of every string constant and every comment of a Python file."""
    with open(path, encoding="utf-8") as file:
        source = file.read()
    found = [(node.lineno, node.value) for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    found += [(token.start[0], token.string) for token in tokenize.generate_tokens(io.StringIO(source).readline)
              if token.type == tokenize.COMMENT]
    return found


def test_the_shipped_tests_and_checks_hold_no_solution_line():
    files = shipped_python_files()
    names = [os.path.basename(path) for path in files]
    assert "test_network.py" in names and "checks.py" in names, names
    found = ["{}:{}: {}".format(os.path.relpath(path, handout.REPO), line, leak)
             for path in files for line, text in strings_and_comments(path) for leak in leaks(text)]
    assert not found, "solution lines in the text students receive:\n" + "\n".join(found)


# ---------------------------------------------------------------- the code students receive

# The handout, cut and with the reference solution in its gaps: built once, read by every test below.
CUT, SOLVED = handout.build_handout(cut=True), handout.build_handout(cut=False)
REFERENCE_BLOCKS = solution_copies.reference_blocks(SOLVED)


def test_the_code_search_finds_a_reformatted_copy():
    # tests/test_experiments.py's reset() of an earlier release: gap 1's loop, in a handout that cuts gap 1.
    old_reset = ("def reset(model) -> None:\n    for param in model.parameters():\n"
                 "        param.grad = np.zeros_like(  param.data )\n")
    assert [gap for _, gap in solution_copies.copies_of_solutions(old_reset, REFERENCE_BLOCKS)] == ["zero_grad"]
    assert not solution_copies.copies_of_solutions("def reset(model):\n    for param in model.parameters():\n"
                                                   "        param.grad = 0 * param.data\n", REFERENCE_BLOCKS)


def test_the_handout_holds_no_solution_outside_its_gaps():
    found = solution_copies.in_handout(CUT, SOLVED)
    assert not found, "code in the handout that reproduces a gap's reference solution:\n" + "\n".join(found)


# ---------------------------------------------------------------- the messages of test runs

def tree_files(placed: dict) -> dict:
    """The cut handout; each task's gap of `placed` ({task key: Body}) holds the body, and the gaps of their needs
    the reference solution."""
    files = dict(CUT)
    fill = {need: None for key in placed for need in TASKS_BY_KEY[key].needs}
    fill.update((key, body.text) for key, body in placed.items())
    for key, text in fill.items():
        task = TASKS_BY_KEY[key]
        if text is None:
            lines = gap_bodies(SOLVED[task.file].decode("utf-8"), task.file)[task.gap]
        else:
            lines = indented(key, text)
        files[task.file] = fill_gaps(files[task.file].decode("utf-8"), {task.gap: lines}, task.file).encode("utf-8")
    return files


def gap_code(files: dict) -> list:
    """Every line between the markers of every gap of the tree: the code that a message may quote."""
    lines = []
    for path, content in files.items():
        if path.endswith(".py"):
            text = content.decode("utf-8")
            rows = text.splitlines()
            for gap in find_gaps(text, path):
                lines += rows[gap.start + 1:gap.end]
    return lines


def messages_of_run(files: dict, workdir, name: str, marker: str, paths=("tests", "grading/value_checks.py")) -> list:
    """(node id, text, keywords) of every failure when the tests and value checks of `marker` (in `paths`) run on
    the tree."""
    root = workdir / name
    handout.write_files(files, str(root))
    plugin_dir = workdir / (name + "-plugin")
    plugin_dir.mkdir()
    (plugin_dir / "collect_messages.py").write_text(COLLECTOR, encoding="utf-8")
    out = workdir / (name + ".jsonl")
    out.write_text("", encoding="utf-8")
    env = dict(os.environ, MESSAGES_FILE=str(out), PYTHONPATH=str(plugin_dir), MPLBACKEND="Agg")
    subprocess.run([sys.executable, "-B", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "collect_messages",
                    "-m", marker] + list(paths) + ["--value-seed", "7"], cwd=str(root),
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600, env=env)
    return [(event["nodeid"], event["text"], event["keywords"])
            for event in map(json.loads, out.read_text(encoding="utf-8").splitlines())]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """[(what ran, the gap code of its tree, [(node id, message)])]: the cut handout, then every wrong body, with the
    messages of its task's tests and value check (read from the run of the tree that held it)."""
    workdir = tmp_path_factory.mktemp("messages")
    trees = [{}] + rounds(bodies(("wrong",)))

    def run(numbered):
        number, placed = numbered
        files = tree_files(placed)
        marker = " or ".join(placed) or " or ".join(task.key for task in CODE_TASKS)
        return placed, gap_code(files), messages_of_run(files, workdir, "run-{}".format(number), marker)

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(run, enumerate(trees)))
    found = [("the cut handout", done[0][1], [(nodeid, text) for nodeid, text, _ in done[0][2]])]
    for placed, _, messages in done[1:]:
        # A message may quote the lines of its own tree's gaps: the body's, and the reference's in its needs (not
        # the other bodies' of the tree, which would hide their lines that are also the reference's).
        found += [("{} / {}".format(key, body.label), gap_code(tree_files({key: body})),
                   [(nodeid, text) for nodeid, text, keywords in messages if key in keywords])
                  for key, body in placed.items()]
    return found


def test_the_runs_fail_with_messages(runs):
    # Otherwise the search below would look at nothing: every graded test of the cut handout fails, and so does at
    # least one test of each wrong body.
    cut = runs[0][2]
    assert len(cut) >= 50 and all("is not implemented yet" in text for _, text in cut), cut[:3]
    assert len(runs) == 1 + len(bodies(("wrong",))), len(runs)
    silent = [what for what, _, messages in runs[1:] if not messages]
    assert not silent, "wrong bodies without a failure message: {}".format(silent)


def bodies_of(what: str) -> str:
    key, _, label = what.partition(" / ")
    return next((body for found, body in WRONG.get(key, []) if found == label), "")


# A hint is given only where the result has its signature: (the hint's words, whether a body may get it).
HINT_SIGNATURES = [
    ("self.modules.reverse() reverses", lambda body: ".reverse()" in body),
    ("did the function end without a return", lambda body: "return" not in body),
    ("did it end without a return", lambda body: "return" not in body),
    ("pass rng=rng to each Linear", lambda body: "default_rng" in body or body.count("Linear(") > body.count(
        "rng=rng")),
    ("built the other way round", lambda body: "Linear(30, 10, rng=rng)" in body.split("Linear(10, 30")[0]),
]


def test_hints_only_where_their_signature_matches(runs):
    found = []
    for what, _, messages in runs[1:]:
        body = bodies_of(what)
        for nodeid, text in messages:
            for words, fits in HINT_SIGNATURES:
                if words in text and not fits(body):
                    found.append("{}, {}: the hint '{}' does not fit this body".format(what, nodeid, words))
            if "did the function end without a return" in text and what.startswith("zero_grad"):
                found.append("{}, {}: zero_grad returns None by design".format(what, nodeid))
    assert not found, "\n".join(found)


def test_messages_are_plain_and_short(runs):
    found = []
    for what, _, messages in runs:
        for nodeid, text in messages:
            if "np.int64(" in text or "np.float64(" in text:
                found.append("{}, {}: a NumPy scalar's repr in {}".format(what, nodeid, text[:200]))
            if "check the shapes" in text and any("raised {} (".format(kind) in text for kind in (
                    "ZeroDivisionError", "AttributeError", "TypeError", "NameError")):
                found.append("{}, {}: 'check the shapes' for an error that is not about shapes".format(what, nodeid))
            if len(text.splitlines()) > 40:
                found.append("{}, {}: {} lines".format(what, nodeid, len(text.splitlines())))
    assert not found, "\n".join(found)


def test_no_failure_message_shows_a_solution_line(runs):
    found = ["{}, {}: {}".format(what, nodeid, leak) for what, own, messages in runs for nodeid, text in messages
             for leak in leaks(text, own)]
    assert not found, "failure messages that show a line of a gap's solution:\n" + "\n".join(found)


# ---------------------------------------------------------------- an error names the code that caused it

def solution_with(task_key: str, body: str) -> dict:
    """The handout with the reference solution in every gap but the task's, which holds `body`."""
    files = dict(SOLVED)
    task = TASKS_BY_KEY[task_key]
    files[task.file] = fill_gaps(files[task.file].decode("utf-8"), {task.gap: indented(task_key, body)},
                                 task.file).encode("utf-8")
    return files


@pytest.mark.parametrize("task_key, body, test, first_line", [
    ("linear_backward", "scale = 1 / len(x)\nself.W.grad += grad.T @ x * scale * len(x)\nif self.b is not None:\n"
                        "    self.b.grad += grad.sum(axis=0)\nreturn grad @ self.W.data",
     "tests/test_network.py::test_linear_backward_empty_batch",
     "Linear.backward raised ZeroDivisionError (division by zero)\n    at lib/network.py, line "),
    ("cross_entropy_backward", "return ((probabilities - targets) / len(probabilities)).T",
     "tests/test_experiments.py::test_training_solves_xor",
     "CrossEntropyLoss.backward() returned a gradient of shape (2, 4), but Linear(4, 2, bias=True) needs one of the "
     "shape of its output, (4, 2): Linear.backward raised ValueError"),
    ("linear_backward", "self.W.grad += grad.T @ x\nif self.b is not None:\n    self.b.grad += grad.sum(axis=0)\n"
                        "return grad",
     "tests/test_gradient_utilities.py::test_check_gradients_builds_the_sheets_network",
     "Linear.backward (the module after Sigmoid() in the Sequential) returned a gradient of shape (2, 10), but "
     "Sigmoid() needs one of the shape of its output, (2, 30): Sigmoid.backward raised ValueError"),
    ("relu_backward", "return (grad * (h > 0)).ravel()", "tests/test_experiments.py::test_training_solves_xor",
     "ReLU.backward (the module after Linear(2, 4, bias=True) in the Sequential) returned a gradient of shape (16,), "
     "but Linear(2, 4, bias=True) needs one of the shape of its output, (4, 4): Linear.backward raised ValueError"),
], ids=["a division by zero", "cross-entropy into Linear", "Linear into Sigmoid", "ReLU into Linear"])
def test_an_error_names_what_the_students_code_did(tmp_path, task_key, body, test, first_line):
    ran = messages_of_run(solution_with(task_key, body), tmp_path, "run", "not nothing", paths=(test,))
    messages = [(nodeid, text) for nodeid, text, _ in ran]
    assert len(messages) == 1 and messages[0][1].startswith(first_line), messages
    assert "check the shapes" not in messages[0][1] or "ValueError" in messages[0][1], messages
