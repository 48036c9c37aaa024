"""Points from test outcomes: the table students see after every test run, and what the grader reports.

The tasks and their points come from grading/tasks.py only. A code task earns its points when every test that
carries its marker passed (no partial credit); bonus points come from checks of the files themselves.
"""
import configparser
import os
import re
from collections import namedtuple
from typing import Dict, Iterable, List, Optional

from grading.tasks import TASKS, TASKS_BY_KEY, Task

# The folder of the student's code: with the root folder's scripts, what the code-style bonus looks at
# (python_files).
STUDENT_CODE = ("lib",)
FEEDBACK_FILE = "feedback.md"
# The handout's digests of the code around the gaps of lib/ (tools/handout.py writes it; not in the master).
OUTSIDE_GAPS = "grading/handout_outside_gaps.json"
# The handout carries an untouched copy of feedback.md here, so that a filled-in one can be told apart.
FEEDBACK_TEMPLATE = os.path.join("grading", "feedback_template.md")

# A Markdown heading: one to six hashes, white space, its title.
HEADING = re.compile(r"^#{1,6}\s+(.*)$")

# points: earned (None for tutor-graded tasks); status: "passed", "failed", "not run" or "tutor"; failure: for a
# failed code task, its first failing test's name and first failure line (the end of detail), else None.
Row = namedtuple("Row", "task points status detail failure", defaults=(None,))
# The property a test's report carries when it failed on an empty gap: that gap's task key (tests/conftest.py adds
# it, the plugin logs it, tools/make_handout.py reads it).
NOT_IMPLEMENTED = "not_implemented"


def task_of_markers(marker_names: Iterable[str]) -> Optional[Task]:
    """The code task among a test's marker names, or None for an ungraded test."""
    for name in marker_names:
        task = TASKS_BY_KEY.get(name)
        if task is not None and task.kind == "code":
            return task
    return None


# The longest failure line that the points table and results.json show (its head; the rest is cut).
HEADLINE_WIDTH = 300


def headline(message: str, width: int = HEADLINE_WIDTH) -> str:
    """The line of a failure report that says what went wrong: pytest's first 'E ' line, else the first line.

    The tests write the quantity, the expected and the got into their first line, so its head is kept.
    """
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    line = errors[0] if errors else (lines[0] if lines else "")
    return line if len(line) <= width else line[:width - 3] + "..."


def is_timeout(message: str) -> bool:
    """Whether a failure is pytest-timeout's (its report starts with "Timeout" or names its Failed exception)."""
    return "Timeout (" in message or "Failed: Timeout" in message or message.lstrip("+ ").startswith("Timeout")


def code_task_row(task: Task, expected: List[str], outcomes: Dict[str, dict]) -> Row:
    """The row of one code task from its tests' outcomes.

    expected: the node ids of the task's tests that should have run.
    outcomes: {node id: {"outcome": "passed" | "failed" | "skipped" | ..., "message": str}} of the tests that ran.
    """
    if not expected:
        return Row(task, 0, "not run", "no test of this task was selected")
    ran = [nodeid for nodeid in expected if nodeid in outcomes]
    if not ran:
        return Row(task, 0, "not run", "none of its {} tests ran".format(len(expected)))
    failed = [nodeid for nodeid in ran if outcomes[nodeid]["outcome"] == "failed"]
    if failed:
        # One rule wherever a row is made (the students' table and workflow summary, the grader, Gradescope): the
        # task's first failing test, by its place among the task's tests. The grader skips a task's tests after
        # its first failure and a student's run does not, so counts of what ran would differ between the two.
        first = outcomes[failed[0]]
        message = first.get("headline") or headline(first.get("message", ""))
        failure = "{}: {}".format(failed[0].split("::")[-1], message)
        return Row(task, 0, "failed", "failed at test {} of {}, {}".format(
            expected.index(failed[0]) + 1, len(expected), failure), failure)
    if any(outcomes[nodeid]["outcome"] != "passed" for nodeid in ran):
        return Row(task, 0, "not run", "some of its tests were skipped")
    if len(ran) < len(expected):
        return Row(task, 0, "not run", "only {} of its {} tests ran".format(len(ran), len(expected)))
    return Row(task, task.points, "passed", "all {} tests passed".format(len(expected)))


def splice_warning(root: str, task: Task) -> Optional[str]:
    """What the grader would say of the task's gap body in the student's own file, if it would not take it (a
    body that is not a block of statements inside its function), else None. The grader checks more (that the
    rest of the file is the handout's), but that costs no points."""
    from grading.gaps import BodyRejected, reindent, statements, student_gaps

    try:
        with open(os.path.join(root, task.file), encoding="utf-8", errors="replace") as file:
            found, _ = student_gaps(file.read(), task.file)
        if task.gap not in found:
            return ("gap {} ({}): its START TODO and END TODO lines are missing or broken, and the grader takes "
                    "only the lines between them".format(task.number, task.gap))
        body, indent, _ = found[task.gap]
        statements(reindent(body, indent, "    "), "    ")
    except BodyRejected as error:
        return "gap {} ({}), line {}: {}".format(task.number, task.gap, error.line, error.reason)
    except (OSError, ValueError):
        return None
    return None


def outside_gap_notes(root: str) -> List[str]:
    """A line for every file of lib/ whose code around the gaps differs from the handout's (an import at the top,
    a helper beside the function): the grader uses the handout's code there."""
    import json
    from grading.gaps import GapError, outside_fingerprint

    try:
        with open(os.path.join(root, *OUTSIDE_GAPS.split("/")), encoding="utf-8") as file:
            expected = json.load(file)
    except (OSError, ValueError):
        return []  # the master repository, or a handout without them
    notes = []
    for path, digest in sorted(expected.items()):
        try:
            # utf-8-sig: an editor's BOM is no difference, as at the grader.
            with open(os.path.join(root, *path.split("/")), encoding="utf-8-sig", errors="replace") as file:
                same = outside_fingerprint(file.read(), path) == digest
        except (OSError, GapError):
            continue
        if not same:
            notes.append("note: {} differs from the handout outside its gaps; the grader uses the handout's code "
                         "there, so a gap that needs your change (an import at the top, a helper beside the "
                         "function) fails at the grader: put it inside the gap".format(path))
    return notes


def python_files(root: str) -> List[str]:
    """The student's Python files: everything under lib/ and the scripts in the root folder, sorted."""
    found = [os.path.join(root, name) for name in os.listdir(root) if name.endswith(".py")]
    for folder in STUDENT_CODE:
        for directory, subdirectories, names in os.walk(os.path.join(root, folder)):
            subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
            found += [os.path.join(directory, name) for name in names if name.endswith(".py")]
    # The root conftest.py is the points plugin, not the student's code.
    return sorted(path for path in found if os.path.basename(path) != "conftest.py" or
                  os.path.dirname(path) != root)


def setup_cfg(root: str) -> configparser.ConfigParser:
    """root's setup.cfg, the one place the exercise's settings are read from: [pycodestyle] max-line-length and
    [tool:pytest] timeout, which pycodestyle and pytest read there themselves."""
    parser = configparser.ConfigParser()
    if not parser.read(os.path.join(root, "setup.cfg"), encoding="utf-8"):
        raise FileNotFoundError("no setup.cfg in {}: it sets pycodestyle's max-line-length and pytest's "
                                "timeout".format(root))
    return parser


def max_line_length(root: str) -> int:
    """The longest line allowed: setup.cfg's [pycodestyle] max-line-length (`python -m pycodestyle .` reads it)."""
    return setup_cfg(root).getint("pycodestyle", "max-line-length")


def filled_gaps(root: str) -> int:
    """How many gaps of the student's files hold more than `pass` or the handout's `raise NotImplementedError`."""
    from grading.gaps import does_nothing, student_gaps
    from grading.tasks import CODE_TASKS

    count = 0
    for task in CODE_TASKS:
        try:
            with open(os.path.join(root, task.file), encoding="utf-8", errors="replace") as file:
                found = student_gaps(file.read(), task.file)[0]
        except OSError:
            continue
        if task.gap in found:
            body, indent, _ = found[task.gap]
            count += not does_nothing(body, indent)
    return count


def code_style_row(root: str, filled: int, bound=None) -> Row:
    """Bonus: pycodestyle, with setup.cfg's line length, finds nothing in the student's files, of which at least
    one gap is filled (`filled`: how many are): the bonus is for the style of the student's own code.

    bound: None checks in this process (a student's own run); the grader passes grading.style.GRADER, so that
    pycodestyle runs on submitted text within a time and memory limit, and a file it cannot finish costs the bonus."""
    from grading import style

    task = TASKS_BY_KEY["code_style"]
    if filled < 1:
        return Row(task, 0, "not run", "no gap is filled yet: the bonus is for the style of your own code")
    try:
        import pycodestyle  # noqa: F401  (the child process of a bounded check imports it too)
    except ImportError:
        return Row(task, 0, "not run", "pycodestyle is not installed (pip install -r requirements.txt)")
    paths = python_files(root)
    found = style.check({path: style.read_source(path) for path in paths}, max_line_length(root), bound)
    if not found.finished:
        return Row(task, 0, "failed", "{}; run: python -m pycodestyle lib *.py".format(found.why))
    if found.counts:
        detail = "{} problem(s) ({}); run: python -m pycodestyle lib *.py".format(
            sum(found.counts.values()), ", ".join("{} x{}".format(code, count) for code, count
                                                  in sorted(found.counts.items())))
        return Row(task, 0, "failed", detail)
    return Row(task, task.points, "passed", "pycodestyle finds nothing in {} files".format(len(paths)))


def strip_comments(text: str) -> str:
    """The text without its HTML comments (`<!-- ... -->`); an unclosed one stays. One scan from left to right:
    a regular expression for the same would try every `<!--` against the rest of the text."""
    kept, position = [], 0
    while True:
        start = text.find("<!--", position)
        end = text.find("-->", start + 4) if start >= 0 else -1
        if end < 0:
            kept.append(text[position:])
            return "".join(kept)
        kept.append(text[position:start])
        position = end + 3


def markdown_sections(text: str) -> Dict[str, str]:
    """{heading: its text}, HTML comments removed and whitespace squeezed; text before the first heading is ''."""
    sections, heading, body = {}, "", []
    for line in strip_comments(text).splitlines():
        match = HEADING.match(line)
        if match:
            sections[heading] = " ".join(" ".join(body).split())
            # the closing hashes of '## Title ##' are no part of it (stripped, not matched: no backtracking)
            heading, body = match.group(1).rstrip().rstrip("#").rstrip(), []
        else:
            body.append(line)
    sections[heading] = " ".join(" ".join(body).split())
    return sections


def feedback_row(root: str, template_path: Optional[str] = None) -> Row:
    """Bonus: every section of feedback.md has an answer that is not empty and not the template's text."""
    task = TASKS_BY_KEY["feedback"]
    template_path = template_path or os.path.join(root, FEEDBACK_TEMPLATE)
    path = os.path.join(root, FEEDBACK_FILE)
    if not os.path.isfile(template_path):
        return Row(task, 0, "not run", "no template {} to compare with".format(FEEDBACK_TEMPLATE))
    if not os.path.isfile(path):
        return Row(task, 0, "failed", "{} is missing".format(FEEDBACK_FILE))
    with open(template_path, encoding="utf-8") as file:
        template = markdown_sections(file.read())
    with open(path, encoding="utf-8", errors="replace") as file:
        answers = markdown_sections(file.read())
    # The questions are the headings that end in "?" (a title heading above them needs no answer).
    questions = [heading for heading in template if heading.endswith("?")] or [h for h in template if h]
    if not questions:
        return Row(task, 0, "not run", "the template {} has no sections".format(FEEDBACK_TEMPLATE))
    for heading in questions:
        answer = answers.get(heading)
        if answer is None:
            return Row(task, 0, "failed", "{}: the section '{}' is missing".format(FEEDBACK_FILE, heading))
        if not answer or answer == template[heading]:
            return Row(task, 0, "failed", "{}: answer '{}' in your own words".format(FEEDBACK_FILE, heading))
    return Row(task, task.points, "passed", "all {} questions answered".format(len(questions)))


def all_rows(code_rows: Dict[str, Row], style: Row, feedback: Row) -> List[Row]:
    """Every task of the points table in its order: code tasks, bonus, tutor-graded."""
    rows = []
    for task in TASKS:
        if task.kind == "code":
            rows.append(code_rows[task.key])
        elif task.key == "code_style":
            rows.append(style)
        elif task.key == "feedback":
            rows.append(feedback)
        else:
            rows.append(Row(task, None, "tutor", "graded by a tutor"))
    return rows


def totals(rows: List[Row]) -> dict:
    """Points earned and possible, by kind: code, bonus, tutor."""
    result = {}
    for kind in ("code", "bonus", "tutor"):
        of_kind = [row for row in rows if row.task.kind == kind]
        result[kind] = (sum(row.points or 0 for row in of_kind), sum(row.task.points for row in of_kind))
    return result


def summary_line(rows: List[Row]) -> str:
    total = totals(rows)
    return ("tests {} / {}, bonus {} / {}; {} more points are graded by a tutor ({} + {} bonus in all)"
            .format(total["code"][0], total["code"][1], total["bonus"][0], total["bonus"][1], total["tutor"][1],
                    total["code"][1] + total["tutor"][1], total["bonus"][1]))


def _label(task: Task) -> str:
    return str(task.number) if task.kind == "code" else task.kind


def _points(row: Row) -> str:
    return "{} / {}".format("-" if row.points is None else row.points, row.task.points)


def format_table(rows: List[Row]) -> List[str]:
    """The points table as lines of plain text."""
    lines = []
    for row in rows:
        detail = "" if row.status == "passed" else row.detail
        cells = (_label(row.task), row.task.title, _points(row), row.status, detail)
        lines.append("{:>5}  {:<46} {:>6}  {:<8} {}".format(*cells))
    lines.append(summary_line(rows))
    return [line.rstrip() for line in lines]


def format_markdown(rows: List[Row], title: str = "Points of exercise 3") -> str:
    """The points table in Markdown, e.g. for a GitHub job summary."""
    lines = ["## " + title, "", "| task | what | points | status | details |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        detail = row.detail.replace("|", "\\|")
        lines.append("| {} | {} | {} | {} | {} |".format(_label(row.task), row.task.title, _points(row),
                                                         row.status, detail))
    lines += ["", summary_line(rows), ""]
    return "\n".join(lines)


def gradescope_results(rows: List[Row], output: str = "", extra_data: Optional[dict] = None,
                       visibility=lambda key: "visible") -> dict:
    """Gradescope's results.json: one test entry per code and bonus task; tutor-graded tasks are named in output.
    visibility(task key): the entry's Gradescope visibility."""
    tests = []
    for row in rows:
        if row.task.kind == "tutor":
            continue
        name = ("Task {}: {} ({})".format(row.task.number, row.task.title, row.task.file) if row.task.kind == "code"
                else "Bonus: {}".format(row.task.title))
        tests.append({"name": name, "score": row.points, "max_score": row.task.points,
                      "status": "passed" if row.status == "passed" else "failed",
                      "output": row.detail, "visibility": visibility(row.task.key)})
    tutor = ", ".join("{} ({} points)".format(row.task.title, row.task.points) for row in rows
                      if row.task.kind == "tutor")
    text = "\n".join(part for part in (output, summary_line(rows), "Graded by a tutor: " + tutor) if part)
    total = totals(rows)
    return {"score": total["code"][0] + total["bonus"][0], "output": text, "extra_data": extra_data or {},
            "tests": tests}
