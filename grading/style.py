"""pycodestyle on a student's files, as typed data: the one driver for the code-style bonus (the points table, the
grader) and for the class report's marks in the gaps.

pycodestyle's continuation-line check takes time quadratic in a long bracketed literal (minutes for one file of
1 MB), so the grader runs it on submitted text in a child process with a wall-clock limit and an address-space
limit (Bound): a file that exceeds one costs the bonus, and the class run goes on. A student's own run (the points
table) checks in its own process, unbounded: it is their file, their machine and their time.
"""
import json
import os
import subprocess
import sys
from collections import Counter, namedtuple
from typing import Dict, List, Optional

from grading.gaps import source_lines

# One problem as pycodestyle reports it: line 1-based, column 1-based, code such as "E225", text its message.
Problem = namedtuple("Problem", "path line column code text")
# problems: the first MAX_PROBLEMS of each file; counts: {code: how many in all}; finished: False when the bounded
# check hit a limit, and then why says which one.
Style = namedtuple("Style", "problems counts finished why")
# A check in a child process that ends after `seconds` or when its address space would pass `memory_mb`.
Bound = namedtuple("Bound", "seconds memory_mb")

# The grader's bound: the lib/ of an honest submission takes well under a second on a loaded 2-core machine.
GRADER = Bound(seconds=20, memory_mb=1024)
# A file of 1 MB can have a problem on every line: what the child sends back stays small.
MAX_PROBLEMS = 1000
# The child's exit code for running out of memory (under the Bound's address-space limit).
OUT_OF_MEMORY = 3
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHILD = "import sys; from grading.style import child; child(int(sys.argv[1]))"


def read_source(path: str) -> str:
    """A file's text for check(), read as UTF-8 (the course's encoding), bytes that are not UTF-8 replaced."""
    with open(path, encoding="utf-8", errors="replace") as file:
        return file.read()


def problems_in(sources: Dict[str, str], max_line_length: int) -> Style:
    """pycodestyle's problems in {path: text}, with this line length and no configuration file (the repository's
    settings decide, not a file a student could change), in this process."""
    import pycodestyle

    class Collect(pycodestyle.BaseReport):
        def error(self, line_number, offset, text, check):
            code = super().error(line_number, offset, text, check)
            if code:
                counts[code] += 1
                if len(kept) < MAX_PROBLEMS:
                    kept.append(Problem(self.filename, line_number, offset + 1, code, text[5:]))
            return code

    guide = pycodestyle.StyleGuide(max_line_length=max_line_length, quiet=True, config_file=False,
                                   parse_argv=False)
    problems, counts = [], Counter()
    for path, text in sources.items():
        kept = []
        lines = source_lines(text.replace("\r\n", "\n").replace("\r", "\n"), keepends=True)
        pycodestyle.Checker(filename=path, lines=lines, options=guide.options,
                            report=Collect(guide.options)).check_all()
        problems += kept
    return Style(problems, dict(counts), True, "")


def check(sources: Dict[str, str], max_line_length: int, bound: Optional[Bound] = None) -> Style:
    """pycodestyle's problems in {path: text}: in this process if bound is None, else in a child process within
    the bound (then a Style that did not finish if it ran out of time or memory, or could not run)."""
    if bound is None:
        return problems_in(sources, max_line_length)
    request = json.dumps({"sources": sources, "max_line_length": max_line_length}).encode("ascii")
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, str(bound.memory_mb)], input=request,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PACKAGE_PARENT, timeout=bound.seconds)
    except subprocess.TimeoutExpired:
        return Style([], {}, False, "pycodestyle did not finish within {} s".format(bound.seconds))
    except OSError as error:
        return Style([], {}, False, "pycodestyle could not be started ({})".format(error.strerror or error))
    if done.returncode == OUT_OF_MEMORY:
        return Style([], {}, False, "pycodestyle ran out of memory ({} MB)".format(bound.memory_mb))
    if done.returncode != 0:
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
        return Style([], {}, False, "pycodestyle failed (exit code {}: {})".format(done.returncode, last[-200:]))
    try:
        answer = json.loads(done.stdout.decode("ascii"))
        return Style([Problem(*problem) for problem in answer["problems"]], answer["counts"], True, "")
    except (ValueError, KeyError, TypeError):
        return Style([], {}, False, "pycodestyle's answer could not be read")


def child(memory_mb: int) -> None:
    """The child process of check(): limit its own address space before it reads any submitted text, then answer
    the request on stdin with JSON on stdout."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = memory_mb * 1024 * 1024
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ImportError, AttributeError, ValueError, OSError):
        pass  # no address-space limit here (Windows, macOS): the wall-clock limit still holds
    try:
        request = json.loads(sys.stdin.buffer.read().decode("ascii"))
        found = problems_in(request["sources"], request["max_line_length"])
    except MemoryError:
        sys.exit(OUT_OF_MEMORY)
    json.dump({"problems": [list(problem) for problem in found.problems], "counts": found.counts}, sys.stdout)
