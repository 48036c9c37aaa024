"""The README's tables of tasks and points must agree with the points table, grading/tasks.py."""
import os
import re

from grading.tasks import CODE_TASKS, total
from tools import handout

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        return handle.read()


def test_readme_blocks_are_rendered_from_the_registry():
    # The handout renders them anew (tools/handout.py); the master's copy must not be stale either.
    text = readme()
    assert handout.with_registry_blocks(text) == text
    assert "<!-- registry:tasks -->" in text and "<!-- registry:points -->" in text


def test_readme_task_table_matches_tasks_py():
    rows = re.findall(r"^\| (\d+) \| `([\w.]+)` \| `([\w/.]+)` \| (\d+) \| `python -m pytest -m (\w+)` \|$",
                      readme(), flags=re.MULTILINE)
    assert rows == [(str(t.number), t.gap, t.file, str(t.points), t.key) for t in CODE_TASKS]


def test_readme_totals_match_tasks_py():
    assert "worth {} points plus {} bonus points".format(total("code") + total("tutor"), total("bonus")) in readme()


def test_every_test_file_runs_as_a_module():
    # The README (and the sheet) promise `python -m tests.test_<name>` for every test file.
    folder = os.path.join(ROOT, "tests")
    for name in sorted(os.listdir(folder)):
        if name.startswith("test_") and name.endswith(".py"):
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                source = handle.read()
            assert 'if __name__ == "__main__":\n    sys.exit(pytest.main([__file__] + sys.argv[1:]))' in source, name
