"""The grades in the files that Canvas's and Moodle's gradebooks import: `tools/grade.py ... --roster FILE
--canvas FILE --moodle FILE`.

The roster is a CSV with one row per student: a `submission` column (the submission's folder name, as the
grades CSV's name column) or a `github_username` column (GitHub Classroom's clones are named PREFIX-USERNAME:
set [lms] folder_prefix in the course file), and the identifiers the LMS matches on, under the LMS's own column
names, so that a gradebook export with one column added is a roster:
- Canvas (Grades > Export): `Student`, `ID`, `SIS User ID`, `SIS Login ID`, `Section`. Its import matches a row
  on ID, SIS User ID or SIS Login ID and reads every further column as an assignment, named
  "Exercise 3 (12345)" for an existing one; an optional second row "Points Possible".
- Moodle (Grade administration > Import > CSV file): any of `Email address`, `Username`, `ID number`. The
  import page maps that column to the user field of the same meaning ("Map from" / "Map to") and each grade
  column to a grade item.
A submission with no roster row, or a roster row with no submission, is listed and left out of both files:
nothing is matched by a guess. The points written are the points of record (after a late penalty, with the
tutor's points where --tutor-points merged them).
"""
import csv
from typing import Dict, List, NamedTuple, Optional, Sequence

from tools.course import Lms
from tools.text import spreadsheet_text

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_MATCHES_ON = ("ID", "SIS User ID", "SIS Login ID")
MOODLE_IDENTIFIERS = ("ID number", "Username", "Email address")  # Moodle's export names, in its mapping order
ROSTER_NAMES = ("submission", "github_username")


class RosterError(ValueError):
    """The roster cannot be used: the message names the file, the line and what was expected."""


class Roster(NamedTuple):
    rows: List[Dict[str, str]]
    columns: List[str]


class Matching(NamedTuple):
    pairs: List[tuple]  # [(roster row, submission name)] in roster order
    no_roster_row: List[str]  # submissions graded but not in the roster
    no_submission: List[str]  # roster rows (their identifiers) with no submission graded


def read_roster(path: str) -> Roster:
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            rows = [{key: (value or "").strip() for key, value in row.items() if key is not None} for row in reader]
            columns = list(reader.fieldnames or [])
    except (OSError, UnicodeError, csv.Error) as error:
        raise RosterError("cannot read the roster {}: {}".format(path, error))
    if not any(name in columns for name in ROSTER_NAMES):
        raise RosterError("{}: a roster needs a column {} (the submission's folder name) or {} (a GitHub Classroom "
                          "clone's user); it has {}".format(path, *ROSTER_NAMES, ", ".join(columns) or "none"))
    seen = {}
    for line, row in enumerate(rows, start=2):
        for key in ROSTER_NAMES:
            value = row.get(key, "")
            if value and (key, value) in seen:
                raise RosterError("{}, line {}: {} {} is on line {} too".format(
                    path, line, key, value, seen[key, value]))
            seen[key, value] = line
    return Roster(rows, columns)


def match(roster: Roster, names: Sequence[str], folder_prefix: str = "") -> Matching:
    """Each roster row with the submission it names exactly: its `submission`, or folder_prefix + its
    `github_username`. Names are compared as written (a case or a space that differs is no match, and listed)."""
    by_name = {}
    for row in roster.rows:
        if row.get("submission"):
            by_name.setdefault(row["submission"], row)
        if row.get("github_username"):
            by_name.setdefault(folder_prefix + row["github_username"], row)
    pairs, taken = [], set()
    for name in names:
        row = by_name.get(name)
        if row is not None and id(row) not in taken:
            taken.add(id(row))
            pairs.append((row, name))
    order = {id(row): index for index, row in enumerate(roster.rows)}
    pairs.sort(key=lambda pair: order[id(pair[0])])
    return Matching(pairs, [name for name in names if name not in {pair[1] for pair in pairs}],
                    [identity(row) for row in roster.rows if id(row) not in taken])


def identity(row: Dict[str, str]) -> str:
    """A roster row as a line can name it: its first non-empty identifiers."""
    parts = ["{} {}".format(key, row[key]) for key in ROSTER_NAMES + CANVAS_IDENTITY + MOODLE_IDENTIFIERS
             if row.get(key)]
    return ", ".join(parts[:3]) or "an empty row"


def columns(lms: Lms, keys: Sequence[str], late: bool) -> List[tuple]:
    """[(column title, value key)]: one column of the points of record, or one per task (and the late penalty,
    negative, where a late policy is set) when [lms] columns = tasks."""
    if lms.columns == "total":
        title = lms.assignment + (" ({})".format(lms.canvas_assignment_id) if lms.canvas_assignment_id else "")
        return [(title, "points of record")]
    found = [("{}: {}".format(lms.assignment, key), key) for key in keys]
    return found + ([("{}: late penalty".format(lms.assignment), "late penalty")] if late else [])


def write_canvas(path: str, matching: Matching, titles: List[tuple], cells: Dict[str, dict],
                 possible: Dict[str, Optional[float]]) -> None:
    """Canvas's gradebook import: the five identity columns, then the grade columns; a Points Possible row."""
    missing = [row for row, _ in matching.pairs if not any(row.get(key) for key in CANVAS_MATCHES_ON)]
    if missing:
        raise RosterError("Canvas matches a row on {}; the roster has none of them for {}".format(
            ", ".join(CANVAS_MATCHES_ON), identity(missing[0])))
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(list(CANVAS_IDENTITY) + [title for title, _ in titles])
        writer.writerow(["Points Possible", "", "", "", ""] + [text(possible.get(key)) for _, key in titles])
        for row, name in matching.pairs:
            writer.writerow([spreadsheet_text(row.get(key, "")) for key in CANVAS_IDENTITY] +
                            [text(cells[name].get(key)) for _, key in titles])


def write_moodle(path: str, matching: Matching, titles: List[tuple], cells: Dict[str, dict]) -> None:
    """Moodle's CSV grade import: the roster's Moodle identifier (the first of ID number, Username, Email
    address that every matched row has), then the grade columns."""
    usable = [key for key in MOODLE_IDENTIFIERS if matching.pairs and all(row.get(key) for row, _ in matching.pairs)]
    if matching.pairs and not usable:
        raise RosterError("Moodle matches a user on one of {}; the roster has none of them for every student".format(
            ", ".join(MOODLE_IDENTIFIERS)))
    key = usable[0] if usable else MOODLE_IDENTIFIERS[-1]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([key] + [title for title, _ in titles])
        for row, name in matching.pairs:
            writer.writerow([spreadsheet_text(row[key])] + [text(cells[name].get(value)) for _, value in titles])


def text(value) -> str:
    if value is None or value == "":
        return ""
    value = round(float(value), 2)
    return str(int(value)) if value.is_integer() else str(value)
