"""A second line of defence behind the policy (grading/gap_policy.py), for the grader's test runs only.

While code from a gap is running (a frame of a gap function, or of a function defined in a gap, is on the stack),
an audit hook (sys.addaudithook, which Python code cannot remove) refuses what no backward pass needs: compiling
code from strings (exec, eval, compile), opening files outside the Python installation and lib/, starting
processes, sockets and ctypes. Were a way around the policy found, the code that could then run would still not
compile a payload, read the hidden tests or start anything.
"""
import importlib
import os
import sys
import types

from grading.tasks import CODE_TASKS

REFUSED = ("compile", "socket.", "ctypes.", "subprocess.", "os.system", "os.exec", "os.fork", "os.forkpty",
           "os.posix_spawn", "os.spawn", "os.kill", "os.killpg", "os.remove", "os.rename", "os.rmdir", "os.mkdir",
           "os.chmod", "os.chown", "os.symlink", "os.link", "os.truncate", "os.putenv", "os.unsetenv", "shutil.",
           "pty.", "webbrowser.", "urllib.", "ftplib.", "http.", "smtplib.", "sqlite3.", "gc.")


class GapCodeRefused(RuntimeError):
    pass


def gap_code_objects(root: str) -> set:
    """The code objects of every gap function of lib/, and of the functions and lambdas defined in them."""
    found = set()
    for task in CODE_TASKS:
        module = importlib.import_module(os.path.splitext(task.file)[0].replace("/", "."))
        owner = module
        for part in task.gap.split("."):
            owner = getattr(owner, part)
        pending = [owner.__code__]
        while pending:
            code = pending.pop()
            found.add(code)
            pending += [constant for constant in code.co_consts if isinstance(constant, types.CodeType)]
    return found


def install(root: str) -> None:
    """Install the audit hook; call it after the tests were collected (they import lib/ and the test files)."""
    codes = gap_code_objects(root)
    readable = sorted({os.path.realpath(path) for path in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
                      | {os.path.realpath(os.path.join(root, "lib"))})

    timeout_handler = getattr(sys.modules.get("pytest_timeout"), "__file__", None)

    def gap_is_running() -> bool:
        frame = sys._getframe(2)
        while frame is not None:
            code = frame.f_code
            if code.co_filename == timeout_handler:
                return False  # pytest-timeout's handler interrupts the gap to report it: let it read sources
            if code in codes:
                return True
            frame = frame.f_back
        return False

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path = args[0]
            if isinstance(path, (str, bytes)):
                path = os.path.realpath(os.fsdecode(path))
                if any(path == folder or path.startswith(folder + os.sep) for folder in readable):
                    return
        elif not event.startswith(REFUSED):
            return
        if gap_is_running():
            raise GapCodeRefused("the grader refuses '{}' while code from a gap runs".format(event))

    sys.addaudithook(hook)
