"""What the grader keeps for tutors beyond the points: the vectorisation finding and the sources findings name.

The lines counts come from the sandboxed run's log, which the student's code could have written: they are
advice for a tutor, never points, and a forged count can at most hide or invent that advice.
"""
import re
from typing import Collection, Dict, List

from grading.tasks import CODE_TASKS
from grading.value_checks import BATCH_CALLS, BATCH_SIZES
from tools.result import Result
from tools.text import safe_text


def student_lines(result: Result, hidden: Collection[str] = ()) -> List[str]:
    """What the student and the tutor may both read beyond the points: the gaps not taken, the integrity findings
    (an edit outside a gap, which the handout's code replaced; a file not read) and the notes (the folder graded,
    what was left unread). Gradescope's output and the student page show these; the sandbox's notes never.
    hidden: the task keys whose rows students do not see yet; their gaps' lines are left out too."""
    not_taken = [gap.message for gap in result.gaps.values()
                 if gap.status in ("rejected", "missing") and gap.task.key not in hidden]
    return (["Gap: " + safe_text(message) for message in not_taken] +
            ["Integrity: " + safe_text(finding) for finding in result.integrity] +
            ["Note: " + safe_text(note) for note in result.notes])


LINES_ITEM = re.compile(r"^grading/value_checks\.py::test_lines_per_batch\[(?P<key>\w+)\]$")


def lines_items() -> Dict[str, str]:
    """{node id: task key} of the lines items, read from test_lines_per_batch's own parameters. They carry no task
    marker (so the grader's collection by marker does not find them); the grader adds them to its runs."""
    from grading.value_checks import test_lines_per_batch

    mark = next(mark for mark in test_lines_per_batch.pytestmark if mark.name == "parametrize")
    ids = [param.id for param in mark.args[1]]
    items = {"grading/value_checks.py::test_lines_per_batch[{}]".format(key): key for key in ids}
    if not all(LINES_ITEM.match(nodeid) for nodeid in items):
        raise RuntimeError("test_lines_per_batch's parameters are not task keys: {}".format(ids))
    return items


def lines_counts(outcomes: Dict[str, dict]) -> Dict[str, Dict[str, int]]:
    """{task key: {str(batch size): lines run}} from the run's outcomes, where well-formed (untrusted JSON)."""
    found = {}
    for nodeid, outcome in outcomes.items():
        match = LINES_ITEM.match(nodeid)
        if not match or match.group("key") not in BATCH_CALLS or not isinstance(outcome, dict):
            continue
        counts = (outcome.get("properties") or {}).get("lines")
        if not isinstance(counts, dict):
            continue
        values = [counts.get(str(size)) for size in BATCH_SIZES]
        if all(type(value) is int and 0 <= value < 10 ** 12 for value in values):
            found[match.group("key")] = {str(size): value for size, value in zip(BATCH_SIZES, values)}
    return found


def vectorisation(lines: Dict[str, Dict[str, int]]) -> List[str]:
    """The tutor's findings: a gap whose line count grows by at least one line per extra sample (what any Python
    loop over the samples does; a loop over modules, layers or parameters runs the same lines at every size)."""
    small, large = BATCH_SIZES
    findings = []
    for task in CODE_TASKS:
        counts = lines.get(task.key)
        if counts and counts[str(large)] - counts[str(small)] >= large - small:
            findings.append("gap {} ({}) runs {} lines for a batch of {} and {} for a batch of {}: a Python loop "
                            "over the samples?".format(task.number, task.gap, counts[str(small)], small,
                                                       counts[str(large)], large))
    return findings


def sources_to_keep(files: Dict[str, str], findings: List[str]) -> Dict[str, str]:
    """The submitted texts the tutor page shows: the gaps' files (their code, pycodestyle in the gaps) and every
    file a finding names."""
    wanted = {task.file for task in CODE_TASKS}
    return {path: text for path, text in files.items()
            if path in wanted or any(finding.startswith((path + ":", path + " ")) for finding in findings)}
