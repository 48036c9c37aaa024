"""Source is read as Python reads it: lines end at \\n, \\r\\n and \\r only (grading.gaps.source_lines), not also at
the form feeds, vertical tabs, \\x1c-\\x1e, \\x85, U+2028 and U+2029 that str.splitlines() splits at. Through the
grade of record (tools/grade.grade_folders), a correct gap with one of them in a comment or a string keeps every
point with no finding; so do a pyproject.toml that only configures black, and a root script that pycodestyle
cannot finish costs the style bonus and nothing else.
"""
import os

import pytest

from grading import style
from grading.gaps import fill_gaps, gap_bodies, source_lines
from grading.tasks import CODE_TASKS, TASKS_BY_KEY
from tools import grade, handout
from tools.tests.test_bounded_parsing import NESTED

pytestmark = pytest.mark.timeout(900)

# {submission: (the task whose gap holds the line, the line at the gap's indentation)}
HONEST = {
    "form_feed_in_a_comment": ("relu_backward", "# the mask \x0c where the input was positive"),
    "line_separator_in_a_comment": ("linear_backward", "# the gradient \u2028 of the weights"),
    "paragraph_separator_in_a_string": ("cross_entropy_backward", "note = 'softmax \u2029 minus one-hot'"),
    "next_line_in_a_string": ("zero_grad", "note = \"zeros \x85 like the data\""),
    "vertical_tab_in_a_comment": ("sequential_backward", "# in reverse \x0b order"),
    "file_separator_in_a_comment": ("backward_pass", "# loss, then \x1c backward"),
    "a_page_break_line": ("check_gradients", "\x0c"),
}
BLACK_ONLY = "[tool.black]\nline-length = 120\n\n[tool.ruff]\nline-length = 120\n"
PYTEST_SECTION = "[tool.black]\nline-length = 120\n\n[tool.pytest.ini_options]\naddopts = \"-p no:cacheprovider\"\n"


def test_lines_end_where_python_ends_them():
    for text in ("", "a", "a\n", "a\nb", "a\n\nb\n", "\n", "a\r\nb\rc\n"):
        assert source_lines(text) == text.splitlines()
        assert source_lines(text, keepends=True) == text.splitlines(True)
    text = "a\x0bb\x0cc\x1cd\x1de\x1ef\x85g\u2028h\u2029i\n"
    assert source_lines(text) == [text[:-1]] and len(text.splitlines()) == 9
    assert source_lines("x\r\ny\rz") == ["x", "y", "z"]


def with_line(files: dict, task_key: str, line: str) -> None:
    """The reference body of the task's gap with `line` after its instructions, at the gap's indentation."""
    task = TASKS_BY_KEY[task_key]
    text = files[task.file].decode("utf-8")
    body = gap_bodies(text, task.file)[task.gap]
    instructions = next(index for index, old in enumerate(body) if not old.strip().startswith("#"))
    indent = body[instructions][:len(body[instructions]) - len(body[instructions].lstrip())]
    body = body[:instructions] + [indent + line if line.strip() else line] + body[instructions:]
    files[task.file] = fill_gaps(text, {task.gap: body}, task.file).encode("utf-8")


def write_submission(path: str, task_key=None, line=None, extra=None) -> str:
    """The solution with its feedback answered, `line` in a gap and `extra` files ({path: text}) beside it."""
    files = handout.build_handout(cut=False)
    if task_key is not None:
        with_line(files, task_key, line)
    files["feedback.md"] = files["feedback.md"].replace(b"_Replace this line with your answer._", b"None, thanks.")
    for name, text in (extra or {}).items():
        files[name] = text.encode("utf-8")
    handout.write_files(files, path)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("source-lines")
    made = {name: write_submission(str(root / name), key, line) for name, (key, line) in HONEST.items()}
    made["pyproject_for_black_only"] = write_submission(str(root / "black"), extra={"pyproject.toml": BLACK_ONLY})
    made["pyproject_with_pytest"] = write_submission(str(root / "pytest"), extra={"pyproject.toml": PYTEST_SECTION})
    script = handout.build_handout(cut=False)["run_xor_experiment.py"].decode("utf-8")
    made["style_check_cannot_finish"] = write_submission(str(root / "slow"), extra={
        "run_xor_experiment.py": script + "\n\n" + NESTED})
    results = grade.grade_folders(list(made.values()), jobs=2, sandbox=os.environ.get("GRADE_TEST_SANDBOX", "auto"))
    return dict(zip(made, results))


def rows(result: dict) -> dict:
    assert not result.error, result.error
    return {row.task.key: row for row in result.rows}


@pytest.mark.parametrize("name", sorted(HONEST) + ["pyproject_for_black_only"])
def test_an_honest_submission_keeps_every_point_with_no_finding(graded, name):
    result = graded[name]
    found = rows(result)
    for task in CODE_TASKS:
        assert found[task.key].status == "passed", found[task.key].detail
    assert found["code_style"].points == 1, found["code_style"].detail
    assert found["feedback"].points == 1, found["feedback"].detail
    assert result.integrity == [] and result.policy == []


def test_a_pyproject_with_a_pytest_section_is_reported_and_not_used(graded):
    result = graded["pyproject_with_pytest"]
    assert all(rows(result)[task.key].status == "passed" for task in CODE_TASKS)
    assert result.integrity == ["pyproject.toml would change how Python or pytest start (not used: only the "
                                "gaps are graded)"]


def test_a_file_pycodestyle_cannot_finish_costs_the_style_bonus_only(graded):
    result = graded["style_check_cannot_finish"]
    found = rows(result)
    assert all(found[task.key].status == "passed" for task in CODE_TASKS)
    assert found["code_style"].points == 0 and found["feedback"].points == 1
    assert "pycodestyle did not finish within {} s".format(style.GRADER.seconds) in found["code_style"].detail
    assert len(result.integrity) == 1 and result.integrity[0].startswith("run_xor_experiment.py differs")
    assert result.seconds < style.GRADER.seconds + 60
