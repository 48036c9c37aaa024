"""The tutor-graded points of a class: a CSV template to fill in, and its filled-in copy merged with the grade.

    python tools/grade.py clones/*/ --csv grades.csv --report site     # writes site/tutor_points.csv
    python tools/grade.py clones/*/ --csv grades.csv --report site --tutor-points filled.csv

The template has one row per submission: the name (as in grade.py's CSV) and one column per tutor-graded task of
grading/tasks.py, empty. A tutor writes the points into it, halves and quarters allowed (the reference answers
give ½ and ¼ points), decimal point or comma. An empty cell is a part not graded yet: it counts 0 and the reports
say "not graded yet". Columns beyond these (a tutor's remarks) are kept out of the grade.
"""
import csv
import io
import math
import re
from typing import Dict, List, Optional

from grading.points import Row
from grading.tasks import TASKS
from tools.result import Result

# The tasks and their points come from the registry only.
TUTOR_TASKS = tuple(task for task in TASKS if task.kind == "tutor")
NAME = "name"
COLUMNS = (NAME,) + tuple(task.key for task in TUTOR_TASKS)
NUMBER = re.compile(r"^[+]?(\d+([.,]\d*)?|[.,]\d+)$")


class TutorPointsError(ValueError):
    """The filled-in file cannot be used; the message names the file, the row and the column."""


def number(value: float):
    """4.0 as 4 and 4.5 as 4.5: points as a person writes them (CSV cells, totals, Gradescope's score)."""
    return int(value) if float(value).is_integer() else round(float(value), 2)


def write_template(path: str, names: List[str], known: Optional[Dict[str, Dict[str, float]]] = None) -> None:
    """One row per name, the tutor columns empty, or holding `known` points ({name: {task key: points}}), so
    that writing the template over a filled-in copy loses nothing."""
    known = known or {}
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for name in names:
            given = known.get(name, {})
            writer.writerow([name] + [number(given[key]) if key in given else "" for key in COLUMNS[1:]])


def read(path: str, names: List[str]) -> Dict[str, Dict[str, float]]:
    """{name: {task key: points}} of a filled-in copy; names: the CSV names of the submissions being graded.

    Raises TutorPointsError for a file that cannot be read, a missing column, an unknown or repeated name, or a
    cell that is not a number from 0 to the task's points."""
    try:
        # A spreadsheet may write a byte-order mark; newline="" keeps line breaks inside quoted cells for csv.
        with open(path, newline="", encoding="utf-8-sig") as file:
            text = file.read()
    except (OSError, UnicodeError) as error:
        raise TutorPointsError("{}: cannot be read: {}".format(path, error))
    first = text.split("\n", 1)[0]
    # A spreadsheet set to a German locale writes ';' between cells (its decimal separator is the comma).
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise TutorPointsError("{}: the file is empty; it needs the header {}".format(path, ",".join(COLUMNS)))
    header = [cell.strip() for cell in rows[0]]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise TutorPointsError("{}: row 1: no column {} (the header must hold {})".format(
            path, ", ".join(missing), ",".join(COLUMNS)))
    where = {column: header.index(column) for column in COLUMNS}
    known, seen = set(names), {}
    table = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [cell.strip() for cell in row] + [""] * len(header)
        name = cells[where[NAME]]
        if name not in known:
            raise TutorPointsError("{}: row {}, column {}: '{}' is not one of the submissions graded now".format(
                path, line, NAME, name))
        if names.count(name) > 1:
            raise TutorPointsError("{}: row {}, column {}: '{}' names {} submissions (folders of the same name): "
                                   "rename all but one".format(path, line, NAME, name, names.count(name)))
        if name in seen:
            raise TutorPointsError("{}: row {}, column {}: '{}' is in row {} already".format(
                path, line, NAME, name, seen[name]))
        seen[name] = line
        points = {}
        for task in TUTOR_TASKS:
            cell = cells[where[task.key]]
            if not cell:
                continue
            value = float(cell.replace(",", ".")) if NUMBER.match(cell) else math.nan
            if not 0 <= value <= task.points:
                raise TutorPointsError("{}: row {}, column {}: '{}' is not a number of points from 0 to {}".format(
                    path, line, task.key, cell, task.points))
            points[task.key] = value
        table[name] = points
    return table


def merge(result: Result, points: Optional[Dict[str, float]]) -> None:
    """The tutor's points into a grading result: result.tutor ({task key: points}) and its tutor rows."""
    result.tutor = dict(points or {})
    if not result.rows:
        return
    rows = []
    for row in result.rows:
        if row.task.kind == "tutor" and row.task.key in result.tutor:
            row = Row(row.task, number(result.tutor[row.task.key]), "tutor", "graded by a tutor")
        elif row.task.kind == "tutor":
            row = Row(row.task, None, "tutor", "graded by a tutor: not graded yet")
        rows.append(row)
    result.rows = rows


def tutor_total(result: Result) -> float:
    return sum((result.tutor or {}).values())


def gradescope(results_json: dict, result: Result) -> dict:
    """Gradescope's results.json with one test entry per tutor task (tools/grade.py puts the points of record,
    tutor points included, in its score)."""
    if result.tutor is None:
        return results_json
    for task in TUTOR_TASKS:
        given = result.tutor.get(task.key)
        if given is None:
            continue  # not graded yet: no entry rather than a 0 that reads like a grade
        results_json["tests"].append({
            "name": "Tutor: {}".format(task.title), "score": number(given), "max_score": task.points,
            "status": "passed" if given == task.points else "failed", "output": "graded by a tutor",
            "visibility": "visible"})
    return results_json
