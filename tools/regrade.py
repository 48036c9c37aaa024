"""A regrade compared with an earlier grading: `tools/grade.py ... --previous FILE`.

FILE is an earlier run's CSV (`--csv`) or results.json (`--json`, one submission). Every submission graded now
whose points of any task, or whose total, differ from FILE's is listed with what changed; a name on one side only
is listed too, never matched by a guess. The earlier total stays in the record (the CSV's `previous total`).
"""
import csv
import json
from collections import OrderedDict, namedtuple
from typing import Dict, List

from grading.tasks import TASKS

# name: the submission; before/after: totals as the CSV writes them; tasks: [(key, before, after)] that differ.
Change = namedtuple("Change", "name before after tasks")
# changed: [Change]; only_before / only_now: names found on one side only.
Comparison = namedtuple("Comparison", "changed only_before only_now")
KEYS = [task.key for task in TASKS]


class PreviousError(ValueError):
    """FILE cannot be read as an earlier grading: the message says what was expected."""


def read(path: str) -> "OrderedDict[str, Dict[str, str]]":
    """{name: {task key or "total": points as text}} of an earlier CSV or results.json."""
    try:
        with open(path, encoding="utf-8", newline="") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise PreviousError("cannot read {}: {}".format(path, error))
    if path.endswith(".json"):
        return _from_results_json(path, text)
    rows = list(csv.DictReader(text.splitlines()))
    missing = [column for column in ["name", "total"] + KEYS if rows and column not in rows[0]]
    if not rows or missing:
        raise PreviousError("{} is not a CSV of tools/grade.py --csv: expected the columns name, {} and total{}".format(
            path, ", ".join(KEYS), "; missing: " + ", ".join(missing) if missing else " and a row"))
    previous = OrderedDict()
    for row in rows:
        previous[row["name"]] = {key: text_of(row[key]) for key in KEYS + ["total"]}
    return previous


def _from_results_json(path: str, text: str) -> "OrderedDict[str, Dict[str, str]]":
    """The one submission of a results.json, from extra_data's name and points (tools/grade.py's points_cells)."""
    try:
        extra = json.loads(text)["extra_data"]
        name, cells = extra["name"], extra["points"]
        previous = OrderedDict([(str(name), {key: text_of(cells.get(key, "")) for key in KEYS + ["total"]})])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise PreviousError("{} is not a results.json of tools/grade.py --json: expected extra_data.name and "
                            "extra_data.points".format(path))
    return previous


def text_of(points) -> str:
    """Points as text, the same whichever way they were written: 1 (not 1.0), 0.5, '' for none."""
    try:
        value = float(points)
    except (TypeError, ValueError):
        return str(points).strip()
    return str(int(value)) if value.is_integer() else str(value)


def compare(previous: Dict[str, Dict[str, str]], now: "OrderedDict[str, Dict[str, str]]") -> Comparison:
    """What differs between an earlier grading and this one ({name: {key: points as text}} both), by name."""
    changed = []
    for name, cells in now.items():
        before = previous.get(name)
        if before is None:
            continue
        tasks = [(key, before.get(key, ""), cells.get(key, "")) for key in KEYS
                 if before.get(key, "") != cells.get(key, "")]
        if tasks or before.get("total", "") != cells.get("total", ""):
            changed.append(Change(name, before.get("total", ""), cells.get("total", ""), tasks))
    return Comparison(changed, [name for name in previous if name not in now],
                      [name for name in now if name not in previous])


def lines(comparison: Comparison, path: str, why: Dict[str, Dict[str, str]]) -> List[str]:
    """The terminal's and the class page's lines; why: {name: {task key: the row's detail now}}."""
    found = ["changed since {}: {} of the submissions graded".format(path, len(comparison.changed))]
    for change in comparison.changed:
        reasons = why.get(change.name, {})
        parts = ["{} {} -> {}{}".format(key, before or "-", after or "-",
                                        ": " + reasons[key] if reasons.get(key) else "")
                 for key, before, after in change.tasks]
        found.append("  {}: total {} -> {}{}".format(change.name, change.before, change.after,
                                                     " (" + "; ".join(parts) + ")" if parts else ""))
    if comparison.only_before:
        found.append("  in {} but not graded now: {}".format(path, ", ".join(comparison.only_before)))
    if comparison.only_now:
        found.append("  graded now but not in {}: {}".format(path, ", ".join(comparison.only_now)))
    return found
