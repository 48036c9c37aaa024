"""The TODO gaps of the exercise: find them in a Python source, cut them out, compare code around them.

A gap is a block inside one function, between a line `# START TODO ...` and a line `# END TODO ...` at the
same indentation. Its first lines that are comments are the instructions for the student; the rest is the
reference solution. The gap's name is the qualified name of the enclosing function, e.g. "Linear.backward".
"""
import ast
import re
from collections import namedtuple
from typing import List

START_PATTERN = re.compile(r"^(?P<indent>[ \t]*)#\s*START TODO\b")
END_PATTERN = re.compile(r"^(?P<indent>[ \t]*)#\s*END TODO\b")

# start, end: 0-based indices of the marker lines. instructions: how many comment lines follow the START marker.
Gap = namedtuple("Gap", "name path start end indent instructions")


class GapError(ValueError):
    """A malformed gap marker; the message starts with file:line."""


def _functions(tree: ast.AST) -> list:
    """(qualified name, first line, last line) of every function, 1-based lines, outer ones first."""
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                found.append((name, child.lineno, child.end_lineno))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def marker_pairs(text: str, path: str = "<string>") -> List[Gap]:
    """The gaps of a source found by their marker lines alone, without parsing the code (so also in a file that
    does not parse); their names are None. Raises GapError (file:line: reason) for malformed markers."""
    lines = text.splitlines()
    gaps, open_start = [], None
    for index, line in enumerate(lines):
        start, end = START_PATTERN.match(line), END_PATTERN.match(line)
        if start:
            if open_start is not None:
                raise GapError("{}:{}: START TODO inside the gap opened at line {} (gaps cannot nest)"
                               .format(path, index + 1, open_start + 1))
            open_start = index
        elif end:
            if open_start is None:
                raise GapError("{}:{}: END TODO without a START TODO before it".format(path, index + 1))
            indent = START_PATTERN.match(lines[open_start]).group("indent")
            if end.group("indent") != indent:
                raise GapError("{}:{}: END TODO is indented differently from its START TODO at line {}"
                               .format(path, index + 1, open_start + 1))
            instructions = 0
            while (open_start + 1 + instructions < index
                   and lines[open_start + 1 + instructions].strip().startswith("#")):
                instructions += 1
            gaps.append(Gap(None, path, open_start, index, indent, instructions))
            open_start = None
    if open_start is not None:
        raise GapError("{}:{}: START TODO without an END TODO".format(path, open_start + 1))
    return gaps


def find_gaps(text: str, path: str = "<string>") -> List[Gap]:
    """All gaps of a Python source, in order. Raises GapError (file:line: reason) for malformed markers."""
    gaps = marker_pairs(text, path)
    if not gaps:
        return []
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as error:
        raise GapError("{}:{}: cannot parse the file: {}".format(path, error.lineno, error.msg))
    functions = _functions(tree)
    named = []
    for gap in gaps:
        # The innermost function whose body holds the START marker (lines are 1-based in ast). The END marker
        # may come after the function's last statement, e.g. after a return; it has START's indentation.
        holders = [f for f in functions if f[1] < gap.start + 1 <= f[2]]
        if not holders:
            raise GapError("{}:{}: the gap is not inside a function".format(path, gap.start + 1))
        name = max(holders, key=lambda f: f[1])[0]
        named.append(gap._replace(name=name))
    return named


def not_implemented_line(gap: Gap) -> str:
    return '{}raise NotImplementedError("{} is not implemented yet")'.format(gap.indent, gap.name)


def _replace_bodies(text: str, gaps: List[Gap], body_of) -> str:
    lines = text.splitlines()
    out, position = [], 0
    for gap in gaps:
        out += lines[position:gap.start + 1]
        out += body_of(gap, lines)
        out.append(lines[gap.end])
        position = gap.end + 1
    out += lines[position:]
    return "\n".join(out) + ("\n" if text.endswith("\n") or not text else "")


def cut_gaps(text: str, path: str = "<string>") -> str:
    """The student's version: each gap keeps its markers and instructions; its code becomes a raise."""
    gaps = find_gaps(text, path)
    return _replace_bodies(text, gaps, lambda gap, lines: (
        lines[gap.start + 1:gap.start + 1 + gap.instructions] + [not_implemented_line(gap)]))


def without_gap_bodies(text: str, path: str = "<string>") -> str:
    """The code around the gaps: everything between the markers removed, lines right-stripped.

    Two versions of a file have the same code outside the gaps exactly when these agree. Line endings and
    trailing spaces do not count (a student on Windows may save with CRLF). Found by the markers alone, so it
    works on a file that does not parse.
    """
    gaps = marker_pairs(text, path)
    stripped = _replace_bodies(text, gaps, lambda gap, lines: [])
    return "\n".join(line.rstrip() for line in stripped.splitlines()).rstrip("\n") + "\n"


def gap_bodies(text: str, path: str = "<string>") -> dict:
    """{gap name: the lines strictly between its markers}."""
    lines = text.splitlines()
    return {gap.name: lines[gap.start + 1:gap.end] for gap in find_gaps(text, path)}


def fill_gaps(text: str, bodies: dict, path: str = "<string>") -> str:
    """`text` with the body of every gap named in `bodies` replaced by those lines (others stay as they are)."""
    return _replace_bodies(text, find_gaps(text, path), lambda gap, lines: (
        bodies[gap.name] if gap.name in bodies else lines[gap.start + 1:gap.end]))
