"""What a course decides about grading an exercise, in one file (tools/course.ini, or tools/grade.py --course FILE):
the deadline and its late policy, what students see before and after it, and the gradebook columns of its LMS.

    course = read("tools/course.ini")
    late = apply_late_policy(course.late, due, submitted, earned)   # the one place a late penalty is computed

Every time is an aware datetime: a deadline without its UTC offset (2027-01-15T23:59+01:00) is refused, so that
no time is read in the grader's own time zone. Nothing here reads a submission; the submission times come from
Gradescope's metadata or a clone's commit (tools/submitted.py).
"""
import configparser
import csv
import datetime
import math
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from grading.tasks import TASKS

DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "course.ini")
# Gradescope's values for a test's or the output's visibility (its results.json specification).
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
COLUMNS = ("total", "tasks")


class CourseError(Exception):
    """The course file (or its extensions file) says something that cannot be used: the message names it."""


@dataclass(frozen=True)
class LatePolicy:
    due: datetime.datetime
    grace: datetime.timedelta = datetime.timedelta(0)
    percent_per_day: float = 0.0  # of the points earned, per started day after due + grace
    max_percent: float = 100.0  # the penalty's cap
    extensions: Dict[str, datetime.datetime] = field(default_factory=dict)  # {submission name: its own due}

    def due_for(self, name: str) -> datetime.datetime:
        return self.extensions.get(name, self.due)


@dataclass(frozen=True)
class Visibility:
    tests: str = "visible"  # every task's row, unless `tasks` names it
    output: str = "visible"  # the notes under the table (Gradescope's stdout_visibility)
    tasks: Dict[str, str] = field(default_factory=dict)

    def of(self, key: str) -> str:
        return self.tasks.get(key, self.tests)


@dataclass(frozen=True)
class Lms:
    assignment: str = "Exercise 3"
    canvas_assignment_id: str = ""  # the number in Canvas's column header "Exercise 3 (12345)"
    columns: str = "total"  # "total": one column; "tasks": one per task
    folder_prefix: str = ""  # a GitHub Classroom clone's folder is folder_prefix + the student's GitHub user


@dataclass(frozen=True)
class Course:
    late: Optional[LatePolicy] = None  # None: no deadline, no penalty
    visibility: Visibility = Visibility()
    lms: Lms = Lms()


@dataclass(frozen=True)
class Late:
    """A late policy applied: the points earned, the penalty and the points of record, and why."""
    earned: float
    penalty: float
    of_record: float
    days: int
    percent: float
    due: Optional[datetime.datetime]
    submitted: Optional[datetime.datetime]
    source: str  # where the submission time came from, e.g. "Gradescope's submission time"

    def line(self, amounts: bool = True) -> str:
        """E.g. 'late: submitted 2027-01-17 09:00+01:00 (the commit time ...), due 2027-01-15 23:59+01:00: 2 days
        late, 20 % of 9 earned: penalty 1.8, points of record 7.2'; amounts=False leaves the points out (a student
        page that does not show every task's points yet)."""
        if self.submitted is None:
            return "late policy: no submission time is known ({}), so no penalty".format(self.source) + (
                ": points of record {}".format(number(self.of_record)) if amounts else "")
        when = "submitted {} ({}), due {}".format(stamp(self.submitted), self.source, stamp(self.due))
        if not self.days:
            return "on time: {}".format(when)
        late = "late: {}: {} day{} late, ".format(when, self.days, "" if self.days == 1 else "s")
        if not amounts:
            return late + "a penalty of {:g} % of the points earned".format(self.percent)
        return late + "{:g} % of {} earned: penalty {}, points of record {}".format(
            self.percent, number(self.earned), number(self.penalty), number(self.of_record))

    def record(self) -> dict:
        return {"earned": self.earned, "penalty": self.penalty, "points of record": self.of_record,
                "days late": self.days, "percent": self.percent, "due": stamp(self.due) if self.due else None,
                "submitted": stamp(self.submitted) if self.submitted else None, "source": self.source}


def number(value: float):
    """2.0 -> 2, 1.75 -> 1.75 (points as the tables show them)."""
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value


def stamp(moment: datetime.datetime) -> str:
    return moment.isoformat(sep=" ", timespec="minutes")


def parse_time(text: str, what: str) -> datetime.datetime:
    """An ISO 8601 time with its UTC offset ('2027-01-15T23:59+01:00'; 'Z' for UTC)."""
    text = text.strip()
    try:
        moment = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise CourseError("{}: {!r} is not a time as 2027-01-15T23:59+01:00".format(what, text))
    if moment.tzinfo is None:
        raise CourseError("{}: {!r} has no UTC offset; write it as {}+01:00 (or Z for UTC), so that it does not "
                          "depend on the time zone of the machine that grades".format(what, text, text))
    return moment


def apply_late_policy(policy: Optional[LatePolicy], due: Optional[datetime.datetime],
                      submitted: Optional[datetime.datetime], earned: float, source: str) -> Optional[Late]:
    """The late policy's verdict for points `earned` (None without a policy): each day started after due + grace
    costs percent_per_day of them, at most max_percent. `due` is the submission's own (an extension's,
    Gradescope's); None takes the policy's."""
    if policy is None:
        return None
    due = due or policy.due
    if submitted is None:
        return Late(earned, 0.0, earned, 0, 0.0, due, None, source)
    over = submitted - (due + policy.grace)
    days = max(0, math.ceil(over.total_seconds() / 86400.0))
    percent = min(policy.max_percent, days * policy.percent_per_day)
    penalty = round(earned * percent / 100.0, 2)
    return Late(earned, penalty, round(earned - penalty, 2), days, percent, due, submitted, source)


def read(path: Optional[str] = None) -> Course:
    """The course file at path (tools/course.ini when None; no file there: no deadline, everything visible)."""
    if path is None:
        if not os.path.exists(DEFAULT):
            return Course()
        path = DEFAULT
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as file:
            parser.read_file(file)
    except (OSError, UnicodeError, configparser.Error) as error:
        raise CourseError("cannot read {}: {}".format(path, error))
    known = {"deadline", "visibility", "visibility.tasks", "lms"}
    unknown = sorted(set(parser.sections()) - known)
    if unknown:
        raise CourseError("{}: unknown section [{}]; the sections are [{}]".format(
            path, unknown[0], "], [".join(sorted(known))))
    return Course(late=_late(parser, path), visibility=_visibility(parser, path), lms=_lms(parser, path))


def _number(section, key: str, default: float, path: str) -> float:
    try:
        value = section.getfloat(key, fallback=default)
    except ValueError:
        raise CourseError("{}: [{}] {} = {!r} is not a number".format(path, section.name, key, section.get(key)))
    if value < 0:
        raise CourseError("{}: [{}] {} must not be negative".format(path, section.name, key))
    return value


def _late(parser, path: str) -> Optional[LatePolicy]:
    if not parser.has_section("deadline"):
        return None
    section = parser["deadline"]
    _only(section, ("due", "grace_minutes", "penalty_percent_per_day", "max_penalty_percent", "extensions"), path)
    if "due" not in section:
        raise CourseError("{}: [deadline] needs due = (e.g. 2027-01-15T23:59+01:00)".format(path))
    extensions = {}
    if section.get("extensions"):
        extensions = read_extensions(os.path.join(os.path.dirname(os.path.abspath(path)), section["extensions"]))
    return LatePolicy(due=parse_time(section["due"], "{}: [deadline] due".format(path)),
                      grace=datetime.timedelta(minutes=_number(section, "grace_minutes", 0, path)),
                      percent_per_day=_number(section, "penalty_percent_per_day", 0, path),
                      max_percent=min(100.0, _number(section, "max_penalty_percent", 100, path)),
                      extensions=extensions)


def read_times(path: str, what: str, column: str) -> List[Tuple[int, str, datetime.datetime]]:
    """(line, name, time) of every row of a CSV with the columns name and `column` (a time with its offset);
    `what` names the file in an error ("the extensions")."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            rows = list(reader)
            header = reader.fieldnames or []
    except (OSError, UnicodeError, csv.Error) as error:
        raise CourseError("cannot read {} {}: {}".format(what, path, error))
    if not {"name", column} <= set(header):
        raise CourseError("{}: the columns must be name and {}, not {}".format(path, column, ", ".join(header)))
    return [(line, (row.get("name") or "").strip(), parse_time(row.get(column) or "", "{}, line {}".format(
        path, line))) for line, row in enumerate(rows, start=2)]


def read_extensions(path: str) -> Dict[str, datetime.datetime]:
    """A CSV with the columns name (the submission's, as the grades CSV writes it) and due (its own deadline)."""
    extensions = {}
    for line, name, due in read_times(path, "the extensions", "due"):
        if name in extensions:
            raise CourseError("{}, line {}: a second extension for {}".format(path, line, name))
        extensions[name] = due
    return extensions


def _visibility(parser, path: str) -> Visibility:
    section = parser["visibility"] if parser.has_section("visibility") else {}
    if section:
        _only(section, ("tests", "output"), path)
    tasks = dict(parser["visibility.tasks"]) if parser.has_section("visibility.tasks") else {}
    graded = [task.key for task in TASKS if task.kind != "tutor"]
    for key in tasks:
        if key not in graded:
            raise CourseError("{}: [visibility.tasks] {}: no such task; the tasks are {}".format(
                path, key, ", ".join(graded)))
    values = dict(tests=section.get("tests", "visible"), output=section.get("output", "visible"))
    for where, value in list(values.items()) + [("[visibility.tasks] " + key, value) for key, value in tasks.items()]:
        if value not in VISIBILITIES:
            raise CourseError("{}: {} = {!r}; Gradescope's values are {}".format(
                path, where, value, ", ".join(VISIBILITIES)))
    return Visibility(tests=values["tests"], output=values["output"], tasks=tasks)


def _lms(parser, path: str) -> Lms:
    if not parser.has_section("lms"):
        return Lms()
    section = parser["lms"]
    _only(section, ("assignment", "canvas_assignment_id", "columns", "folder_prefix"), path)
    lms = Lms(assignment=section.get("assignment", Lms.assignment).strip(),
              canvas_assignment_id=section.get("canvas_assignment_id", "").strip(),
              columns=section.get("columns", "total").strip(), folder_prefix=section.get("folder_prefix", "").strip())
    if lms.columns not in COLUMNS:
        raise CourseError("{}: [lms] columns = {!r}; it is total or tasks".format(path, lms.columns))
    if lms.canvas_assignment_id and not lms.canvas_assignment_id.isdigit():
        raise CourseError("{}: [lms] canvas_assignment_id is the assignment's number in Canvas, not {!r}".format(
            path, lms.canvas_assignment_id))
    return lms


def _only(section, keys, path: str) -> None:
    for key in section:
        if key not in keys:
            raise CourseError("{}: [{}] has no setting {!r}; it has {}".format(
                path, section.name, key, ", ".join(keys)))


def shown(visibility: str, due_passed: bool, published: bool) -> bool:
    """Whether students see a part with this visibility now, as Gradescope decides it."""
    return {"visible": True, "after_due_date": due_passed, "after_published": published,
            "hidden": False}[visibility]
