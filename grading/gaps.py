"""The TODO gaps of the exercise: the one place that finds them, cuts them out and splices a student's back in.

A gap is a block inside one function, between a line `# START TODO ...` and the next line `# END TODO ...`. Its
first lines that are comments are the instructions for the student; the rest is the reference solution. A gap is
named by the qualified name of the function that holds its START line, e.g. "Linear.backward", never by its
position, so a gap added between two releases does not shift the others.

The grader takes a student's gap body by that name and splices it into the handout's file (splice()): the body
must parse on its own as statements that stay inside the gap's function, and the spliced file's syntax tree
outside the gaps' bodies must equal the handout's. Anything else rejects that gap alone, with one line that names
the gap and the line.
"""
import ast
import bisect
import hashlib
import importlib
import io
import re
import tokenize
from collections import Counter, namedtuple
from typing import Dict, List, Optional, Tuple

START_PATTERN = re.compile(r"^(?P<indent>[ \t]*)#\s*START TODO\b")
END_PATTERN = re.compile(r"^(?P<indent>[ \t]*)#\s*END TODO\b")
DEFINITION = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?(?P<kind>def|class)\s+(?P<name>\w+)")

# start, end: 0-based indices of the marker lines. instructions: how many comment lines follow the START marker.
Gap = namedtuple("Gap", "name path start end indent instructions")


class GapError(ValueError):
    """A malformed gap marker; the message starts with file:line."""


def width(whitespace: str) -> int:
    """The column a line's leading whitespace reaches, as Python reads it: tabs to the next multiple of 8."""
    column = 0
    for character in whitespace:
        if character == "\f":
            column = 0  # as Python's tokenizer counts a form feed (an editor's page break)
        else:
            column = (column // 8 + 1) * 8 if character == "\t" else column + 1
    return column


# What Python reads as indentation.
INDENTATION = " \t\f"


def _leading(line: str) -> str:
    return line[:len(line) - len(line.lstrip(INDENTATION))]


# Line ends as Python's tokenizer reads them. str.splitlines() also splits at \x0b, \x0c, \x1c-\x1e, \x85, U+2028
# and U+2029, which Python reads as characters inside a line (a form feed in a comment, U+2029 in a string).
LINE_END = re.compile(r"(\r\n|\r|\n)")
# No gap of the handout sits in a function whose qualified name is this long; a longer one is never built, so that
# many gaps nested under long names cost no more than their lines.
MAX_NAME_CHARACTERS = 200


def source_lines(text: str, keepends: bool = False) -> List[str]:
    """The lines of a source as Python reads them: they end at \\n, \\r\\n and \\r only. Like
    str.splitlines(), no empty line after a last line end."""
    parts = LINE_END.split(text)  # line, its end, line, its end, ..., the text after the last end
    if keepends:
        lines = [parts[index] + parts[index + 1] for index in range(0, len(parts) - 1, 2)]
    else:
        lines = parts[:-1:2]
    return lines + [parts[-1]] if parts[-1] else lines


class _Definition:
    """A `def` or `class` line, linked to the one around it; its qualified name is built once, when asked."""
    __slots__ = ("name", "outer", "function", "length", "qualified")

    def __init__(self, name: str, kind: str, outer: Optional["_Definition"]):
        self.name, self.outer, self.qualified = name, outer, None
        self.length = len(name) + (outer.length + 1 if outer is not None else 0)
        # the innermost function at or around it: what encloses a line is that function and everything around it
        self.function = self if kind == "def" else (outer.function if outer is not None else None)

    def qualified_name(self) -> str:
        if self.qualified is None:
            parts, definition = [], self
            while definition is not None:
                parts.append(definition.name)
                definition = definition.outer
            self.qualified = ".".join(reversed(parts))
        return self.qualified


class Scopes:
    """The enclosing functions of a file's lines, read from the `def` and `class` lines by their indentation (so
    also in a file that does not parse), in one pass: feed every line with add(), in order, and ask function_at()
    for the function around a comment line (a marker) at some indentation. Each code line is pushed and popped at
    most once, and a query is a binary search, so a file costs time in proportion to its size."""

    def __init__(self):
        # The code lines above, nearest last, whose indentation decreases towards the file's start (strictly
        # increasing here): the chain of blocks that a line below them can be inside.
        self.indents = []
        self.definitions = []  # per entry: the innermost def or class line at or around it, or None

    def add(self, line: str) -> None:
        if not line.strip() or line.lstrip().startswith("#"):
            return
        indent = width(_leading(line))
        while self.indents and self.indents[-1] >= indent:
            self.indents.pop()
            self.definitions.pop()
        outer = self.definitions[-1] if self.definitions else None
        match = DEFINITION.match(line)
        self.indents.append(indent)
        self.definitions.append(_Definition(match.group("name"), match.group("kind"), outer) if match else outer)

    def function_at(self, indent: int) -> Optional[str]:
        """The qualified name of the innermost function whose body holds a line at this indentation below the
        lines added so far; None outside functions. Raises ValueError for a name over MAX_NAME_CHARACTERS."""
        inside = bisect.bisect_left(self.indents, indent)  # the entries left of the line enclose it
        definition = self.definitions[inside - 1] if inside else None
        function = definition.function if definition is not None else None
        if function is None:
            return None
        if function.length > MAX_NAME_CHARACTERS:
            raise ValueError("the qualified name of its function is longer than {} characters".format(
                MAX_NAME_CHARACTERS))
        return function.qualified_name()


def marker_pairs(text: str, path: str = "<string>") -> List[Gap]:
    """The gaps of a source, found by their marker lines and named by their enclosing function's `def` lines,
    without parsing the code (so also in a file that does not parse). Raises GapError (file:line: reason)."""
    lines = source_lines(text)
    gaps, open_start, name = [], None, None
    scopes = Scopes()
    for index, line in enumerate(lines):
        if START_PATTERN.match(line):
            if open_start is not None:
                raise GapError("{}:{}: START TODO inside the gap opened at line {} (gaps cannot nest)"
                               .format(path, index + 1, open_start + 1))
            open_start = index
            try:
                name = scopes.function_at(width(_leading(line)))
            except ValueError as error:
                raise GapError("{}:{}: {}".format(path, index + 1, error))
        elif END_PATTERN.match(line):
            if open_start is None:
                raise GapError("{}:{}: END TODO without a START TODO before it".format(path, index + 1))
            indent = START_PATTERN.match(lines[open_start]).group("indent")
            instructions = 0
            while (open_start + 1 + instructions < index
                   and lines[open_start + 1 + instructions].strip().startswith("#")):
                instructions += 1
            if name is None:
                raise GapError("{}:{}: the gap is not inside a function".format(path, open_start + 1))
            gaps.append(Gap(name, path, open_start, index, indent, instructions))
            open_start = None
        scopes.add(line)
    if open_start is not None:
        raise GapError("{}:{}: START TODO without an END TODO".format(path, open_start + 1))
    return gaps


def find_gaps(text: str, path: str = "<string>") -> List[Gap]:
    """All gaps of one of our own sources, in order. Raises GapError for malformed markers, a file that does not
    parse, two gaps in one function, or marker lines indented unlike each other."""
    gaps = marker_pairs(text, path)
    if not gaps:
        return []
    try:
        ast.parse(text, filename=path)
    except SyntaxError as error:
        raise GapError("{}:{}: cannot parse the file: {}".format(path, error.lineno, error.msg))
    lines = source_lines(text)
    for gap in gaps:
        if END_PATTERN.match(lines[gap.end]).group("indent") != gap.indent:
            raise GapError("{}:{}: END TODO is indented differently from its START TODO at line {}"
                           .format(path, gap.end + 1, gap.start + 1))
    twice = sorted(name for name, count in Counter(gap.name for gap in gaps).items() if count > 1)
    if twice:
        raise GapError("{}: more than one gap in {}".format(path, ", ".join(twice)))
    return gaps


def gap_function(file: str, gap: str):
    """The function that holds the gap `gap` (a qualified name, such as "Linear.backward") of `file` (a path such as
    "lib/network.py"), as the module defines it now: imported, as the tests import it. Raises ImportError,
    AttributeError or SyntaxError where the file or the name does not import."""
    owner = importlib.import_module(file[:-len(".py")].replace("/", "."))
    for part in gap.split("."):
        owner = getattr(owner, part)
    return owner


def not_implemented_line(gap: Gap) -> str:
    return '{}raise NotImplementedError("{} is not implemented yet")'.format(gap.indent, gap.name)


def _replace_bodies(text: str, gaps: List[Gap], body_of) -> str:
    lines = source_lines(text)
    out, position = [], 0
    for gap in sorted(gaps, key=lambda gap: gap.start):
        out += lines[position:gap.start + 1]
        out += body_of(gap, lines)
        out.append(lines[gap.end])
        position = gap.end + 1
    out += lines[position:]
    return "\n".join(out) + ("\n" if text.endswith("\n") or not text else "")


def cut_gaps(text: str, path: str = "<string>") -> str:
    """The student's version: each gap keeps its markers and instructions; its code becomes a raise."""
    return _replace_bodies(text, find_gaps(text, path), lambda gap, lines: (
        lines[gap.start + 1:gap.start + 1 + gap.instructions] + [not_implemented_line(gap)]))


def without_gap_bodies(text: str, path: str = "<string>") -> str:
    """The code around the gaps: everything between the markers removed, lines right-stripped.

    Two versions of a file have the same code outside the gaps exactly when these agree. Line endings and
    trailing spaces do not count (a student on Windows may save with CRLF). Found by the markers alone, so it
    works on a file that does not parse.
    """
    stripped = _replace_bodies(text, marker_pairs(text, path), lambda gap, lines: [])
    return "\n".join(line.rstrip() for line in source_lines(stripped)).rstrip("\n") + "\n"


def outside_fingerprint(text: str, path: str = "<string>") -> str:
    """A digest of the code around the gaps that neither indentation (tabs), line endings, blank lines nor comment
    lines change, the same on every Python version: the handout ships one per file, so that the points table can
    warn of a change the grader will not use."""
    lines = [" ".join(line.split()) for line in source_lines(without_gap_bodies(text, path))]
    kept = [line for line in lines if line and not line.startswith("#")]
    return hashlib.sha256("\n".join(kept).encode("utf-8")).hexdigest()


def gap_bodies(text: str, path: str = "<string>") -> Dict[str, List[str]]:
    """{gap name: the lines strictly between its markers}, found by the markers alone."""
    lines = source_lines(text)
    return {gap.name: lines[gap.start + 1:gap.end] for gap in marker_pairs(text, path)}


def fill_gaps(text: str, bodies: Dict[str, List[str]], path: str = "<string>") -> str:
    """`text` with the body of every gap named in `bodies` replaced by those lines (others stay as they are)."""
    return _replace_bodies(text, find_gaps(text, path), lambda gap, lines: (
        bodies[gap.name] if gap.name in bodies else lines[gap.start + 1:gap.end]))


# ---------------------------------------------------------------- a student's body, checked and spliced in

class BodyRejected(ValueError):
    """A gap body that cannot be spliced into its function: `line` is 1-based from the first line after START."""

    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _continuations(body: List[str]) -> Tuple[set, set]:
    """(the 0-based indices of the body's lines inside a string that spans lines, of the lines that continue a
    statement inside brackets): lines whose indentation Python does not read. Both empty if the body cannot be
    tokenized (it is then taken line by line)."""
    starts, in_strings = set(), set()
    try:
        tokens = tokenize.generate_tokens(io.StringIO("\n".join(line.expandtabs(8) for line in body) + "\n")
                                          .readline)
        first, depth = True, 0
        for token in tokens:
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                depth -= 1
            if token.type == tokenize.NEWLINE or (token.type == tokenize.NL and depth <= 0):
                first = True
            elif token.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER) and first:
                starts.add(token.start[0] - 1)
                first = False
            if token.end[0] > token.start[0]:  # a string over several lines: rows after its first
                in_strings.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return set(), set()
    code = {index for index, line in enumerate(body) if line.strip() and not line.lstrip().startswith("#")}
    return in_strings, code - starts - in_strings


def reindent(body: List[str], student_indent: str, indent: str) -> List[str]:
    """The body's lines moved from the student's marker indentation to `indent`, tabs expanded (an editor that
    re-indented the file with tabs changes nothing). Lines inside a string that spans lines stay as they are (they
    are the string's text); a line that continues a statement inside brackets, or a comment, may sit anywhere; any
    other line left of the markers raises BodyRejected: it would leave the gap's function."""
    base = width(student_indent)
    in_strings, continuations = _continuations(body)
    moved = []
    for number, line in enumerate(body, start=1):
        if number - 1 in in_strings:
            moved.append(line)
            continue
        if not line.strip():
            moved.append("")
            continue
        column = width(_leading(line))
        if column < base:
            if number - 1 in continuations:
                moved.append(line)
                continue
            if line.lstrip().startswith("#"):
                moved.append(indent + line.lstrip(INDENTATION))
                continue
            raise BodyRejected(number, "it is indented left of the gap's START TODO line, so it would leave the "
                                       "gap's function")
        moved.append(indent + " " * (column - base) + line.lstrip(INDENTATION))
    return moved


def statements(body: List[str], indent: str) -> List[ast.stmt]:
    """The body, at indentation `indent` (at least one level), parsed on its own as the block of statements of a
    function, with its strings' text exactly as spliced. Raises BodyRejected for a syntax error, or for anything
    the parser refuses (a body nested too deeply, ...)."""
    if not any(line.strip() and not line.lstrip().startswith("#") for line in body):
        return []  # comments only: no statement
    source = "def gap():\n" + "\n".join(body) + "\n"
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        line = (error.lineno or 2) - 1
        raise BodyRejected(max(1, min(line, len(body))), "a syntax error ({})".format(error.msg))
    except (RecursionError, MemoryError, ValueError) as error:
        raise BodyRejected(1, "the parser could not read it ({})".format(type(error).__name__))
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise BodyRejected(1, "it does not stay one block of statements")
    return tree.body[0].body


def does_nothing(body: List[str], indent: str) -> bool:
    """Whether a body holds no statement but `pass`, `...`, strings or `raise NotImplementedError(...)`: a gap that is
    not filled (it earns nothing, not even the code-style bonus, which needs a filled gap)."""
    try:
        found = statements(reindent(body, indent, "    "), "    ")
    except BodyRejected:
        return False  # splice says why
    for node in found:
        if isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            continue
        if isinstance(node, ast.Raise) and "NotImplementedError" in ast.dump(node):
            continue
        return False
    return True


def _function(tree: ast.AST, qualified: str) -> Optional[ast.AST]:
    """The function definition with this qualified name (classes and functions nested by name)."""
    scope = tree
    for part in qualified.split("."):
        found = [node for node in getattr(scope, "body", []) if getattr(node, "name", None) == part
                 and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        if not found:
            return None
        scope = found[-1]
    return scope if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def outside(tree: ast.AST, gap_names: List[str], loose_strings: bool = False) -> str:
    """The syntax tree with the bodies of the gap functions emptied: what must equal the handout's.

    loose_strings: white space inside string constants does not count (an editor that re-indents a file with tabs
    also re-indents its docstrings)."""
    for name in gap_names:
        function = _function(tree, name)
        if function is not None:
            function.body = []
    if loose_strings:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                node.value = " ".join(node.value.split())
    return ast.dump(tree)


def splice(handout_text: str, gap: Gap, body: List[str], student_indent: str, path: str) -> str:
    """The handout file with this gap's body replaced by the student's. Raises BodyRejected unless the body is a
    block of statements that stays inside the gap's function and leaves the rest of the file's syntax tree as
    the handout has it."""
    lines = reindent(body, student_indent, gap.indent)
    own = statements(lines, gap.indent)
    text = _replace_bodies(handout_text, [gap], lambda g, old: lines)
    try:
        tree, handout = ast.parse(text, filename=path), ast.parse(handout_text, filename=path)
        compile(text, path, "exec", dont_inherit=True)  # what the parser accepts but Python refuses (nonlocal)
    except SyntaxError as error:
        line = (error.lineno or gap.start + 2) - gap.start - 1
        raise BodyRejected(max(1, min(line, len(body))), "a syntax error ({})".format(error.msg))
    except (RecursionError, MemoryError, ValueError) as error:
        raise BodyRejected(1, "Python could not compile it ({})".format(type(error).__name__))
    function, original = _function(tree, gap.name), _function(handout, gap.name)
    before = [node for node in original.body if node.end_lineno < gap.start + 1]
    after = [node for node in original.body if node.lineno > gap.end + 1]
    shift = len(lines) - (gap.end - gap.start - 1)
    if [ast.dump(node) for node in function.body] != [ast.dump(node) for node in before + own + after] \
            or outside(tree, [gap.name]) != outside(handout, [gap.name]):
        raise BodyRejected(len(body), "it changes the code around the gap (line {} of the file)".format(
            gap.end + 1 + shift))
    return text


def student_gaps(text: str, path: str = "<string>") -> Tuple[Dict[str, Tuple[List[str], str, int]], List[str]]:
    """({gap name: (body lines, the START line's indentation, the START line's 1-based number)}, problems) of a
    student's file, found by markers and named by their functions; the file need not parse. A name found twice
    is a problem and neither is taken."""
    lines = source_lines(text)
    found, problems, seen = {}, [], set()
    start, name, unread = None, None, None
    scopes = Scopes()
    for index, line in enumerate(lines):
        if START_PATTERN.match(line):
            if start is not None:
                problems.append("{}:{}: START TODO inside the gap opened at line {}".format(
                    path, index + 1, start + 1))
            start, unread = index, None
            try:
                name = scopes.function_at(width(_leading(line)))
            except ValueError as error:
                name, unread = None, error
        elif END_PATTERN.match(line) and start is not None:
            if unread is not None:
                problems.append("{}:{}: a gap that was not read: {}".format(path, start + 1, unread))
            elif name is None:
                problems.append("{}:{}: a gap outside any function".format(path, start + 1))
            elif name in seen:
                problems.append("{}:{}: a second gap in {}".format(path, start + 1, name))
                found.pop(name, None)
            else:
                seen.add(name)
                found[name] = (lines[start + 1:index], START_PATTERN.match(lines[start]).group("indent"), start + 1)
            start = None
        scopes.add(line)
    if start is not None:
        problems.append("{}:{}: START TODO without an END TODO".format(path, start + 1))
    return found, problems
