"""The tree that is graded: the handout this repository generates, with only the student's gap bodies spliced in
(those that pass the policy of grading/gap_policy.py), their feedback.md, and the hidden tests.

Nothing else from a submission is copied, imported or executed. What differs elsewhere is reported for a tutor
(integrity findings), but it changes nothing that runs.
"""
import ast
import difflib
import os
import shutil
from collections import OrderedDict, namedtuple
from typing import Dict, List

from grading import gap_policy
from grading.gaps import GapError, fill_gaps, find_gaps, marker_pairs, without_gap_bodies
from grading.points import FEEDBACK_FILE
from grading.tasks import TASK_BY_GAP
from tools.submission import Submission, safe_text

HIDDEN_TESTS = os.path.join("tests", "hidden")
# Files whose names show an attempt to change how Python or pytest start; reported, never used.
STARTUP_NAMES = ("conftest.py", "sitecustomize.py", "usercustomize.py", "pytest.ini", ".pytest.ini", "tox.ini",
                 "pyproject.toml", "setup.py")

# status: "filled" (runs), "empty" (the handout's raise), "rejected" (breaks the policy; not run), "missing"
# (no such file or broken markers). message: the one line for a rejected gap.
GapResult = namedtuple("GapResult", "task status message")
Rebuilt = namedtuple("Rebuilt", "files gaps findings")


def student_bodies(text: str, handout_text: str, path: str, findings: List[str]) -> Dict[str, List[str]]:
    """{gap name: body lines} of the student's file, the gaps matched to the handout's by their order, found by
    their markers alone (the student's file need not parse)."""
    names = [gap.name for gap in find_gaps(handout_text, path)]
    try:
        blocks = marker_pairs(text, path)
    except GapError as error:
        findings.append("{}; its gaps were not graded".format(error))
        return {}
    if len(blocks) != len(names):
        findings.append("{}: the gap markers are broken ({} complete START/END TODO pairs, the handout has {}); "
                        "its gaps were not graded".format(path, len(blocks), len(names)))
        return {}
    lines = text.splitlines()
    return OrderedDict((name, lines[block.start + 1:block.end]) for name, block in zip(names, blocks))


def is_untouched(body: List[str], handout_body: List[str]) -> bool:
    return [line.rstrip() for line in body] == [line.rstrip() for line in handout_body]


def check_body(handout_text: str, path: str, name: str, body: List[str], policy: bool = True) -> List[str]:
    """The policy messages for one gap body, spliced alone into the handout file (empty when it may run).

    policy=False checks the syntax only: for testing the sandbox on its own, never for grading.
    """
    task = TASK_BY_GAP[name]
    text = fill_gaps(handout_text, {name: body}, path)
    gap = next(gap for gap in find_gaps(handout_text, path) if gap.name == name)
    first = gap.start + 2  # 1-based line of the body's first line in the spliced text
    last = first + len(body) - 1
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as error:
        where = (error.lineno or first) - first + 1
        line = where if 1 <= where <= len(body) else max(1, min(where, len(body)))
        return ["gap {} ({}), line {}: a syntax error ({}); the gap was not run".format(
            task.number, name, line, safe_text(error.msg, 100))]
    violations = gap_policy.check_gap(tree, first, last) if policy else []
    return [gap_policy.message(task.number, name, violation) for violation in violations]


def rebuild(handout: "OrderedDict[str, bytes]", submission: Submission, check_policy: bool = True) -> Rebuilt:
    """The files of the graded tree, what happened to each gap, and the integrity findings."""
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
            if handout_gaps or not path.startswith(("tests/", "grading/")):
                findings.append("{} is missing or could not be read".format(path))
            for gap in handout_gaps:
                gaps[gap.name] = GapResult(TASK_BY_GAP[gap.name], "missing", "{} is missing".format(path))
            continue
        if path.startswith(("tests/", "grading/")) or path == "conftest.py":
            if student_text != handout_text:
                findings.append("{} differs from the handout (the grader uses its own copy)".format(path))
            continue
        findings += compare_outside_gaps(path, handout_text, student_text)
        if not handout_gaps:
            continue
        bodies = student_bodies(student_text, handout_text, path, findings)
        handout_bodies = {gap.name: handout_text.splitlines()[gap.start + 1:gap.end] for gap in handout_gaps}
        accepted = {}
        for gap in handout_gaps:
            task = TASK_BY_GAP[gap.name]
            body = bodies.get(gap.name)
            if body is None:
                gaps[gap.name] = GapResult(task, "missing", "{}: the gap markers are broken".format(path))
            elif is_untouched(body, handout_bodies[gap.name]):
                gaps[gap.name] = GapResult(task, "empty", "")
            else:
                messages = check_body(handout_text, path, gap.name, body, check_policy)
                if messages:
                    extra = " (and {} more)".format(len(messages) - 1) if len(messages) > 1 else ""
                    gaps[gap.name] = GapResult(task, "rejected", messages[0] + extra)
                else:
                    accepted[gap.name] = body
                    gaps[gap.name] = GapResult(task, "filled", "")
        files[path] = fill_gaps(handout_text, accepted, path).encode("utf-8")
    feedback = submission.files.get(FEEDBACK_FILE)
    if feedback is not None:
        files[FEEDBACK_FILE] = feedback.encode("utf-8")
    findings += extra_files(submission, handout)
    return Rebuilt(files, gaps, [safe_text(finding) for finding in findings])


def compare_outside_gaps(path: str, expected: str, got: str) -> List[str]:
    """A finding if the code around the gaps differs from the handout's (trailing spaces do not count)."""
    try:
        expected_lines, got_lines = (without_gap_bodies(text, path).splitlines() for text in (expected, got))
    except GapError:
        return []  # student_bodies reports broken markers
    if expected_lines == got_lines:
        return []
    diff = [line for line in difflib.unified_diff(expected_lines, got_lines, "handout", "submission", n=0,
                                                  lineterm="") if not line.startswith(("---", "+++"))]
    changed = [line for line in diff if line[:1] in "+-"]
    where = next((line for line in diff if line.startswith("@@")), "")
    return ["{}: code outside the gaps differs from the handout ({} lines, {}: {}); the grader used the handout's"
            .format(path, len(changed), where, changed[0][:100] if changed else "")]


def extra_files(submission: Submission, handout: Dict[str, bytes]) -> List[str]:
    """Findings for files that could change how Python or pytest start, and Python files not in the handout."""
    findings = []
    for path in submission.present:
        if path in handout:
            continue
        name = path.rsplit("/", 1)[-1]
        if name in STARTUP_NAMES or name.endswith((".pth", ".pyc")):
            findings.append("{} would change how Python or pytest start (not used: only the gaps are graded)"
                            .format(path))
        elif name.endswith(".py"):
            findings.append("{} is a Python file that is not in the handout (not used: only the gaps are graded)"
                            .format(path))
    return findings


def write_tree(files: Dict[str, bytes], root: str, repo: str) -> None:
    """Write the graded tree: the files, readable by all and writable by none but the grader, and the hidden tests."""
    for path, content in files.items():
        target = os.path.join(root, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as file:
            file.write(content)
        os.chmod(target, 0o644)
    source = os.path.join(repo, HIDDEN_TESTS)
    if os.path.isdir(source):
        shutil.copytree(source, os.path.join(root, HIDDEN_TESTS),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for directory, subdirectories, names in os.walk(root):
        os.chmod(directory, 0o755)
        for name in names:
            os.chmod(os.path.join(directory, name), 0o644)
