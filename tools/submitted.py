"""When a submission was handed in, and from where the time comes: the input of the late policy (tools/course.py).

- On Gradescope: its submission_metadata.json, written by Gradescope before the autograder runs (`created_at`,
  and the due date of the submitter, an extension's where Gradescope has one). Gradescope's clock: trusted.
- For a clone: the commit time of its checked-out commit. The student's machine writes it (git takes any date
  it is given), so it is the student's claim; the pushes file of the collection (`--pushes FILE`: name, pushed
  at, from GitHub's records of the pushes) is the server's, and a push after the deadline is a finding beside it.
The clone is read by Dulwich (pure Python; it runs nothing of the repository, hooks or configured commands) in a
bounded child process (grading/bounded.py): a repository is submitted text.
"""
import csv
import datetime
import json
import os
from typing import Dict, NamedTuple, Optional

from grading import bounded
from tools.course import CourseError, parse_time

GRADESCOPE = "Gradescope's submission time"
COMMIT = "the commit time of the graded commit, set by the student's machine"
UNKNOWN = "no submission time: neither Gradescope's metadata nor a git clone"
READING = bounded.Bound(seconds=60, memory_mb=1024)


class Submitted(NamedTuple):
    time: Optional[datetime.datetime]
    source: str
    due: Optional[datetime.datetime] = None  # the submission's own deadline where the source says (Gradescope)


def from_gradescope(path: str) -> Submitted:
    """Gradescope's submission_metadata.json: created_at, and the latest due date among the submitters' own
    (users[].assignment.due_date: an extension) or the assignment's."""
    try:
        with open(path, encoding="utf-8") as file:
            metadata = json.load(file)
        submitted = parse_time(metadata["created_at"], "{}: created_at".format(path))
        dues = [user["assignment"]["due_date"] for user in metadata.get("users") or []
                if isinstance(user, dict) and isinstance(user.get("assignment"), dict)
                and user["assignment"].get("due_date")]
        due = max((parse_time(text, "{}: a user's due_date".format(path)) for text in dues), default=None)
        if due is None and (metadata.get("assignment") or {}).get("due_date"):
            due = parse_time(metadata["assignment"]["due_date"], "{}: assignment.due_date".format(path))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CourseError("cannot read Gradescope's metadata {}: {}".format(path, error))
    return Submitted(submitted, GRADESCOPE, due)


def from_clone(folder: str) -> Submitted:
    """The commit time of the clone's HEAD, read in a bounded child; UNKNOWN where the folder is no git clone."""
    if not os.path.exists(os.path.join(folder, ".git")):
        return Submitted(None, UNKNOWN)
    try:
        answer = bounded.call("tools.submitted", "commit_time", {"folder": os.path.abspath(folder)}, READING,
                              "reading the clone's commit time")
    except bounded.Unfinished as error:
        return Submitted(None, "no submission time: {}".format(error.why))
    if "error" in answer:
        return Submitted(None, "no submission time: the clone's commit could not be read ({})".format(
            str(answer["error"])[:200]))
    zone = datetime.timezone(datetime.timedelta(seconds=int(answer["offset"])))
    return Submitted(datetime.datetime.fromtimestamp(int(answer["time"]), zone), COMMIT)


def commit_time(request: dict) -> dict:
    """In the child: {"time": seconds since the epoch, "offset": seconds east of UTC} of HEAD's commit."""
    try:
        from dulwich.repo import Repo

        repository = Repo(request["folder"])
        try:
            commit = repository[repository.head()]
            return {"time": int(commit.commit_time), "offset": int(commit.commit_timezone)}
        finally:
            repository.close()
    except ImportError:
        return {"error": "Dulwich is not installed (pip install -r requirements-dev.txt)"}
    except Exception as error:  # a broken or odd repository: its time is unknown, said so
        return {"error": "{}: {}".format(type(error).__name__, error)}


def read_pushes(path: str) -> Dict[str, datetime.datetime]:
    """A CSV with the columns name and pushed at: each submission's last push, as the server recorded it."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            rows = list(reader)
            header = reader.fieldnames or []
    except (OSError, UnicodeError, csv.Error) as error:
        raise CourseError("cannot read the pushes {}: {}".format(path, error))
    if not {"name", "pushed at"} <= set(header):
        raise CourseError("{}: the columns must be name and pushed at, not {}".format(path, ", ".join(header)))
    pushes = {}
    for line, row in enumerate(rows, start=2):
        moment = parse_time(row["pushed at"] or "", "{}, line {}".format(path, line))
        name = (row["name"] or "").strip()
        pushes[name] = max(moment, pushes.get(name, moment))
    return pushes
