"""runtests.bat under Wine's cmd.exe, next to runtests.sh: the same lines and exit codes, PYTHON honoured, python
from PATH, py -3 as the fallback, and the caller's folder and variables kept (setlocal).

No Python runs under Wine: stand-ins for python and py (small .bat files, which runtests.bat must start with
"call" or it ends there) note each call and exit with the code the test chose. The paths have spaces in them, and
some have parentheses, as "C:\\Program Files (x86)" has.
"""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WINE = shutil.which("wine")
WINESERVER = shutil.which("wineserver")

pytestmark = [
    pytest.mark.skipif(WINE is None, reason="wine is not installed (Debian: apt-get install wine wine64), and "
                                            "runtests.bat is tested under Wine's cmd.exe"),
    # Wine's first start in a new prefix (about 10 s) counts towards the first test's time.
    pytest.mark.timeout(120),
]

# Each stand-in notes its name, the folder it was started in and its arguments as cmd.exe passed them.
STAND_IN = r"""@echo off
>>"%~dp0calls.txt" echo [%~n0] [%CD%] %*
for %%A in (%*) do if "%%~A"=="pytest" if defined FAKE_STATUS >"%POINTS_STATUS_FILE%" echo %FAKE_STATUS%
for %%A in (%*) do if "%%~A"=="pytest" exit /b %FAKE_PYTEST_EXIT%
for %%A in (%*) do if "%%~A"=="pycodestyle" exit /b %FAKE_STYLE_EXIT%
exit /b 0
"""
# What the Microsoft Store's python.exe alias does when no Python is installed.
STORE_ALIAS = r"""@echo off
>>"%~dp0calls.txt" echo [%~n0] [%CD%] %*
echo Python was not found; run without arguments to install from the Microsoft Store 1>&2
exit /b 9009
"""
SH_STAND_IN = """#!/bin/sh
for argument in "$@"; do
    case "$argument" in
        pytest)
            if [ -n "$FAKE_STATUS" ]; then printf '%s\n' "$FAKE_STATUS" > "$POINTS_STATUS_FILE"; fi
            exit "$FAKE_PYTEST_EXIT" ;;
        pycodestyle) exit "$FAKE_STYLE_EXIT" ;;
    esac
done
"""
DRIVER = r"""@echo off
set "PATH={path};%SystemRoot%\system32;%SystemRoot%"
set FAKE_PYTEST_EXIT={pytest}
set FAKE_STYLE_EXIT={style}
set "FAKE_STATUS={status}"
set "PYTHON={python}"
"{repo}\runtests.bat" {arguments}
"""
# pytest's arguments with spaces and quotes, for the bat and for the sh.
BAT_ARGUMENTS = r'-k "relu and not slow" "tests\my tests"'
SH_ARGUMENTS = ["-k", "relu and not slow", "tests/my tests"]


def windows(path) -> str:
    """The path as Wine's programs see it (Wine maps the Unix root to Z:)."""
    return "Z:" + str(path).replace("/", "\\")


class Wine:
    """A Wine prefix (in a home of its own) and a folder tree with a copy of runtests.bat and the stand-ins."""

    def __init__(self, root, home):
        self.root = root
        self.home = home
        self.env = {name: value for name, value in os.environ.items()
                    if name not in ("DISPLAY", "WAYLAND_DISPLAY", "PYTHON") and not name.startswith("XDG_")}
        # No Mono or Gecko: Wine would try to install them into the new prefix, which only slows its first start.
        # No menu entries either, and a home of its own: a new prefix writes menus and file types into the home.
        self.env.update(WINEPREFIX=str(home / "prefix"), WINEDEBUG="-all", HOME=str(home),
                        WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d")
        self.repo = root / "my repo (copy)"
        self.repo.mkdir()
        for name in ("runtests.bat", "runtests.sh"):
            shutil.copy2(os.path.join(REPO, name), str(self.repo / name))
        self.folders = {}
        for key, folder, name, text in [
                ("PYTHON", "Program Files (x86)/Python 3.8", "python.bat", STAND_IN),
                ("python", "on the path", "python.bat", STAND_IN),
                ("python3", "on the path", "python3.bat", STAND_IN),
                ("py", "py launcher", "py.bat", STAND_IN),
                ("store", "WindowsApps", "python.bat", STORE_ALIAS),
                ("sh", "sh stand-in", "python", SH_STAND_IN)]:
            directory = root / folder
            directory.mkdir(parents=True, exist_ok=True)
            (directory / name).write_text(text)
            self.folders[key] = directory
        os.chmod(str(self.folders["sh"] / "python"), 0o755)
        self.elsewhere = root / "the caller's folder"
        self.elsewhere.mkdir()

    def cmd(self, script: str) -> subprocess.CompletedProcess:
        """Runs a batch file with this text in cmd.exe, after clearing the stand-ins' notes."""
        for directory in self.folders.values():
            if (directory / "calls.txt").exists():
                (directory / "calls.txt").unlink()
        (self.root / "driver.bat").write_text(script)
        # Files, not pipes: Wine's background processes inherit them and live on, so reading a pipe up to its end
        # would wait for them.
        with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
            done = subprocess.run([WINE, "cmd", "/c", "driver.bat"], cwd=str(self.root), env=self.env,
                                  stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, timeout=60)
            stdout.seek(0)
            stderr.seek(0)
            done.stdout, done.stderr = stdout.read(), stderr.read()
        return done

    def runtests(self, path=(), pytest_exit=0, style_exit=0, python="", arguments=BAT_ARGUMENTS, status=""):
        """Runs runtests.bat from a driver that sets PATH (the stand-ins named), the exit codes and what the
        stand-in pytest writes to the points plugin's status file (nothing, as a real pytest without the plugin)."""
        return self.cmd(DRIVER.format(path=";".join(windows(self.folders[key]) for key in path),
                                      pytest=pytest_exit, style=style_exit, python=python, status=status,
                                      repo=windows(self.repo), arguments=arguments))

    def calls(self, key) -> list:
        """(folder, arguments) of each call of that stand-in."""
        notes = self.folders[key] / "calls.txt"
        if not notes.exists():
            return []
        calls = []
        for line in notes.read_text(errors="replace").splitlines():
            found = re.match(r"^\[[^]]*\] \[(.*?)\] ?(.*?)\s*$", line)
            assert found, "a stand-in's note has an unexpected form: {!r}".format(line)
            calls.append((found.group(1), found.group(2)))
        return calls


@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    if WINESERVER is None:
        pytest.skip("wine is installed without wineserver; reinstall it (apt-get install wine wine64)")
    wine = Wine(tmp_path_factory.mktemp("runtests bat"), tmp_path_factory.mktemp("wine home"))
    # A wineserver that stays up between the tests (until teardown, or 30 s after an interrupted run) keeps each
    # start of cmd.exe well under a second.
    subprocess.run([WINESERVER, "-p30"], env=wine.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)
    started = wine.cmd("@echo off\necho Wine is ready\n")
    assert "Wine is ready" in started.stdout.decode(errors="replace"), started.stderr.decode(errors="replace")
    yield wine
    # The prefix's wineserver would otherwise outlive the tests, and the prefix takes some 700 MB.
    subprocess.run([WINESERVER, "-k"], env=wine.env, timeout=30)
    shutil.rmtree(str(wine.home), ignore_errors=True)


def lines(stream: bytes) -> list:
    return stream.decode(errors="replace").splitlines()


def expected_lines(pytest_exit: int, style_exit: int) -> list:
    output = ["", "pycodestyle ."]
    if style_exit == 0:
        output.append("code style: clean")
    if pytest_exit or style_exit:
        output.append("runtests: FAILED (pytest exit {}, pycodestyle exit {})".format(pytest_exit, style_exit))
    else:
        output.append("runtests: all passed")
    return output


@pytest.mark.parametrize("pytest_exit, style_exit", [(0, 0), (1, 0), (0, 1), (1, 1)],
                         ids=["both pass", "tests fail", "style fails", "both fail"])
def test_the_same_lines_and_exit_code_as_runtests_sh(wine, pytest_exit, style_exit):
    # python and py are on PATH too: PYTHON wins over both.
    result = wine.runtests(path=["python", "py"], pytest_exit=pytest_exit, style_exit=style_exit,
                           python=windows(wine.folders["PYTHON"] / "python.bat"))
    sh = subprocess.run(["bash", str(wine.repo / "runtests.sh")] + SH_ARGUMENTS, stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, env=dict(
                            os.environ, PYTHON=str(wine.folders["sh"] / "python"),
                            FAKE_PYTEST_EXIT=str(pytest_exit), FAKE_STYLE_EXIT=str(style_exit)))
    assert lines(sh.stdout) == expected_lines(pytest_exit, style_exit), sh.stderr
    assert lines(result.stdout) == lines(sh.stdout), result.stderr
    assert result.returncode == sh.returncode == (1 if pytest_exit or style_exit else 0)
    assert wine.calls("PYTHON") == [(windows(wine.repo), "-m pytest " + BAT_ARGUMENTS),
                                    (windows(wine.repo), "-m pycodestyle .")]
    assert wine.calls("python") == [] and wine.calls("py") == []


def test_pytest_exit_code_is_reported_as_it_is(wine):
    # pytest exits 5 when it collects no test; runtests.sh reports the 5.
    stand_in = windows(wine.folders["PYTHON"] / "python.bat")
    probe = wine.cmd('@echo off\nset FAKE_PYTEST_EXIT=5\ncall "{}" -m pytest\necho %ERRORLEVEL%\n'.format(stand_in))
    if lines(probe.stdout) != ["5"]:
        version = subprocess.run([WINE, "--version"], stdout=subprocess.PIPE, env=wine.env).stdout
        pytest.skip("this Wine's cmd.exe ({}) turns the exit code of every call that fails into 1 (cmd.exe on "
                    "Windows keeps it), so the 5 cannot reach runtests.bat".format(version.decode().strip()))
    result = wine.runtests(pytest_exit=5, python=stand_in)
    assert lines(result.stdout)[-1] == "runtests: FAILED (pytest exit 5, pycodestyle exit 0)"
    assert result.returncode == 1


@pytest.mark.parametrize("python, key", [('"{}"', "PYTHON"), ("python3", "python3")],
                         ids=["a path in quotes", "a command name (set PYTHON=python3)"])
def test_PYTHON_in_the_other_forms_the_README_allows(wine, python, key):
    python = python.format(windows(wine.folders["PYTHON"] / "python.bat"))
    result = wine.runtests(path=["python", "py"], python=python)
    assert lines(result.stdout)[-1] == "runtests: all passed", (result.stdout, result.stderr)
    assert [arguments for _, arguments in wine.calls(key)] == ["-m pytest " + BAT_ARGUMENTS, "-m pycodestyle ."]
    assert wine.calls("py") == []


def test_python_from_the_path_when_PYTHON_is_not_set(wine):
    result = wine.runtests(path=["python", "py"], pytest_exit=1)
    assert lines(result.stdout) == expected_lines(1, 0) and result.returncode == 1, result.stderr
    assert [arguments for _, arguments in wine.calls("python")] == [
        "--version", "-m pytest " + BAT_ARGUMENTS, "-m pycodestyle ."]
    assert wine.calls("py") == []


@pytest.mark.parametrize("path", [["py"], ["store", "py"]], ids=["no python", "only the Store's alias"])
def test_py_launcher_when_no_python_runs(wine, path):
    result = wine.runtests(path=path, style_exit=1)
    assert lines(result.stdout) == expected_lines(0, 1) and result.returncode == 1, result.stderr
    assert wine.calls("py") == [(windows(wine.repo), "-3 --version"),
                                (windows(wine.repo), "-3 -m pytest " + BAT_ARGUMENTS),
                                (windows(wine.repo), "-3 -m pycodestyle .")]
    assert [arguments for _, arguments in wine.calls("store")] == (["--version"] if "store" in path else [])


def test_no_python_at_all_says_what_to_do(wine):
    result = wine.runtests(path=["store"])
    error = result.stderr.decode(errors="replace")
    assert result.returncode == 1
    assert "runtests: found no Python" in error and "set PYTHON=" in error, error
    assert "pycodestyle ." not in lines(result.stdout)


def test_the_caller_keeps_its_folder_and_variables(wine):
    result = wine.cmd("\n".join([
        "@echo off",
        'set "PATH={};%SystemRoot%\\system32;%SystemRoot%"'.format(windows(wine.folders["python"])),
        'cd /d "{}"'.format(windows(wine.elsewhere)),
        "set FAKE_PYTEST_EXIT=1",
        "set FAKE_STYLE_EXIT=1",
        "set TESTS=the caller's",
        "set RUN=the caller's",
        'call "{}\\runtests.bat"'.format(windows(wine.repo)),
        "echo after: [%CD%] [%TESTS%] [%STYLE%] [%RUN%] [%FAILED%] [%PYTHON%]",
        ""]))
    output = lines(result.stdout)
    assert output[-2] == "runtests: FAILED (pytest exit 1, pycodestyle exit 1)", (output, result.stderr)
    assert output[-1] == "after: [{}] [the caller's] [] [the caller's] [] []".format(windows(wine.elsewhere))
    assert [folder for folder, _ in wine.calls("python")] == [windows(wine.repo)] * 3


ENDED = ("runtests: FAILED: the test run ended{} before it printed the points table (os._exit, a crash, or a time-out "
         "that ended Python)")


@pytest.mark.parametrize("status, pytest_exit, last", [
    ("table", 0, "runtests: all passed"),
    ("table", 1, "runtests: FAILED (pytest exit 1, pycodestyle exit 0)"),
    ("running tests/test_activations.py::test_relu_backward[float32 1x3]", 0,
     ENDED.format(" during tests/test_activations.py::test_relu_backward[float32 1x3]")),
    ("started", 0, ENDED.format("")),
], ids=["the table printed", "the table printed, tests failed", "ended during a test (os._exit(0))",
        "ended before any test"])
def test_a_run_that_ended_without_its_points_table_fails_with_one_line(wine, status, pytest_exit, last):
    result = wine.runtests(pytest_exit=pytest_exit, python=windows(wine.folders["PYTHON"] / "python.bat"),
                           status=status)
    sh = subprocess.run(["bash", str(wine.repo / "runtests.sh")] + SH_ARGUMENTS, stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, env=dict(
                            os.environ, PYTHON=str(wine.folders["sh"] / "python"), FAKE_STATUS=status,
                            FAKE_PYTEST_EXIT=str(pytest_exit), FAKE_STYLE_EXIT="0"))
    assert lines(sh.stdout)[-1] == last, (sh.stdout, sh.stderr)
    assert lines(result.stdout) == lines(sh.stdout), result.stderr
    assert result.returncode == sh.returncode == (0 if last == "runtests: all passed" else 1)
    # The status file is gone afterwards, on both.
    assert not [name for name in os.listdir(tempfile.gettempdir()) if name.startswith("runtests-status")]
