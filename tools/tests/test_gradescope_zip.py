"""tools/gradescope/build_autograder_zip.py on a small git repository of its own: it builds a clean tree, lists the
files git does not track (and leaves them out), and refuses, naming them, tracked files with changes that are not
committed, staged or not, since the zip would hold them as they are on disk.

The builder packs the repository it lies in, so each test copies it, with setup.sh and run_autograder, into a new
repository and runs it there as the instructor does.
"""
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRADESCOPE = os.path.join(REPO, "tools", "gradescope")
BUILDER = ("build_autograder_zip.py", "setup.sh", "run_autograder")
COMMITTED = {"README.md": "# a course\n", "lib/layers.py": "x = 1\n", "tests/test_layers.py": "y = 2\n",
             ".gitignore": "__pycache__/\nresults/\n"}

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="the builder asks git which files it tracks")


def git(repo, *arguments) -> str:
    # A name and an address of its own: the machine's git may have none configured.
    return subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid"] + list(arguments),
                          cwd=str(repo), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True).stdout


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "course"
    (repo / "tools" / "gradescope").mkdir(parents=True)
    for name in BUILDER:
        shutil.copy2(os.path.join(GRADESCOPE, name), str(repo / "tools" / "gradescope" / name))
    for path, text in COMMITTED.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the course")
    return repo


def build(repo, target) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(repo / "tools" / "gradescope" / "build_autograder_zip.py"),
                           str(target)], cwd=str(repo), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)


def names_in(archive) -> list:
    with zipfile.ZipFile(str(archive)) as opened:
        return opened.namelist()


def packed_files() -> list:
    return sorted(list(COMMITTED) + ["tools/gradescope/" + name for name in BUILDER])


def test_a_clean_tree_builds(repo, tmp_path):
    done = build(repo, tmp_path / "autograder.zip")
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and "left out" not in done.stdout and done.stderr == ""
    names = names_in(tmp_path / "autograder.zip")
    assert names[:2] == ["setup.sh", "run_autograder"] and names[-1] == "KIT_COMMIT"
    assert sorted(names[2:-1]) == packed_files()
    with zipfile.ZipFile(str(tmp_path / "autograder.zip")) as opened:
        assert opened.read("KIT_COMMIT").decode("ascii") == git(repo, "rev-parse", "HEAD")


def test_untracked_files_are_named_and_left_out(repo, tmp_path):
    (repo / "lib" / "new_layer.py").write_text("z = 3\n")
    (repo / "notes").mkdir()
    (repo / "notes" / "todo.txt").write_text("commit new_layer.py\n")
    # Ignored files are meant to stay out, so the list does not name them.
    (repo / "results").mkdir()
    (repo / "results" / "run.png").write_bytes(b"png")
    # Nor the zip itself, where it is written into the tree.
    (repo / "autograder.zip").write_bytes(b"an old build")
    done = build(repo, repo / "autograder.zip")
    assert done.returncode == 0, done.stderr
    assert "left out, as git does not track them" in done.stdout
    listed = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    assert listed == ["lib/new_layer.py", "notes/todo.txt"], done.stdout
    assert sorted(names_in(repo / "autograder.zip")[2:-1]) == packed_files()


@pytest.mark.parametrize("change, named", [
    ("modified", " M lib/layers.py"),
    ("staged", "M  lib/layers.py"),
    ("deleted", " D lib/layers.py"),
    ("added", "A  lib/new_layer.py"),
    ("renamed", "R  lib/dense.py (from lib/layers.py)"),
])
def test_uncommitted_changes_to_tracked_files_are_refused(repo, tmp_path, change, named):
    layers = repo / "lib" / "layers.py"
    if change in ("modified", "staged"):
        layers.write_text("x = 2\n")
    if change == "staged":
        git(repo, "add", "lib/layers.py")
    if change == "deleted":
        layers.unlink()
    if change == "added":
        (repo / "lib" / "new_layer.py").write_text("z = 3\n")
        git(repo, "add", "lib/new_layer.py")
    if change == "renamed":
        git(repo, "mv", "lib/layers.py", "lib/dense.py")
    (repo / "scratch.txt").write_text("not tracked\n")
    done = build(repo, tmp_path / "autograder.zip")
    assert done.returncode == 1
    assert "not built" in done.stderr and "not committed" in done.stderr, done.stderr
    assert "  " + named + "\n" in done.stderr, done.stderr
    # The untracked files are still listed, so one look shows all there is to commit.
    assert "  scratch.txt" in done.stdout
    assert not (tmp_path / "autograder.zip").exists()


def test_outside_a_git_repository_it_says_so(tmp_path):
    folder = tmp_path / "no repository" / "tools" / "gradescope"
    folder.mkdir(parents=True)
    for name in BUILDER:
        shutil.copy2(os.path.join(GRADESCOPE, name), str(folder / name))
    done = build(tmp_path / "no repository", tmp_path / "autograder.zip")
    assert done.returncode == 2
    assert "cannot ask git" in done.stderr and "not a git repository" in done.stderr, done.stderr
