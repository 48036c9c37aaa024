"""tools/grade.py on made-up submissions, as a class is graded (one run, --jobs 2): the handout, the solution, one
gap at a time, the correct alternatives of the catalogue, honest submissions in awkward shapes, and submissions
that try what a clever student would to earn points without the work.

The grade rests on structure: only gap bodies that stay inside their functions are spliced into the handout, the
points come from the gaps' outputs on inputs drawn anew for each grading run, compared in the grader's own process
with the reference's, and the sandbox holds nothing of value. So an attack below either fails, or does the work:
most attacks return the right result only if their forbidden action failed, so that a point kept says the
action got nothing. GRADE_TEST_SANDBOX=bwrap|user picks the sandbox (.ci/run runs this file in both modes, but the
tests marked one_sandbox: tools/tests/conftest.py).
"""
import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile

import pytest

from grading import points
from grading.gaps import fill_gaps, gap_bodies
from grading.tasks import CODE_TASKS, TASKS_BY_KEY, total
from tools import handout
from tools.tests.gap_catalogue import CORRECT, indented

REPO = handout.REPO
GRADE = os.path.join(REPO, "tools", "grade.py")
ALL = [task.key for task in CODE_TASKS]
CODE_POINTS = total("code")
SANDBOX = os.environ.get("GRADE_TEST_SANDBOX", "auto")
MARKER = "exercise3-daemon-marker"
# A copy of the reference solution that every user may read, elsewhere on the machine (an instructor's clone).
READABLE_COPY = "/tmp/exercise3-readable-copy-{}".format(os.getpid())
# The grading of the whole made-up class (about 50 submissions) takes about a minute on 2 cores.
pytestmark = pytest.mark.timeout(600)


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


def leak_unless_refused(action: str) -> str:
    """A ReLU.backward body that does `action` (which must fail) and, if it succeeds, puts what it got into its
    error message, where a report would show it; if the action fails, it returns the right gradient."""
    return ("try:\n" + "".join("    " + line + "\n" for line in action.strip().splitlines()) +
            "except Exception:\n    return grad * (h > 0)\nraise ValueError('LEAK ' + str(got)[:200])")


FORGE_PASSES = '''import _pytest.runner as runner
original = runner.CallInfo.from_call.__func__


def passing(cls, func, when, reraise=None):
    call = original(cls, func, when, reraise)
    call.excinfo = None
    return call


runner.CallInfo.from_call = classmethod(passing)
for param in params:
    param.grad = param.data'''

# A correct ReLU.backward that also writes the right Sequential.backward and CrossEntropyLoss.backward into their
# classes, and forges their value checks' results with the right outputs, while their own gaps are wrong: each
# task's points come from its own gap (the value checks run one per process, asked for that check alone).
WORK_IN_ANOTHER_GAP = '''import json
import os
import sys
from lib.losses import CrossEntropyLoss
from lib.network import Sequential


def sequential_backward(self, grad):
    for module in reversed(self.modules):
        grad = module.backward(grad)
    return grad


def cross_entropy_backward(self, grad=None):
    probabilities, targets = self.input_cache
    return (probabilities - targets) / len(probabilities)


Sequential.backward = sequential_backward
CrossEntropyLoss.backward = cross_entropy_backward
if "--value-seed" in sys.argv and "--points-log-fd" in sys.argv:
    from grading import value_checks
    seed = int(sys.argv[sys.argv.index("--value-seed") + 1])
    fd = int(sys.argv[sys.argv.index("--points-log-fd") + 1])
    for key in ("sequential_backward", "cross_entropy_backward"):
        nodeid = "grading/value_checks.py::test_value_check[" + key + "]"
        for event in ({"event": "start", "nodeid": nodeid},
                      {"event": "result", "nodeid": nodeid, "outcome": "passed", "message": "",
                       "properties": {"values": value_checks.outputs(key, seed)}}):
            try:
                os.write(fd, (json.dumps(event) + "\\n").encode())
            except OSError:
                pass
return grad * (h > 0)'''

FORGE_LOG = '''import os
import json
import sys
fake = {"values": {"dL/dz": [1.0]}}
for fd in range(3, 64):
    for key in ("zero_grad", "relu_backward", "linear_backward"):
        line = {"event": "result", "nodeid": "grading/value_checks.py::test_value_check[" + key + "]",
                "outcome": "passed", "message": "", "properties": fake}
        try:
            os.write(fd, (json.dumps(line) + "\\n{not json\\n[1, 2]\\n").encode())
        except OSError:
            pass
return grad'''


def make_class(root, port):
    """{name: folder} of every made-up submission."""
    made = {"handout": make_handout(root / "handout"), "solution": make_handout(root / "solution", fill=ALL)}
    answered_feedback(made["solution"])
    for task in CODE_TASKS:
        made["only_" + task.key] = make_handout(root / ("only_" + task.key), fill=[task.key] + list(task.needs))
    for index in range(3):
        made["alternative_{}".format(index)] = make_handout(
            root / "alternative_{}".format(index), fill=ALL,
            bodies={key: bodies[index % len(bodies)][1] for key, bodies in CORRECT.items()})

    # ---- honest submissions in awkward shapes: all must keep every point, with no finding
    crlf = make_handout(root / "crlf_bom_no_final_newline", fill=ALL)
    for path in (crlf / "lib").glob("*.py"):
        text = path.read_text(encoding="utf-8").rstrip("\n")
        path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    made["crlf_bom_no_final_newline"] = crlf
    tabs = make_handout(root / "re-indented_with_tabs", fill=ALL)
    for path in (tabs / "lib").glob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(re.sub(r"^(    )+", lambda m: "\t" * (len(m.group(0)) // 4), line)
                                  for line in lines) + "\n", encoding="utf-8")
    made["re-indented_with_tabs"] = tabs
    environments = make_handout(root / "virtual_environments", fill=ALL)
    for name in (".venv", "env", "my environment"):
        folder = environments / name
        (folder / "lib" / "site-packages" / "pkg").mkdir(parents=True)
        (folder / "pyvenv.cfg").write_text("home = /usr/bin\n")
        for number in range(40):
            (folder / "lib" / "site-packages" / "pkg" / "module_{}.py".format(number)).write_text("x = 1\n")
    (environments / "lib" / "__pycache__").mkdir()
    (environments / "lib" / "__pycache__" / "network.cpython-311.pyc").write_bytes(b"\x00" * 64)
    (environments / ".git" / "hooks").mkdir(parents=True)
    (environments / ".git" / "hooks" / "pre-commit").write_text("#!/bin/sh\ntouch /tmp/exercise3-hook-ran\n")
    made["virtual_environments"] = environments
    names = make_handout(root / "Zoë O'Neil \"two\" names", fill=ALL)
    text = (names / "feedback.md").read_text(encoding="utf-8")
    (names / "feedback.md").write_bytes(text.replace("_Replace this line with your answer._", "Gr\xfc\xdfe")
                                        .encode("latin-1"))
    (names / "tests" / "test_mine.py").write_text("def test_mine():\n    assert True\n")
    made["Zoë O'Neil \"two\" names"] = names
    down = root / "zipped_one_folder_down"
    make_handout(down / "exercise3-main", fill=ALL)
    made["zipped_one_folder_down"] = down

    # ---- changes outside the gaps: reported, never used
    cheat = make_handout(root / "tests_rewritten")
    for path in (cheat / "tests").glob("test_*.py"):
        path.write_text("def test_everything():\n    assert True\n")
    (cheat / "conftest.py").write_text("def pytest_collection_modifyitems(items):\n    items.clear()\n")
    (cheat / "pytest.ini").write_text("[pytest]\naddopts = -k nothing\n")
    (cheat / "sitecustomize.py").write_text("print('hello')\n")
    made["tests_rewritten"] = cheat
    outside = make_handout(root / "changed_outside", fill=ALL)
    path = outside / "lib" / "activations.py"
    path.write_text(path.read_text().replace("return grad * h * (1 - h)", "return grad * h * (1.0 - h)"))
    made["changed_outside"] = outside
    shadow = make_handout(root / "shadowing")
    (shadow / "lib" / "__init__.py").write_text((shadow / "lib" / "__init__.py").read_text() + FORGE_PASSES)
    (shadow / "numpy").mkdir()
    (shadow / "numpy" / "__init__.py").write_text("raise SystemExit\n")
    made["shadowing"] = shadow

    # ---- a gap that leaves its function: not spliced, named with its line
    module_level = make_handout(root / "module_level_code", fill=ALL)
    path = module_level / "lib" / "activations.py"
    path.write_text(path.read_text().replace("        return grad * (h > 0)\n", "        return grad * (h > 0)\n"
                                             "import os\nos.system('touch /tmp/exercise3-module-level-ran')\n"))
    made["module_level_code"] = module_level

    # ---- attacks in gaps: each runs, and either fails or does the work
    attacks = {
        "endless_loop": ("relu_backward", "while True:\n    pass"),
        "swallows_the_timeout": ("relu_backward", "while True:\n    try:\n        while True:\n            pass\n"
                                                  "    except BaseException:\n        pass"),
        "exits": ("backward_pass", "import sys\nsys.exit(0)"),
        "patching_numpy": ("relu_backward", "np.allclose = lambda *args, **kwargs: True\n"
                                            "np.testing.assert_allclose = lambda *args, **kwargs: None\nreturn grad"),
        "fake_output": ("cross_entropy_backward", "print('tests 9 / 9, bonus 2 / 2')\nprint('38 passed in 0.1s')\n"
                                                  "return probabilities"),
        "reads_the_master": ("relu_backward", leak_unless_refused(
            "got = open({!r}).read()".format(os.path.join(REPO, "lib", "activations.py")))),
        "reads_the_graders_folder": ("relu_backward", leak_unless_refused(
            "import glob\ngot = [open(p).read() for p in glob.glob('/tmp/grade-*/*/*/lib/*.py')]\n"
            "assert got")),
        "reads_a_classmate": ("relu_backward", leak_unless_refused(
            "got = open({!r}).read()".format(str(root / "solution" / "lib" / "network.py")))),
        "reads_a_world_readable_copy": ("relu_backward", leak_unless_refused(
            "got = open({!r}).read()".format(os.path.join(READABLE_COPY, "network.py")))),
        "keeps_nameless_files": ("relu_backward", "import os\nkept = []\ntry:\n    for _ in range(6):\n"
                                                  "        fd = os.open(os.environ.get('TMPDIR', '/tmp'), "
                                                  "os.O_WRONLY | os.O_TMPFILE, 0o600)\n"
                                                  "        os.posix_fallocate(fd, 0, 64 * 1024 * 1024)\n"
                                                  "        kept.append(fd)\n    import time\n    time.sleep(3)\n"
                                                  "except OSError:\n    pass\nreturn grad * (h > 0)"),
        "network": ("relu_backward", leak_unless_refused(
            "import socket\nconnection = socket.create_connection(('127.0.0.1', {}), timeout=2)\n"
            "connection.sendall(b'LEAK')\ngot = 'sent'".format(port))),
        "damages_the_master": ("zero_grad", "try:\n    with open({!r}, 'a') as file:\n        file.write('x')\n"
                                            "except OSError:\n    pass\nfor param in params:\n"
                                            "    param.grad = np.zeros_like(param.data)".format(
                                                os.path.join(REPO, "conftest.py"))),
        # A daemon on every call: past the run's 8 processes the fork fails, and the gap does its work.
        "daemon": ("zero_grad", "import os\nimport sys\ntry:\n    child = os.fork()\nexcept OSError:\n"
                                "    child = 1\nif child == 0:\n    os.setsid()\n"
                                "    os.execv(sys.executable, [sys.executable, '-c', "
                                "'import time; time.sleep(300)  # {}'])\n".format(MARKER) +
                                "for param in params:\n    param.grad = np.zeros_like(param.data)"),
        "ansi_and_html_in_a_message": ("relu_backward", "raise ValueError('\\x1b[2J\\x1b[32mtests 9 / 9\\x1b[0m "
                                                        "<script>alert(1)</script>')"),
        "a_5000_deep_expression": ("relu_backward", "x = " + "(" * 5000 + "1" + ")" * 5000 + "\nreturn grad"),
    }
    for name, (key, body) in attacks.items():
        made[name] = make_handout(root / name, fill=ALL, bodies={key: body})
    made["work_in_another_gap"] = make_handout(root / "work_in_another_gap", fill=ALL, bodies={
        "relu_backward": WORK_IN_ANOTHER_GAP, "sequential_backward": "return grad",
        "cross_entropy_backward": "return probabilities - targets"})
    for name, key, body in (("forged_outcomes_empty_handout", "zero_grad", FORGE_PASSES),
                            ("forged_log_empty_handout", "relu_backward", FORGE_LOG)):
        made[name] = make_handout(root / name, fill=[key], bodies={key: body})
    made["=HYPERLINK(\"x\")"] = make_handout(root / "=HYPERLINK(\"x\")", fill=["zero_grad"])
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


class Listener:
    """A TCP listener on 127.0.0.1 that records what reaches it: a gap must not reach it."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.socket.settimeout(0.5)
        self.port = self.socket.getsockname()[1]
        self.received = []
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            connection.settimeout(2)
            try:
                self.received.append(connection.recv(100))
            except OSError:
                pass
            connection.close()

    def close(self):
        self.running = False
        self.thread.join()
        self.socket.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{"rows": {name: csv row}, "reports": {name: (text, seconds)}, ...} of one class run."""
    root = tmp_path_factory.mktemp("submissions")
    os.chmod(str(root), 0o700)
    os.makedirs(READABLE_COPY, exist_ok=True)
    os.chmod(READABLE_COPY, 0o755)
    shutil.copyfile(os.path.join(REPO, "lib", "network.py"), os.path.join(READABLE_COPY, "network.py"))
    os.chmod(os.path.join(READABLE_COPY, "network.py"), 0o644)
    listener = Listener()
    made = make_class(root, listener.port)
    weird = os.fsdecode(os.path.join(os.fsencode(str(root)), b"caf\xe9_cp437"))  # as an unzip left it
    shutil.copytree(str(made["solution"]), weird)
    conftest_before = open(os.path.join(REPO, "conftest.py"), "rb").read()
    table = root / "grades.csv"
    paths = [str(path) for path in made.values()] + [weird, str(root / "does_not_exist")]
    started = time.time()
    done = subprocess.run([sys.executable, GRADE, "--jobs", "2", "--sandbox", SANDBOX, "--csv", str(table)] + paths,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=560)
    seconds = time.time() - started
    listener.close()
    shutil.rmtree(READABLE_COPY, ignore_errors=True)
    output = done.stdout.decode("utf-8", errors="replace")
    print(output)
    assert done.returncode == 0, output
    assert open(os.path.join(REPO, "conftest.py"), "rb").read() == conftest_before, "the master was changed"
    with open(str(table), newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    reports = {}
    for block in output.split("\n== "):
        match = re.match(r"(?:== )?(.+?) \(([\d.]+) s\) ==", block)
        if match:
            reports[match.group(1)] = (block, float(match.group(2)))
    return {"rows": {row["name"]: row for row in rows}, "row list": rows, "reports": reports, "seconds": seconds,
            "names": list(made) + ["caf\\xe9_cp437", "does_not_exist"], "made": made, "output": output,
            "raw": done.stdout, "received": listener.received, "csv": table.read_text(encoding="utf-8")}


def code_points(row):
    return sum(int(row[task.key]) for task in CODE_TASKS)


def report(graded, name):
    return graded["reports"][name][0]


def test_one_csv_row_per_submission_in_order_and_names_neutralised(graded):
    names = [row["name"] for row in graded["row list"]]
    assert names == ["'=HYPERLINK(\"x\")" if name.startswith("=") else name for name in graded["names"]]
    # The folder whose name is not UTF-8 is graded like any other, and the rows after it too.
    assert code_points(graded["rows"]["caf\\xe9_cp437"]) == CODE_POINTS
    assert graded["rows"]["does_not_exist"]["total"] == "0"


def test_the_handout_earns_nothing_not_even_the_style_bonus(graded):
    row = graded["rows"]["handout"]
    assert code_points(row) == 0 and row["code_style"] == "0" and row["total"] == "0"
    assert "no gap is filled yet" in report(graded, "handout")


def test_the_solution_earns_everything_with_no_finding(graded):
    solution = graded["rows"]["solution"]
    assert code_points(solution) == CODE_POINTS
    assert solution["code_style"] == "1" and solution["feedback"] == "1"
    assert solution["total"] == str(CODE_POINTS + total("bonus"))
    assert solution["integrity findings"] == "0", report(graded, "solution")


@pytest.mark.parametrize("task", CODE_TASKS, ids=lambda task: task.key)
def test_one_filled_gap_earns_exactly_its_tasks_points(graded, task):
    row = graded["rows"]["only_" + task.key]
    earned = {key: int(row[key]) for key in ALL}
    filled = [task.key] + list(task.needs)
    assert earned == {key: (TASKS_BY_KEY[key].points if key in filled else 0) for key in ALL}, \
        report(graded, "only_" + task.key)


@pytest.mark.parametrize("index", range(3))
def test_the_correct_alternatives_earn_full_marks(graded, index):
    row = graded["rows"]["alternative_{}".format(index)]
    assert code_points(row) == CODE_POINTS, report(graded, "alternative_{}".format(index))


@pytest.mark.parametrize("name", ["crlf_bom_no_final_newline", "re-indented_with_tabs", "virtual_environments",
                                  "Zoë O'Neil \"two\" names", "zipped_one_folder_down"])
def test_honest_submissions_in_awkward_shapes_keep_every_point_with_no_finding(graded, name):
    row = graded["rows"][name]
    assert code_points(row) == CODE_POINTS, report(graded, name)
    assert row["integrity findings"] == "0", report(graded, name)
    assert not os.path.exists("/tmp/exercise3-hook-ran"), "a git hook ran"


def test_a_submission_one_folder_down_is_graded_from_there_with_a_note(graded):
    assert "the submission is one folder down: graded from its folder 'exercise3-main'" in \
        report(graded, "zipped_one_folder_down")


def test_latin1_feedback_is_read_and_answered(graded):
    assert graded["rows"]["Zoë O'Neil \"two\" names"]["feedback"] == "1"


def test_rewritten_tests_and_helpful_configuration_earn_nothing_and_are_reported(graded):
    assert code_points(graded["rows"]["tests_rewritten"]) == 0
    text = report(graded, "tests_rewritten")
    for name in ("conftest.py differs from the handout", "pytest.ini would change how",
                 "sitecustomize.py would change how", "tests/test_network.py differs from the handout"):
        assert name in text, name


def test_a_change_outside_the_gaps_is_reported_and_not_used(graded):
    assert code_points(graded["rows"]["changed_outside"]) == CODE_POINTS
    assert "lib/activations.py: code outside the gaps differs from the handout" in report(graded, "changed_outside")
    assert graded["rows"]["changed_outside"]["integrity findings"] == "1"


def test_shadowing_files_and_code_in_lib_init_are_never_used(graded):
    assert code_points(graded["rows"]["shadowing"]) == 0
    text = report(graded, "shadowing")
    assert "lib/__init__.py differs from the handout" in text
    assert "numpy/__init__.py is a Python file that is not in the handout" in text


def test_a_gap_that_leaves_its_function_is_not_spliced_and_named_with_its_line(graded):
    row = graded["rows"]["module_level_code"]
    assert int(row["relu_backward"]) == 0 and code_points(row) == CODE_POINTS - 1
    text = report(graded, "module_level_code")
    assert re.search(r"gap 2 \(ReLU.backward\), line \d+: it is indented left of the gap's START TODO line", text), text
    assert not os.path.exists("/tmp/exercise3-module-level-ran")


@pytest.mark.parametrize("name", ["forged_outcomes_empty_handout", "forged_log_empty_handout"])
def test_forged_outcomes_earn_nothing_on_an_empty_handout(graded, name):
    # The forge makes every test report "passed" (or writes passing results and values into the log): the
    # outputs on the grader's inputs are still wrong or missing, so no task earns a point.
    assert code_points(graded["rows"][name]) == 0, report(graded, name)


@pytest.mark.parametrize("name, task_key", [("endless_loop", "relu_backward"),
                                            ("swallows_the_timeout", "relu_backward"), ("exits", "backward_pass"),
                                            ("patching_numpy", "relu_backward"),
                                            ("fake_output", "cross_entropy_backward"),
                                            ("ansi_and_html_in_a_message", "relu_backward"),
                                            ("a_5000_deep_expression", "relu_backward")])
def test_a_failing_attack_costs_its_own_task_only(graded, name, task_key):
    row = graded["rows"][name]
    assert int(row[task_key]) == 0 and code_points(row) == CODE_POINTS - TASKS_BY_KEY[task_key].points, \
        report(graded, name)


def test_each_tasks_points_come_from_its_own_gap(graded):
    # The right Sequential and CrossEntropyLoss backward passes, written into their classes by the ReLU gap and
    # reported through forged results: the visible tests of both pass, but their value checks run each in a
    # process of its own, where the ReLU gap never ran, and take only that check's own result.
    row = graded["rows"]["work_in_another_gap"]
    assert int(row["sequential_backward"]) == 0 and int(row["cross_entropy_backward"]) == 0, \
        report(graded, "work_in_another_gap")
    assert code_points(row) == CODE_POINTS - TASKS_BY_KEY["sequential_backward"].points - \
        TASKS_BY_KEY["cross_entropy_backward"].points, report(graded, "work_in_another_gap")
    assert "on the grader's own inputs" in report(graded, "work_in_another_gap")


@pytest.mark.parametrize("name", ["reads_the_master", "reads_the_graders_folder", "reads_a_classmate",
                                  "reads_a_world_readable_copy", "network",
                                  "damages_the_master", "daemon"])
def test_nothing_of_value_is_in_reach_and_nothing_is_left_behind(graded, name):
    # Each of these returns the right result when its action fails, so its points say the action got nothing.
    if name == "network" and SANDBOX == "user" and "the network is not isolated" in report(graded, name):
        pytest.skip("this machine refuses the fallback a network namespace, and every report says so")
    row = graded["rows"][name]
    assert code_points(row) == CODE_POINTS, report(graded, name)
    assert "LEAK" not in report(graded, name)


def test_files_kept_open_without_a_name_cost_at_most_their_own_task(graded):
    # bubblewrap's /tmp is a sized tmpfs (the writes fail and the gap returns the right result); the fallback
    # counts the run's open files too and stops the run past its disk cap.
    row = graded["rows"]["keeps_nameless_files"]
    assert code_points(row) >= CODE_POINTS - 1, report(graded, "keeps_nameless_files")
    if code_points(row) < CODE_POINTS:
        assert "stopped" in report(graded, "keeps_nameless_files")


def test_no_byte_reaches_a_listener_on_the_loopback(graded):
    if SANDBOX == "user" and "the network is not isolated" in report(graded, "network"):
        pytest.skip("this machine refuses the fallback a network namespace, and every report says so")
    assert graded["received"] == []


def test_no_process_of_a_run_survives_it(graded):
    listing = subprocess.run(["ps", "-eo", "args"], stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert MARKER not in listing


def test_an_endless_loop_costs_about_a_test_limit_and_grading_goes_on(graded):
    for name in ("endless_loop", "swallows_the_timeout"):
        text, seconds = graded["reports"][name]
        assert "Timeout" in text or "stopped" in text, text
        assert seconds < 90, text


def test_text_a_submission_controls_is_neutralised_in_every_report(graded):
    assert b"\x1b" not in graded["raw"]
    assert "\x1b" not in graded["csv"]
    assert "'=HYPERLINK" in graded["csv"]


def test_a_5000_deep_expression_rejects_its_gap_with_a_line_not_the_row(graded):
    row = graded["rows"]["a_5000_deep_expression"]
    assert row["error"] == ""
    assert "gap 2 (ReLU.backward), line 1:" in report(graded, "a_5000_deep_expression")


def test_links_fifos_and_huge_files_are_not_read(graded):
    row = graded["rows"]["special_files"]
    # Linear.backward and Sequential.backward (lib/network.py) and ReLU.backward (lib/activations.py) are gone,
    # and task 6 needs gaps 3 and 5.
    assert code_points(row) == CODE_POINTS - 2 - 1 - 1 - 1, report(graded, "special_files")
    assert row["feedback"] == "0"
    text = report(graded, "special_files")
    assert "lib/network.py is a symbolic link (not read)" in text
    assert "lib/activations.py is a FIFO (not read)" in text
    assert "feedback.md is larger than 1 MB (not read)" in text


def test_a_missing_submission_gets_a_row_with_score_zero_and_the_reason(graded):
    row = graded["rows"]["does_not_exist"]
    assert row["total"] == "0" and "is not a folder" in row["error"]


def test_the_class_is_graded_in_reasonable_time(graded):
    # The figure for the docs comes from benchmarks/bench_grade.py; this only catches a grader gone slow.
    assert graded["seconds"] < 420


def test_two_graders_on_one_machine_do_not_disturb_each_other(tmp_path):
    solution = make_handout(tmp_path / "solution", fill=ALL)
    one = make_handout(tmp_path / "one", fill=["relu_backward"])
    runs = [subprocess.Popen([sys.executable, GRADE, "--jobs", "2", "--sandbox", SANDBOX, "--csv",
                              str(tmp_path / "grades-{}.csv".format(index)), str(solution), str(one)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for index in range(2)]
    for index, process in enumerate(runs):
        output = process.communicate(timeout=300)[0].decode("utf-8", errors="replace")
        assert process.returncode == 0, output
        with open(str(tmp_path / "grades-{}.csv".format(index)), newline="", encoding="utf-8") as file:
            rows = {row["name"]: row for row in csv.DictReader(file)}
        assert code_points(rows["solution"]) == CODE_POINTS, output
        assert code_points(rows["one"]) == 1 and rows["one"]["error"] == "", output


def test_a_hard_address_space_limit_is_respected_and_reported(tmp_path):
    solution = make_handout(tmp_path / "solution", fill=ALL)
    limit_kb = 3 * 1024 * 1024  # below the grader's default of 4096 MB for a test process
    done = subprocess.run(["bash", "-c", 'ulimit -S -v {} && ulimit -H -v {} && exec "$@"'.format(limit_kb, limit_kb),
                           "bash", sys.executable, GRADE, "--sandbox", SANDBOX, str(solution)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)
    assert done.returncode == 0, done.stdout
    assert re.search(r"solution +1 +1 +2 +2 +1 +1 +1", done.stdout), done.stdout
    assert "clamped" in done.stdout, done.stdout


@pytest.mark.timeout(300)
def test_gradescope_autograder_writes_results_json(tmp_path):
    """The zip's run_autograder, run in a folder laid out like Gradescope's, with a submission one folder down."""
    source = tmp_path / "source"
    shutil.copytree(REPO, str(source), ignore=shutil.ignore_patterns(".git", "__pycache__", "results"))
    make_handout(tmp_path / "submission" / "my-repo", fill=["zero_grad", "backward_pass", "relu_backward"], bodies={
        "relu_backward": "raise ValueError('x' * 5000)"})
    environment = dict(os.environ, AUTOGRADER_ROOT=str(tmp_path), PYTHON=sys.executable,
                       GRADE_SANDBOX=SANDBOX)
    done = subprocess.run(["bash", os.path.join(REPO, "tools", "gradescope", "run_autograder")], env=environment,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=280)
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert done.returncode == 0, done.stdout
    by_name = {test["name"]: test for test in results["tests"]}
    assert by_name["Task 1: zero_grad (lib/gradient_utilities.py)"]["score"] == 1, results
    assert by_name["Task 7: backward_pass (lib/experiments.py)"]["score"] == 1
    linear = by_name["Task 3: Linear.backward (lib/network.py)"]
    assert linear["status"] == "failed" and linear["output"] == "the gap is not filled yet"
    relu = by_name["Task 2: ReLU.backward (lib/activations.py)"]
    assert relu["status"] == "failed" and len(relu["output"]) <= 400, relu["output"]
    assert re.match(r"failed at test \d+ of \d+, test_\w+: ", relu["output"]), relu["output"]
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(results["tests"][0])
    assert results["score"] == 1 + 1 + 1 and "integrity" in results["extra_data"]  # tasks 1 and 7, the style bonus
    assert "one folder down" in results["output"]
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


def test_code_style_bonus_looks_at_lib_and_root_scripts_of_a_filled_gap(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.py").write_text("x = 1\n")
    (tmp_path / "setup.cfg").write_text("[pycodestyle]\nmax-line-length = 120\n")
    (tmp_path / "run_me.py").write_text("y = 2\n")
    assert points.code_style_row(str(tmp_path), filled=1).points == 1
    assert points.code_style_row(str(tmp_path), filled=0).points == 0
    (tmp_path / "run_me.py").write_text("y = [" + "1, " * 60 + "]\n")
    row = points.code_style_row(str(tmp_path), filled=1)
    assert row.points == 0 and "E501" in row.detail


@pytest.mark.one_sandbox
@pytest.mark.timeout(300)
def test_the_record_says_what_a_regrade_needs_and_the_same_seed_gives_the_same_result(tmp_path):
    # One wrong gap, so that the value checks' inputs matter: graded twice with the record's seed, the points and
    # the record agree; results.json carries the record and Gradescope's execution_time, the CSV its columns.
    folder = make_handout(tmp_path / "one_wrong", fill=ALL, bodies={"linear_backward": "return grad @ self.W.data"})
    outputs = []
    for run in range(2):
        table, results = tmp_path / "grades-{}.csv".format(run), tmp_path / "results-{}.json".format(run)
        done = subprocess.run([sys.executable, GRADE, "--sandbox", SANDBOX, "--seed", "20261207", "--csv", str(table),
                               "--json", str(results), str(folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=280)
        assert done.returncode == 0, done.stdout
        with open(str(table), newline="", encoding="utf-8") as file:
            row = next(csv.DictReader(file))
        outputs.append((row, json.loads(results.read_text(encoding="utf-8")), done.stdout))
    (first, first_json, stdout), (second, second_json, _) = outputs
    assert first["seed"] == second["seed"] == "20261207" and first["kit commit"] == second["kit commit"]
    assert first["kit commit"] and first["handout"] == second["handout"] and first["python"].startswith("Python ")
    assert [first[key] for key in ALL + ["total"]] == [second[key] for key in ALL + ["total"]]
    assert first["linear_backward"] == "0" and first["relu_backward"] == "1"
    record = first_json["extra_data"]["record"]
    assert record["seed"] == 20261207 and record["kit commit"] == first["kit commit"] and record["seconds"] > 0
    assert isinstance(first_json["execution_time"], (int, float)) and first_json["execution_time"] > 0
    assert [test["score"] for test in first_json["tests"]] == [test["score"] for test in second_json["tests"]]
    assert "record: seed 20261207, kit commit " in stdout
    # --previous reads the same points from results.json as from the CSV.
    from tools import regrade
    assert regrade.read(str(tmp_path / "results-0.json")) == regrade.read(str(tmp_path / "grades-0.csv"))
    # One counting rule: the student's own run (the table, the workflow summary, its results.json) names the
    # failed task's first failing test as the grader does, although the grader skips its tests after that one.
    own = tmp_path / "own-results.json"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--points-json=" + str(own)],
                   cwd=str(folder), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=280)
    linear = "Task 3: Linear.backward (lib/network.py)"
    students = {test["name"]: test["output"] for test in json.loads(own.read_text(encoding="utf-8"))["tests"]}
    graders = {test["name"]: test["output"] for test in first_json["tests"]}
    assert students[linear].startswith("failed at test "), students[linear]
    assert students[linear] == graders[linear]


@pytest.mark.one_sandbox
@pytest.mark.timeout(400)
def test_previous_lists_exactly_the_submissions_whose_points_changed(tmp_path):
    # A class of three graded, then one fixed and one removed: --previous lists the fixed one with its task, names
    # the one no longer graded and the new one, keeps the earlier total in the CSV, and puts it on the class page.
    same = make_handout(tmp_path / "ann_same", fill=ALL)
    fixed = make_handout(tmp_path / "bob_fixed", fill=ALL, bodies={"relu_backward": "return grad"})
    gone = make_handout(tmp_path / "cat_gone", fill=["zero_grad"])
    before = tmp_path / "before.csv"
    done = subprocess.run([sys.executable, GRADE, "--sandbox", SANDBOX, "--jobs", "2", "--quiet", "--csv", str(before),
                           str(same), str(fixed), str(gone)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300)
    assert done.returncode == 0, done.stdout
    make_handout(tmp_path / "bob_fixed_again", fill=ALL)
    shutil.rmtree(str(fixed))
    os.rename(str(tmp_path / "bob_fixed_again"), str(fixed))
    new = make_handout(tmp_path / "dan_new", fill=["zero_grad"])
    after, site = tmp_path / "after.csv", tmp_path / "site"
    # The class page needs Jinja2 (requirements-dev.txt): .ci/run's fallback step has requirements.txt only.
    import importlib.util
    pages = importlib.util.find_spec("jinja2") is not None
    done = subprocess.run([sys.executable, GRADE, "--sandbox", SANDBOX, "--jobs", "2", "--quiet", "--csv", str(after),
                           "--previous", str(before)] + (["--report", str(site)] if pages else []) +
                          [str(same), str(fixed), str(new)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("changed since "))
    assert lines[start] == "changed since {}: 1 of the submissions graded".format(before), done.stdout
    assert lines[start + 1].startswith("  bob_fixed: total {} -> {} (relu_backward 0 -> 1".format(
        CODE_POINTS, CODE_POINTS + 1)), done.stdout
    assert lines[start + 2:start + 4] == ["  in {} but not graded now: cat_gone".format(before),
                                          "  graded now but not in {}: dan_new".format(before)], done.stdout
    with open(str(after), newline="", encoding="utf-8") as file:
        rows = {row["name"]: row for row in csv.DictReader(file)}
    assert rows["bob_fixed"]["previous total"] == str(CODE_POINTS) and rows["ann_same"]["previous total"] == str(
        CODE_POINTS + 1) and rows["dan_new"]["previous total"] == ""
    if pages:
        page = (site / "index.html").read_text(encoding="utf-8")
        assert "Changed since the previous grading" in page and "bob_fixed: total" in page
    wrong = subprocess.run([sys.executable, GRADE, "--previous", str(tmp_path / "ann_same" / "README.md"), str(same)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
    assert wrong.returncode == 2 and "is not a CSV of tools/grade.py --csv" in wrong.stdout, wrong.stdout
