"""Reading a submission (tools/submission.py): the handout's files by their paths, from the folder that holds the
exercise, whatever shape the upload has. A data folder of 20,001 files hides nothing; a symbolic link on the way to
a wanted file is never followed; of two folders that hold the exercise the one with its gaps filled is graded; a
flat upload (lib/*.py at the top, as Gradescope's drag-and-drop invites) is taken by the files' names. Each case
also goes through the grade of record (tools/grade.grade_folders, GRADE_TEST_SANDBOX=bwrap|user) for its points
and its note.
"""
import os
import shutil
import stat
import time
from types import SimpleNamespace

import pytest

from grading.points import FEEDBACK_FILE
from grading.tasks import CODE_TASKS, total
from tools import grade, handout, submission
from tools.submission import filled_gaps, list_files, locate, read_submission

pytestmark = pytest.mark.timeout(600)

HANDOUT = handout.build_handout(cut=True)
WANTED = [path for path in HANDOUT if path.endswith(".py")] + [FEEDBACK_FILE]
GAP_FILES = sorted({task.file for task in CODE_TASKS})
DATA_FILES = submission.MAX_ENTRIES + 1


def write(folder, filled=True, change=None) -> str:
    """The handout in folder, its gaps filled from the solution (or not) and its feedback answered; `change`:
    {path: (old, new)} replaced in the written files."""
    files = handout.build_handout(cut=not filled)
    files[FEEDBACK_FILE] = files[FEEDBACK_FILE].replace(b"_Replace this line with your answer._", b"None, thanks.")
    for path, (old, new) in (change or {}).items():
        assert old.encode() in files[path]
        files[path] = files[path].replace(old.encode(), new.encode())
    handout.write_files(files, str(folder))
    return str(folder)


def data_folder(folder, count=DATA_FILES) -> None:
    """count empty files in folder/mnist, created with os.open: a dataset kept in the repository, in a folder
    that sorts after lib/ (the walk of earlier releases went there first and stopped before lib/)."""
    os.makedirs(os.path.join(str(folder), "mnist"))
    for number in range(count):
        os.close(os.open(os.path.join(str(folder), "mnist", "{:05d}.csv".format(number)), os.O_CREAT | os.O_WRONLY,
                         0o600))


def flat(source: str, folder) -> str:
    """What dragging lib/*.py, feedback.md and a root script onto Gradescope's upload makes: all at the top."""
    os.makedirs(str(folder))
    for name in os.listdir(os.path.join(source, "lib")):
        shutil.copyfile(os.path.join(source, "lib", name), os.path.join(str(folder), name))
    for name in (FEEDBACK_FILE, "run_xor_experiment.py"):
        shutil.copyfile(os.path.join(source, name), os.path.join(str(folder), name))
    return str(folder)


# ---------------------------------------------------------------- tools/submission.py's functions


@pytest.mark.one_sandbox
def test_a_data_folder_of_20001_files_hides_no_file_of_the_handout(tmp_path):
    root = write(tmp_path / "repository")
    data_folder(root)
    started = time.time()
    read = locate(root, HANDOUT, WANTED)
    seconds = time.time() - started
    assert sorted(read.files) == sorted(WANTED) and filled_gaps(read.files) == len(CODE_TASKS)
    assert read.findings == []
    assert len(read.notes) == 1 and " entries under mnist/ were not looked at" in read.notes[0] \
        and "more than" not in read.notes[0], read.notes
    left = int(read.notes[0].split()[0])
    assert set(WANTED) <= set(read.present) and len(read.present) + left >= DATA_FILES
    assert seconds < 5


@pytest.mark.one_sandbox
def test_the_walk_counts_exactly_what_it_leaves_and_lists_the_handouts_folders_first(tmp_path):
    for path in ("lib/a.py", "lib/b.py", "lib/c.py", "z.txt") + tuple("data/{}".format(n) for n in range(30)) + \
            tuple("data/more/{}".format(n) for n in range(4)):
        os.makedirs(os.path.dirname(str(tmp_path / path)), exist_ok=True)
        open(str(tmp_path / path), "w").close()
    findings, notes = [], []
    # The top's 3 entries and lib/'s 3 are looked at; data/ (30 files and more/ with 4) is counted, not listed.
    listed = list_files(str(tmp_path), findings, notes, first={"lib"}, limit=6)
    assert listed == ["lib/a.py", "lib/b.py", "lib/c.py", "z.txt"]
    assert findings == [] and len(notes) == 1 and notes[0].startswith("35 entries under data/ were not looked at")
    notes = []
    assert len(list_files(str(tmp_path), findings, notes, first={"lib"}, limit=4)) == 2
    assert notes[0].startswith("35 entries under data/, 2 entries under lib/ were not looked at")
    notes = []
    list_files(str(tmp_path), findings, notes, first={"lib"}, limit=100)
    assert notes == []


@pytest.mark.one_sandbox
def test_a_symlinked_lib_folder_is_never_followed(tmp_path):
    root = write(tmp_path / "repository", filled=False)
    shutil.rmtree(os.path.join(root, "lib"))
    os.symlink(os.path.join(handout.REPO, "lib"), os.path.join(root, "lib"))  # the master, with the solution
    read = locate(root, HANDOUT, WANTED)
    assert not any(path.startswith("lib/") for path in read.files) and filled_gaps(read.files) == 0
    assert read.findings == ["lib is a symbolic link (not read)"]
    assert not any(path.startswith("lib/") for path in read.present)


@pytest.mark.one_sandbox
def test_links_fifos_and_devices_on_the_way_are_not_opened(tmp_path):
    root = write(tmp_path / "repository")
    os.remove(os.path.join(root, "lib", "network.py"))
    os.mkfifo(os.path.join(root, "lib", "network.py"))  # opening it for reading would block
    os.remove(os.path.join(root, "lib", "losses.py"))
    os.symlink("/dev/zero", os.path.join(root, "lib", "losses.py"))
    shutil.move(os.path.join(root, "tests"), os.path.join(root, "real_tests"))
    os.symlink("real_tests", os.path.join(root, "tests"))
    read = read_submission(root, WANTED)
    assert "lib/network.py" not in read.files and "lib/losses.py" not in read.files
    assert not any(path.startswith("tests/") for path in read.files)
    assert sorted(read.findings) == ["lib/losses.py is a symbolic link (not read)",
                                     "lib/network.py is a FIFO (not read)", "tests is a symbolic link (not read)"]
    assert "lib/activations.py" in read.files


@pytest.mark.one_sandbox
def test_a_virtual_environment_or_a_skipped_folder_is_not_read(tmp_path):
    root = write(tmp_path / "repository")
    open(os.path.join(root, "lib", "pyvenv.cfg"), "w").close()  # lib/ made a virtual environment
    read = read_submission(root, WANTED)
    assert not any(path.startswith("lib/") for path in read.files) and read.findings == []


@pytest.mark.one_sandbox
def test_one_folder_down_is_graded_from_there_with_a_note(tmp_path):
    write(tmp_path / "zip" / "exercise3-main")
    read = locate(str(tmp_path / "zip"), HANDOUT, WANTED)
    assert read.root == str(tmp_path / "zip" / "exercise3-main") and filled_gaps(read.files) == len(CODE_TASKS)
    assert read.notes == ("the submission is one folder down: graded from its folder 'exercise3-main'",)


@pytest.mark.parametrize("backup_filled", [False, True])
@pytest.mark.one_sandbox
def test_of_two_folders_the_one_with_its_gaps_filled_is_graded(tmp_path, backup_filled):
    # The filled one sorts last either way, so that the rule, not the order, picks it.
    write(tmp_path / "zip" / "exercise3-backup", filled=False)
    write(tmp_path / "zip" / "exercise3", filled=True)
    if backup_filled:
        shutil.rmtree(str(tmp_path / "zip" / "exercise3-backup"))
        write(tmp_path / "zip" / "a-copy", filled=False)
    read = locate(str(tmp_path / "zip"), HANDOUT, WANTED)
    assert read.root == str(tmp_path / "zip" / "exercise3") and filled_gaps(read.files) == len(CODE_TASKS)
    other = "'a-copy'" if backup_filled else "'exercise3-backup'"
    assert read.findings == [] and len(read.notes) == 1
    assert "'exercise3' with 7 of 7 gaps filled" in read.notes[0] and other + " with 0 of 7" in read.notes[0]
    assert read.notes[0].endswith("graded from 'exercise3', the one with the most gaps filled")


@pytest.mark.one_sandbox
def test_two_folders_equally_filled_and_different_are_a_finding_that_names_both(tmp_path):
    write(tmp_path / "zip" / "exercise3-backup")
    write(tmp_path / "zip" / "exercise3", change={"lib/activations.py": ("return grad * (h > 0)",
                                                                         "return grad * (h > 0.0)")})
    read = locate(str(tmp_path / "zip"), HANDOUT, WANTED)
    assert read.root == str(tmp_path / "zip" / "exercise3")
    assert read.findings == ["2 folders hold the exercise: 'exercise3' with 7 of 7 gaps filled, 'exercise3-backup' "
                             "with 7 of 7 gaps filled; they differ, and the grader took 'exercise3', the first by "
                             "name (to be graded from another, submit only that one)"]


@pytest.mark.one_sandbox
def test_two_folders_that_are_the_same_or_both_empty_are_a_note(tmp_path):
    for filled in (True, False):
        folder = tmp_path / str(filled)
        write(folder / "b", filled=filled)
        write(folder / "a", filled=filled)
        read = locate(str(folder), HANDOUT, WANTED)
        assert read.root == str(folder / "a") and read.findings == []
        assert read.notes[0].endswith("graded from 'a', the first by name (their gap files are the same)")


@pytest.mark.one_sandbox
def test_a_flat_upload_is_taken_by_the_files_names(tmp_path):
    root = flat(write(tmp_path / "repository"), tmp_path / "upload")
    read = locate(root, HANDOUT, WANTED)
    lib = sorted(path for path in HANDOUT if path.startswith("lib/"))
    assert sorted(read.files) == sorted(lib + [FEEDBACK_FILE, "run_xor_experiment.py"])
    assert filled_gaps(read.files) == len(CODE_TASKS) and read.findings == []
    # A file at the top that the handout has at its top stays what it is.
    assert read.files["run_xor_experiment.py"].encode("utf-8") == HANDOUT["run_xor_experiment.py"]
    assert sorted(read.present) == sorted(read.files)
    assert read.notes[0].startswith("the files were uploaded without their folders: {} at the top were taken as "
                                    "the handout's files of the same name".format(len(lib)))


@pytest.mark.one_sandbox
def test_only_names_that_say_where_they_belong_are_taken(tmp_path):
    solution = handout.build_handout(cut=False)
    (tmp_path / "activations.py").write_bytes(solution["lib/activations.py"])  # one file of that name: lib/'s
    (tmp_path / "helpers.py").write_text("")  # tests/helpers.py, the only one
    (tmp_path / "conftest.py").write_text("")  # the handout has one at its top: it stays what it is
    (tmp_path / "gaps.py").write_text("")  # grading/gaps.py (compared with the handout's, never used)
    assert submission.by_name(str(tmp_path), HANDOUT, WANTED) == {"lib/activations.py": "activations.py",
                                                                  "tests/helpers.py": "helpers.py",
                                                                  "grading/gaps.py": "gaps.py"}
    # __init__.py is lib/'s, experiments/', plotting/', grading/'s and tests/': taken as that of the gap files' folder
    (tmp_path / "__init__.py").write_bytes(solution["lib/__init__.py"])
    assert submission.by_name(str(tmp_path), HANDOUT, WANTED)["lib/__init__.py"] == "__init__.py"


# ---------------------------------------------------------------- through the grade of record


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    os.chmod(str(root), stat.S_IRWXU)
    made = {}
    made["data_folder"] = write(root / "data_folder")
    data_folder(made["data_folder"])
    write(root / "two_folders" / "exercise3-backup", filled=False)
    write(root / "two_folders" / "exercise3")
    made["two_folders"] = str(root / "two_folders")
    write(root / "two_filled" / "exercise3-backup")
    write(root / "two_filled" / "exercise3", change={"lib/activations.py": ("return grad * (h > 0)",
                                                                            "return grad * (h > 0.0)")})
    made["two_filled"] = str(root / "two_filled")
    made["flat_upload"] = flat(write(root / "source"), root / "flat_upload")
    write(root / "one_folder_down" / "exercise3-main")
    made["one_folder_down"] = str(root / "one_folder_down")
    made["symlinked_lib"] = write(root / "symlinked_lib", filled=False)
    shutil.rmtree(os.path.join(made["symlinked_lib"], "lib"))
    os.symlink(os.path.join(handout.REPO, "lib"), os.path.join(made["symlinked_lib"], "lib"))
    write(root / "two_folders_down" / "archive" / "exercise3-main")
    made["two_folders_down"] = str(root / "two_folders_down")
    made["conda_environment"] = write(root / "conda_environment")
    environment = os.path.join(made["conda_environment"], "env")
    os.makedirs(os.path.join(environment, "conda-meta"))
    os.makedirs(os.path.join(environment, "lib", "python3.8", "site-packages", "pkg"))
    for number in range(30):
        with open(os.path.join(environment, "lib", "python3.8", "site-packages", "pkg", "m{}.py".format(number)),
                  "w") as file:
            file.write("x = 1\n")
    # A debug comment pasted into the Linear.backward gap makes lib/network.py larger than the 1 MB read.
    made["gap_file_over_1_mb"] = write(root / "gap_file_over_1_mb", change={"lib/network.py": (
        "        # START TODO ################\n", "        # START TODO ################\n" +
        "        # debug output: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]\n" * 16000)})
    made["no_feedback"] = write(root / "no_feedback")
    os.remove(os.path.join(made["no_feedback"], FEEDBACK_FILE))
    results = grade.grade_folders(list(made.values()), jobs=2, sandbox=os.environ.get("GRADE_TEST_SANDBOX", "auto"))
    return dict(zip(made, results))


def earned(result: dict) -> dict:
    assert not result.error, result.error
    return {row.task.key: row.points for row in result.rows}


@pytest.mark.parametrize("name", ["data_folder", "two_folders", "flat_upload", "one_folder_down", "two_folders_down",
                                  "conda_environment"])
def test_an_honest_upload_of_any_shape_keeps_every_point_with_no_finding(graded, name):
    result = graded[name]
    points = earned(result)
    assert sum(points[task.key] for task in CODE_TASKS) == total("code"), result.rows
    assert points["code_style"] == 1 and points["feedback"] == 1, result.rows
    assert result.integrity == [] and result.policy == []
    note = {"data_folder": " entries under mnist/ were not looked at",
            "two_folders": "graded from 'exercise3', the one with the most gaps filled",
            "flat_upload": "the files were uploaded without their folders: ",
            "one_folder_down": "the submission is one folder down: graded from its folder 'exercise3-main'",
            "two_folders_down": "the submission's only folder is 'archive': the submission is one folder down: "
                                "graded from its folder 'exercise3-main'",
            "conda_environment": None}[name]
    assert note is None or any(note in text for text in result.notes), result.notes


def test_a_gap_file_too_large_to_read_says_so_in_its_tasks_rows(graded):
    # Before, tasks 3 and 5 said "lib/network.py is missing"; the integrity line alone said why.
    rows = {row.task.key: row for row in graded["gap_file_over_1_mb"].rows}
    for key in ("linear_backward", "sequential_backward"):
        assert rows[key].points == 0 and rows[key].detail == "lib/network.py is larger than 1 MB (not read)", rows[key]
    assert rows["relu_backward"].points == 1


def test_a_submission_without_feedback_md_is_told_so(graded):
    row = next(row for row in graded["no_feedback"].rows if row.task.key == "feedback")
    assert row.points == 0 and row.detail == "feedback.md is not in the submission", row
    assert sum(earned(graded["no_feedback"])[task.key] for task in CODE_TASKS) == total("code")


def test_two_folders_equally_filled_are_graded_from_the_first_with_a_finding_naming_both(graded):
    result = graded["two_filled"]
    assert sum(earned(result)[task.key] for task in CODE_TASKS) == total("code")
    assert len(result.integrity) == 1 and "'exercise3' with 7 of 7" in result.integrity[0] \
        and "'exercise3-backup' with 7 of 7" in result.integrity[0]
    shown = grade.report_lines(result, SimpleNamespace(mode="bwrap", notes=[]))  # what results.json shows
    assert any(line.startswith("Integrity: 2 folders hold the exercise") for line in shown), shown


def test_a_symlinked_lib_folder_earns_nothing_from_the_master(graded):
    result = graded["symlinked_lib"]
    points = earned(result)
    assert sum(points[task.key] for task in CODE_TASKS) == 0 and points["code_style"] == 0, result.rows
    assert "lib is a symbolic link (not read)" in result.integrity
