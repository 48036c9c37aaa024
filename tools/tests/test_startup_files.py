"""tools/rebuild.extra_files: a file that could change how Python or pytest start is an integrity finding (it is
never used: only the gaps are graded), and a configuration file is one only with a section that does so: a
pyproject.toml that only configures black or ruff is no finding."""
import pytest

from tools.rebuild import extra_files
from tools.submission import Submission

STARTS = "would change how Python or pytest start"


def findings(tmp_path, files):
    for path, text in files.items():
        target = tmp_path.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return extra_files(Submission(str(tmp_path), {}, sorted(files), []), {})


@pytest.mark.parametrize("path, text", [
    ("pyproject.toml", "[tool.black]\nline-length = 120\n"),
    ("pyproject.toml", "[tool.ruff]\nline-length = 120\n\n[tool.ruff.lint]\nselect = ['E', 'F']\n"),
    ("pyproject.toml", "[project]\nname = 'exercise3'\ndescription = \"\"\"\n[tool.pytest.ini_options]\n\"\"\"\n"),
    ("pyproject.toml", "[tool.ruff.lint.flake8-pytest-style]\nfixture-parentheses = false\n"),
    ("tox.ini", "[tox]\nenvlist = py38\n\n[testenv]\ncommands = pytest\n"),
    ("lib/setup.cfg", "[pycodestyle]\nmax-line-length = 120\n\n[flake8]\nmax-line-length = 120\n"),
    ("notes/pytest.txt", "[pytest]\naddopts = -x\n"),
])
def test_configuration_for_other_tools_is_no_finding(tmp_path, path, text):
    assert findings(tmp_path, {path: text}) == []


@pytest.mark.parametrize("path, text", [
    ("pyproject.toml", "[tool.black]\nline-length = 120\n\n[tool.pytest.ini_options]\naddopts = '-p no:x'\n"),
    ("pyproject.toml", "[ tool . \"pytest\" . ini_options ]\naddopts = '-x'\n"),
    ("pyproject.toml", "tool.pytest.ini_options.addopts = '-x'\n"),
    ("pyproject.toml", "[tool]\npytest = { ini_options = { addopts = '-x' } }\n"),
    ("pyproject.toml", "tool = {pytest = {ini_options = {addopts = '-x'}}}\n"),
    ("pyproject.toml", "[tool.\"\\u0070ytest\".ini_options]\naddopts = '-x'\n"),
    ("pyproject.toml", "[build-system]\nrequires = ['setuptools']\n"),
    ("tox.ini", "[tox]\nenvlist = py38\n\n[pytest]\naddopts = -x\n"),
    ("lib/setup.cfg", "[tool:pytest]\naddopts = -x\n"),
    ("pytest.ini", ""),
    ("tests/conftest.py", "import pytest\n"),
    ("lib/sitecustomize.py", "x = 1\n"),
    ("lib/hook.pth", "import os\n"),
])
def test_a_file_that_changes_how_the_tests_start_is_reported(tmp_path, path, text):
    assert findings(tmp_path, {path: text}) == ["{} {} (not used: only the gaps are graded)".format(path, STARTS)]


def test_python_files_not_in_the_handout_are_named_ten_at_a_time(tmp_path):
    # A copied environment without its marker held 2,814 files: one finding each, 440 kB in results.json.
    found = findings(tmp_path, {"env/site-packages/m{:04d}.py".format(number): "" for number in range(2814)})
    assert len(found) == 11 and found[0].startswith("env/site-packages/m0000.py is a Python file that is not in")
    assert found[-1] == "and 2804 more Python files that are not in the handout (not used), such as " \
                        "env/site-packages/m0010.py"
