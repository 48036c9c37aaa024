"""The registry (grading/tasks.py) against the files that depend on it: the gaps of lib/, the pytest markers of
setup.cfg and of the tests, the value checks and the README. Not graded; they pass in a fresh copy too."""
import configparser
import os
import re
import sys

import numpy as np
import pytest

from grading import checks  # noqa: F401  (importing it registers the checks)
from grading.tasks import CODE_TASKS, REGISTRY_PROBLEMS, TASKS, VALUE_CHECKS, total

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as file:
        return file.read()


def gap_names(text):
    """The names of the functions that hold a `# START TODO` line (module-level functions only, as here)."""
    names, current = [], None
    for line in text.splitlines():
        match = re.match(r"def (\w+)", line)
        current = match.group(1) if match else current
        if re.match(r"\s+# START TODO", line):
            names.append(current)
    return names


def test_every_gap_of_lib_is_one_code_task():
    found = sorted((name, "lib/" + file) for file in os.listdir(os.path.join(ROOT, "lib")) if file.endswith(".py")
                   for name in gap_names(read("lib/" + file)))
    assert found == sorted((task.gap, task.file) for task in CODE_TASKS)


def test_setup_cfg_registers_one_marker_per_code_task():
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, "setup.cfg"))
    markers = [line.split(":")[0].strip() for line in config["tool:pytest"]["markers"].splitlines() if line.strip()]
    assert markers == [task.key for task in CODE_TASKS]


def test_every_code_task_has_tests_and_a_value_check():
    tests = "".join(read("tests/" + name) for name in os.listdir(os.path.join(ROOT, "tests")) if name.endswith(".py"))
    for task in CODE_TASKS:
        assert "@pytest.mark.{}\n".format(task.key) in tests, task.key
    assert sorted(VALUE_CHECKS) == sorted(task.key for task in CODE_TASKS) and not REGISTRY_PROBLEMS


def test_readme_lists_every_task_with_its_points():
    readme = read("README.md")
    for task in TASKS:
        row = "| {} | `{}` | `{}` | {} |".format(task.number, task.gap, task.file, task.points) if \
            task.kind == "code" else "| {} | {} |".format(task.title, task.points)
        assert row in readme, row
    assert "worth {} points".format(total("code") + total("tutor")) in readme


@pytest.mark.parametrize("task", [pytest.param(task, marks=getattr(pytest.mark, task.key), id=task.key)
                                  for task in CODE_TASKS])
def test_value_check_is_deterministic(task):
    # Graded with its task (it runs the task's gap): the same generator twice gives the same outputs.
    first = VALUE_CHECKS[task.key](np.random.default_rng([7, task.number]))
    second = VALUE_CHECKS[task.key](np.random.default_rng([7, task.number]))
    assert isinstance(first, dict) and first and list(first) == list(second)
    for name in first:
        assert np.array_equal(np.asarray(first[name]), np.asarray(second[name])), name


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
