"""pycodestyle on a student's files, as typed data: the one driver for the code-style bonus (the points table, the
grader) and for the class report's marks in the gaps.

pycodestyle's continuation-line check takes time quadratic in a long bracketed literal (minutes for one file of
1 MB), so the grader runs it on submitted text in a child process within a wall-clock and an address-space limit
(grading/bounded.py): a file that exceeds one costs the bonus, and the class run goes on. A student's own run (the
points table) checks in its own process, unbounded: it is their file, their machine and their time.
"""
from collections import Counter, namedtuple
from typing import Dict, Optional

from grading.bounded import Bound, Unfinished, call
from grading.gaps import source_lines

# One problem as pycodestyle reports it: line 1-based, column 1-based, code such as "E225", text its message.
Problem = namedtuple("Problem", "path line column code text")
# problems: the first MAX_PROBLEMS of each file; counts: {code: how many in all}; finished: False when the bounded
# check hit a limit, and then why says which one.
Style = namedtuple("Style", "problems counts finished why")
# The grader's bound: the lib/ of an honest submission takes well under a second on a loaded 2-core machine.
GRADER = Bound(seconds=20, memory_mb=1024)
# A file of 1 MB can have a problem on every line: what the child sends back stays small.
MAX_PROBLEMS = 1000


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
    try:
        answer = call("grading.style", "answer", {"sources": sources, "max_line_length": max_line_length}, bound,
                      "pycodestyle")
        return Style([Problem(*problem) for problem in answer["problems"]], answer["counts"], True, "")
    except Unfinished as stopped:
        return Style([], {}, False, stopped.why)
    except (KeyError, TypeError):
        return Style([], {}, False, "pycodestyle's answer could not be read")


def answer(request: dict) -> dict:
    """check()'s request answered in the child process (grading/bounded.py)."""
    found = problems_in(request["sources"], request["max_line_length"])
    return {"problems": [list(problem) for problem in found.problems], "counts": found.counts}
