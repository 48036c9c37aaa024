"""Figures for the root scripts, drawn with matplotlib (kept out of lib/, which is NumPy and SciPy only),
and the two things both scripts do around them: choosing the backend and exiting."""
import os
import sys
from typing import Callable


def use_backend(show: bool) -> None:
    """Draw off-screen unless a window was asked for, so a script never blocks and runs without a display."""
    import matplotlib
    if not show:
        matplotlib.use("Agg")


def run_script(main: Callable[[], int], script_path: str) -> None:
    """Exit with main()'s return code.

    In the handout, the scripts run the student's gaps: a NotImplementedError from an empty gap exits with
    one line that names it, prefixed by the script's file name, instead of a traceback.
    """
    try:
        sys.exit(main())
    except NotImplementedError as error:
        sys.exit("{}: {} Fill that TODO gap first (./runtests.sh shows which tests check it).".format(
            os.path.basename(script_path), str(error).rstrip(".") + "."))
