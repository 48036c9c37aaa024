"""tools/make_handout.py and its parts: gap markers, the manifest, the student README, the whole run."""
import json
import os
import subprocess
import sys

import pytest

from grading.gaps import GapError, cut_gaps, fill_gaps, find_gaps, gap_bodies, without_gap_bodies
from grading.tasks import CODE_TASKS
from tools import handout, make_handout

REPO = handout.REPO
START, END = "# START" + " TODO ################", "# END" + " TODO ##################"

SOURCE = """class Layer:
    def backward(self, grad):
        x = self.cache
        {start}
        # Return the gradient.
        # Two lines of instructions.
        result = grad * x
        return result
        {end}


def helper(values):
    {start}
    # Sum them.
    return sum(values)
    {end}
""".format(start=START, end=END)


def test_gaps_are_named_by_their_function_and_cut_to_a_raise():
    gaps = find_gaps(SOURCE, "layer.py")
    assert [(gap.name, gap.instructions) for gap in gaps] == [("Layer.backward", 2), ("helper", 1)]
    cut = cut_gaps(SOURCE, "layer.py")
    assert "grad * x" not in cut and "sum(values)" not in cut
    assert '        raise NotImplementedError("Layer.backward is not implemented yet")' in cut
    assert '    raise NotImplementedError("helper is not implemented yet")' in cut
    assert cut.count(START) == 2 and cut.count(END) == 2 and "# Two lines of instructions." in cut
    compile(cut, "layer.py", "exec")
    # The code around the gaps is unchanged, and filling the gaps from the solution gives the solution back.
    assert without_gap_bodies(cut) == without_gap_bodies(SOURCE)
    assert fill_gaps(cut, gap_bodies(SOURCE)) == SOURCE


@pytest.mark.parametrize("source, line, reason", [
    ("def f():\n    {s}\n    {s}\n    pass\n    {e}\n", 3, "nest"),
    ("def f():\n    {s}\n    pass\n", 2, "without an END"),
    ("def f():\n    pass\n    {e}\n", 3, "without a START"),
    ("x = 1\n{s}\ny = 2\n{e}\n", 2, "not inside a function"),
    ("def f():\n    {s}\n    pass\n{e}\n", 4, "indented differently"),
])
def test_malformed_markers_stop_with_file_and_line(source, line, reason):
    with pytest.raises(GapError, match=r"^lib/bad\.py:{}: .*{}".format(line, reason)):
        find_gaps(source.format(s=START, e=END), "lib/bad.py")


def test_the_students_readme_is_the_masters_without_its_instructor_section():
    text = "# Title\n\nintro\n\n## Section\n\nbody\n\n## For instructors\n\nsee docs/instructor.md\n"
    assert handout.student_readme(text) == "# Title\n\nintro\n\n## Section\n\nbody\n"
    with pytest.raises(handout.HandoutError, match="expected one '## For instructors' section, found 0"):
        handout.student_readme("# Title\n\nintro\n")
    with pytest.raises(handout.HandoutError, match=r"^README\.md:5: .*must be the README's last section"):
        handout.student_readme("# T\n## For instructors\n\nx\n## Later\n")


@pytest.mark.parametrize("entry", ["tools/grade.py", "solutions/*.md", "tools/rebuild.py -> lib/rebuild.py",
                                   "lib/network.py -> solutions/network.py", "docs/instructor.md",
                                   "solutions/reference_answers.md -> docs/figures/answers.md"])
def test_manifest_refuses_instructor_only_files(tmp_path, entry):
    manifest = tmp_path / "manifest.txt"
    manifest.write_text("lib/*.py\n" + entry + "\n")
    with pytest.raises(handout.HandoutError, match="instructor-only"):
        handout.read_manifest(REPO, str(manifest))


def test_manifest_entries_that_match_nothing_stop_the_tool(tmp_path):
    manifest = tmp_path / "manifest.txt"
    manifest.write_text("lib/*.py\nno_such_file.md\n")
    with pytest.raises(handout.HandoutError, match=r"manifest\.txt:2: 'no_such_file\.md' matches no file"):
        handout.read_manifest(REPO, str(manifest))
    manifest.write_text("lib/*.py\n? no_such_file.md\n")
    assert all(source.startswith("lib/") for source, _ in handout.read_manifest(REPO, str(manifest)))


def test_every_task_has_its_gap_in_its_file():
    files = handout.build_handout(cut=True)
    assert handout.gaps_by_name(files) == {task.gap: task.file for task in CODE_TASKS}
    make_handout.check_registry(files)


def test_nothing_instructor_only_is_in_the_handout():
    files = handout.build_handout(cut=True)
    for path in files:
        assert path.startswith("docs/figures/") or not path.startswith(handout.NEVER_IN_HANDOUT), path
    assert ".github/workflows/autograding.yml" in files and "conftest.py" in files and "grading/points.py" in files
    assert not any(path.startswith("tests/hidden") for path in files)


@pytest.mark.timeout(120)
def test_make_handout_writes_a_handout_that_fails_every_graded_test_and_refuses_a_full_folder(tmp_path):
    outdir = tmp_path / "handout"
    done = subprocess.run([sys.executable, os.path.join(REPO, "tools", "make_handout.py"), str(outdir)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=110)
    assert done.returncode == 0, done.stdout
    written = sorted(os.path.relpath(os.path.join(d, name), str(outdir)).replace(os.sep, "/")
                     for d, _, names in os.walk(str(outdir)) for name in names)
    expected = handout.build_handout(cut=True)
    assert written == sorted(expected)
    for task in CODE_TASKS:
        text = (outdir / task.file).read_text()
        assert 'raise NotImplementedError("{} is not implemented yet")'.format(task.gap) in text
        # The round trip: the solution's gap bodies put back give the solution file, byte for byte.
        with open(os.path.join(REPO, task.file), encoding="utf-8") as file:
            solution = file.read()
        assert fill_gaps(text, gap_bodies(solution)) == solution
    if os.path.exists(os.path.join(REPO, "runtests.sh")):
        assert os.access(str(outdir / "runtests.sh"), os.X_OK)
    # A full folder is refused before any work; nothing in it changes.
    (outdir / "mine.txt").write_text("keep me")
    again = make_handout.main([str(outdir)])
    assert again == 1 and (outdir / "mine.txt").read_text() == "keep me"


@pytest.mark.timeout(60)
def test_points_plugin_prints_the_table_and_writes_results_json(tmp_path):
    """The student's view: the plugin in the handout reports 0 code points for an untouched handout."""
    root = tmp_path / "handout"
    handout.write_files(handout.build_handout(cut=True), str(root))
    results, summary = tmp_path / "results.json", tmp_path / "summary.md"
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_activations.py",
                           "--points-json", str(results), "--points-markdown", str(summary)],
                          cwd=str(root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=55)
    assert done.returncode == 1, done.stdout  # the ReLU tests fail: the gap is empty
    assert "points of exercise 3" in done.stdout and "ReLU.backward is not implemented yet" in done.stdout
    assert "graded by a tutor" in done.stdout
    data = json.loads(results.read_text())
    relu = next(test for test in data["tests"] if "ReLU.backward" in test["name"])
    assert (relu["score"], relu["max_score"], relu["status"]) == (0, 1, "failed")
    assert data["score"] == 0  # not even the code-style bonus: no gap is filled
    assert "| 2 | ReLU.backward | 0 / 1 | failed |" in summary.read_text()


def test_force_replaces_the_files_but_keeps_the_git_folder(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "old.py").write_text("x = 1\n")
    with pytest.raises(handout.HandoutError, match="not empty"):
        make_handout.prepare_outdir(str(tmp_path), force=False)
    make_handout.prepare_outdir(str(tmp_path), force=True)
    assert os.listdir(str(tmp_path)) == [".git"] and (tmp_path / ".git" / "HEAD").exists()


def test_a_test_of_the_cut_handout_must_fail_on_its_own_tasks_gap_or_a_needed_one():
    # The proof reads which gap a failure was on from the NOT_IMPLEMENTED property the test's report carries
    # (tests/conftest.py adds it), not from the message's wording.
    from grading.points import NOT_IMPLEMENTED
    from tools.make_handout import expected_failure

    def failed(on=None, message="any wording"):
        return {"outcome": "failed", "message": message, "properties": {NOT_IMPLEMENTED: on} if on else {}}

    assert expected_failure("relu_backward", failed("relu_backward"))
    assert expected_failure("check_gradients", failed("linear_backward"))  # a gap its task needs
    assert not expected_failure("relu_backward", failed("linear_backward"))
    assert not expected_failure("relu_backward", failed(message="ReLU.backward is not implemented yet"))
    assert not expected_failure("relu_backward", dict(failed("relu_backward"), outcome="passed"))
