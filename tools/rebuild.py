"""The tree that is graded: the handout this repository generates, with only the student's gap bodies spliced in
(grading/gaps.splice: each one a block of statements inside its own function) and their feedback.md.

Nothing else from a submission is copied, imported or executed. What differs elsewhere is reported for a tutor
(integrity findings), but it changes nothing that runs.

The grader reads and rebuilds a submission in a child process (read_and_rebuild, grading/bounded.py): every step
is linear in the submitted text, but megabytes of it cost seconds of parsing, and CPython's parser is not safe in
two threads at once. So each submission parses in a process of its own, within READING, and no other waits.
"""
import ast
import difflib
import os
from collections import OrderedDict, namedtuple
from typing import Dict, List, Tuple

from grading.bounded import Bound, Unfinished, call
from grading.gaps import (BodyRejected, GapError, does_nothing, find_gaps, outside, source_lines, splice,
                          student_gaps, without_gap_bodies)
from grading.points import FEEDBACK_FILE
from grading.tasks import TASK_BY_GAP, TASKS_BY_KEY
from tools.submission import Submission, locate, normalise, read_regular_file
from tools.text import safe_text

# Files that change how Python or pytest start whatever they hold (pytest takes a pytest.ini even if empty);
# reported, never used.
STARTUP_NAMES = ("conftest.py", "sitecustomize.py", "usercustomize.py", "pytest.ini", ".pytest.ini")
# Configuration files that do so only with one of these sections: {file name: section names}. A pyproject.toml
# that holds [tool.black] or [tool.ruff] only is no finding.
STARTUP_SECTIONS = {"tox.ini": ("pytest",), "setup.cfg": ("tool:pytest",),
                    "pyproject.toml": ("tool.pytest", "build-system")}
# The longest diff that a finding names a line of is the handout's file and this many lines more: difflib's time
# grows with the submission's length times the square of the handout's.
DIFF_SLACK = 200
# Python files not in the handout that are named one by one (a copied environment holds thousands).
FOREIGN_LISTED = 10

# status: "filled" (spliced in, runs), "empty" (the handout's raise), "rejected" (not spliced; message says why),
# "missing" (no such file or gap); tools/grade.py adds "needs" for a filled gap whose task needs another that was
# not taken (nothing of it runs). body: the student's lines as submitted (for tutors), or None.
GapResult = namedtuple("GapResult", "task status message body")
Rebuilt = namedtuple("Rebuilt", "files gaps findings")
# The bound of reading and rebuilding one submission. An honest one takes a fraction of a second; the most the
# reader takes in (MAX_FILE_BYTES of gap code in each of the five gap files, in MAX_CANDIDATES folders) took
# 74 s for one folder and 143 s for eight on an idle 2-core machine. Whatever it holds, a submission is read
# within this bound or gets a row with score 0 that says so; the other submissions do not wait for it.
READING = Bound(seconds=300, memory_mb=2048)


class ReadingFailed(Exception):
    """The submission could not be read and rebuilt: the message says why (no folder, a limit of READING)."""


def read_and_rebuild(submission: str, handout: "OrderedDict[str, bytes]", wanted: List[str],
                     bound: Bound = READING) -> Tuple[Submission, Rebuilt]:
    """locate() and rebuild() of one submission in a child process within bound; raises ReadingFailed."""
    request = {"submission": submission, "wanted": wanted,
               "handout": [[path, content.decode("utf-8") if path.endswith(".py") else None]
                           for path, content in handout.items()]}
    try:
        answer = call("tools.rebuild", "answer", request, bound, "reading the submission")
    except Unfinished as stopped:
        raise ReadingFailed(stopped.why)
    if "error" in answer:
        raise ReadingFailed(str(answer["error"]))
    read, built = answer["submission"], answer["built"]
    submitted = Submission(read["root"], OrderedDict(read["files"]), read["present"], read["findings"],
                           tuple(read["notes"]), dict(read["unread"]))
    files = OrderedDict(handout)
    files.update((path, text.encode("utf-8")) for path, text in built["files"])
    gaps = OrderedDict((name, GapResult(TASKS_BY_KEY[key], status, message, body))
                       for name, key, status, message, body in built["gaps"])
    return submitted, Rebuilt(files, gaps, built["findings"])


def answer(request: dict) -> dict:
    """read_and_rebuild()'s request answered in the child process: the submission as read and as rebuilt, as JSON
    (the rebuilt files: those rebuild() wrote, the handout's files with gaps and feedback.md)."""
    handout = OrderedDict((path, None if text is None else text.encode("utf-8")) for path, text in request["handout"])
    try:
        submitted = locate(request["submission"], handout, request["wanted"])
    except OSError as error:
        return {"error": "{}: {}".format(type(error).__name__, safe_text(error))}
    built = rebuild(handout, submitted)
    return {"submission": {"root": submitted.root, "files": list(submitted.files.items()),
                           "present": list(submitted.present), "findings": list(submitted.findings),
                           "notes": list(submitted.notes), "unread": dict(submitted.unread or {})},
            "built": {"files": [[path, content.decode("utf-8")] for path, content in built.files.items()
                                if content is not None and content != handout.get(path)],
                      "gaps": [[name, gap.task.key, gap.status, gap.message, gap.body]
                               for name, gap in built.gaps.items()],
                      "findings": list(built.findings)}}


def is_untouched(body: List[str], handout_body: List[str]) -> bool:
    return [line.strip() for line in body if line.strip()] == [line.strip() for line in handout_body if line.strip()]


def rejected(task, line: int, reason: str) -> str:
    return "gap {} ({}), line {}: {}; the gap was not graded".format(task.number, task.gap, line,
                                                                     safe_text(reason, 160))


def rebuild(handout: "OrderedDict[str, bytes]", submission: Submission, tasks: Dict = TASK_BY_GAP) -> Rebuilt:
    """The files of the graded tree, what happened to each gap, and the integrity findings. tasks: {gap name:
    task} (grading/tasks.py's)."""
    findings = list(submission.findings)
    files = OrderedDict(handout)
    gaps = OrderedDict()
    for path, content in handout.items():
        if not path.endswith(".py"):
            continue
        handout_text = content.decode("utf-8")
        handout_gaps = find_gaps(handout_text, path)
        student_text = submission.files.get(path)
        if student_text is None:
            if handout_gaps or path.startswith("lib/"):
                findings.append("{} is missing or could not be read".format(path))
            why = (submission.unread or {}).get(path) or "{} is missing".format(path)
            for gap in handout_gaps:
                gaps[gap.name] = GapResult(tasks[gap.name], "missing", why, None)
            continue
        differs = compare_outside_gaps(path, handout_text, student_text)
        if not handout_gaps:
            findings += ["{} differs from the handout (the grader uses its own copy)".format(path)] if differs else []
            continue
        findings += differs
        bodies, problems = student_gaps(student_text, path)
        findings += problems
        text = handout_text
        for gap in handout_gaps:
            task = tasks[gap.name]
            handout_body = source_lines(handout_text)[gap.start + 1:gap.end]
            if gap.name not in bodies:
                gaps[gap.name] = GapResult(task, "missing", "{}: no gap in {} (its START/END TODO lines are "
                                                            "missing or broken)".format(path, gap.name), None)
                continue
            body, indent, _ = bodies[gap.name]
            if is_untouched(body, handout_body) or does_nothing(body, indent):
                gaps[gap.name] = GapResult(task, "empty", "", body)
                continue
            try:
                # Each gap alone into the handout's file, then all accepted ones together (they cannot interact:
                # each stays inside its own function, which splice() proves). Alone and together are the same
                # splice in a file with one gap.
                if len(handout_gaps) > 1:
                    splice(handout_text, gap, body, indent, path)
                current = find_gaps(text, path)
                text = splice(text, next(g for g in current if g.name == gap.name), body, indent, path)
                gaps[gap.name] = GapResult(task, "filled", "", body)
            except BodyRejected as error:
                gaps[gap.name] = GapResult(task, "rejected", rejected(task, error.line, error.reason), body)
            except Exception as error:  # whatever the checks tripped over rejects this gap, never the row
                gaps[gap.name] = GapResult(task, "rejected", rejected(task, 1, "it could not be checked ({})".format(
                    type(error).__name__)), body)
        files[path] = text.encode("utf-8")
    feedback = submission.files.get(FEEDBACK_FILE)
    if feedback is not None:
        files[FEEDBACK_FILE] = feedback.encode("utf-8")
    findings += extra_files(submission, handout)
    return Rebuilt(files, gaps, [safe_text(finding) for finding in findings])


def compare_outside_gaps(path: str, expected: str, got: str) -> List[str]:
    """A finding if the code around the gaps differs from the handout's (trailing spaces do not count)."""
    try:
        names = [gap.name for gap in find_gaps(expected, path)]
        if outside(ast.parse(got), names, True) == outside(ast.parse(expected), names, True):
            return []  # the same code: only comments, blank lines or the indentation (tabs) differ
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        pass  # a file that does not parse: say where the text differs
    try:
        expected_lines, got_lines = (source_lines(without_gap_bodies(text, path)) for text in (expected, got))
    except GapError:
        return []  # student_gaps reports broken markers
    if expected_lines == got_lines:
        return []
    diff = first_differences(expected_lines, got_lines, 0)
    changed = [line for line in diff if line[:1] in "+-"]
    where = next((line for line in diff if line.startswith("@@")), "")
    return ["{}: code outside the gaps differs from the handout ({}{} lines, {}: {}); the grader used the handout's"
            .format(path, len(changed), "+" if len(got_lines) > len(expected_lines) + DIFF_SLACK else "", where,
                    changed[0][:100] if changed else "")]


def first_differences(expected: List[str], got: List[str], context: int) -> List[str]:
    """The unified diff's lines (without its file names) from the handout's lines to the submission's, of the
    submission's first lines only (DIFF_SLACK)."""
    return [line for line in difflib.unified_diff(expected, got[:len(expected) + DIFF_SLACK], "handout", "submission",
                                                  n=context, lineterm="") if not line.startswith(("---", "+++"))]


def extra_files(submission: Submission, handout: Dict[str, bytes]) -> List[str]:
    """Findings for files that could change how Python or pytest start, and Python files not in the handout (the
    first FOREIGN_LISTED of these by name, then one line that counts the rest)."""
    findings, foreign = [], []
    for path in submission.present:
        if path in handout:
            continue
        name = path.rsplit("/", 1)[-1]
        if name in STARTUP_NAMES or name.endswith((".pth", ".pyc")) or (
                name in STARTUP_SECTIONS and has_startup_section(submission, path)):
            findings.append("{} would change how Python or pytest start (not used: only the gaps are graded)"
                            .format(path))
        elif name.endswith(".py") and not path.startswith("tests/"):
            foreign.append(path)
    findings += ["{} is a Python file that is not in the handout (not used: only the gaps are graded)".format(path)
                 for path in foreign[:FOREIGN_LISTED]]
    if len(foreign) > FOREIGN_LISTED:
        findings.append("and {} more Python files that are not in the handout (not used), such as {}".format(
            len(foreign) - FOREIGN_LISTED, foreign[FOREIGN_LISTED]))
    return findings


def has_startup_section(submission: Submission, path: str) -> bool:
    """Whether a configuration file has a section that changes how pytest or a build starts (STARTUP_SECTIONS), by
    one scan of its lines; one that cannot be read counts as having one."""
    try:
        text = normalise(read_regular_file(os.path.join(submission.root, *path.split("/"))))
    except OSError:
        return True
    wanted = STARTUP_SECTIONS[path.rsplit("/", 1)[-1]]
    if not path.endswith(".toml"):
        return any(line.strip().startswith("[") and line.strip()[1:].split("]")[0].strip() in wanted
                   for line in source_lines(text))
    # A key with an escape (tool."\\u0070ytest") could be any key: it counts as one of them.
    return any("\\" in key or section in key for key in toml_keys(text) for section in wanted)


def toml_keys(text: str) -> List[str]:
    """Every key of a TOML text as a dotted path with quotes and blanks dropped, from its table headers, dotted keys
    and inline tables (one line each in TOML): [tool."pytest".ini_options], tool.pytest.ini_options.addopts = ...
    and tool = {pytest = {...}} all give a path with 'tool.pytest'. Lines inside multi-line strings are skipped."""
    keys, table, inside = [], "", None
    for line in source_lines(text):
        if inside is not None:  # the quotes that close the multi-line string this line continues
            inside = None if line.count(inside) % 2 else inside
            continue
        compact = "".join(line.split())
        if not compact or compact.startswith("#"):
            continue
        inside = next((quotes for quotes in ('"""', "'''") if compact.count(quotes) % 2), None)
        compact = compact.replace('"', "").replace("'", "")
        if compact.startswith("["):
            table = compact.lstrip("[").split("]")[0]
            key = table
        else:
            name, _, value = compact.partition("=")
            inline = value.replace("={", ".").replace("{", "") if value.startswith("{") else ""
            key = ".".join(part for part in (table, name, inline) if part)
        keys.append(key)
    return keys


def write_tree(files: Dict[str, bytes], root: str) -> None:
    """Write the graded tree (its owner and permissions are the sandbox's business: Run.share)."""
    for path, content in files.items():
        target = os.path.join(root, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as file:
            file.write(content)
