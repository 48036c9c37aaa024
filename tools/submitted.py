"""When a submission was handed in, and from where the time comes: the input of the late policy (tools/course.py).

- On Gradescope: its submission_metadata.json, written by Gradescope before the autograder runs (`created_at`,
  and the due date of the submitter, an extension's where Gradescope has one). Gradescope's clock: trusted.
- For a clone: the commit time of its checked-out commit. The student's machine writes it (git takes any date
  it is given), so it is the student's claim; the pushes file of the collection (`--pushes FILE`: name, pushed
  at, from GitHub's records of the pushes) is the server's, and a push after the deadline is a finding beside it.
The clone is read by Dulwich (pure Python; it runs nothing of the repository, hooks or configured commands) in a
bounded child process (grading/bounded.py): a repository is submitted text.
"""
import datetime
import json
import os
from typing import Dict, NamedTuple, Optional

from grading import bounded
from tools.course import CourseError, parse_time, read_times

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
    """The commit time of the clone's HEAD, read in a bounded child; no time (and the source says why, in words
    of ours: nothing of the repository reaches a report) where the folder is no plain git clone."""
    if not os.path.lexists(os.path.join(folder, ".git")):
        return Submitted(None, UNKNOWN)
    try:
        answer = bounded.call("tools.submitted", "commit_time", {"folder": os.path.abspath(folder)}, READING,
                              "reading the clone's commit time")
    except bounded.Unfinished as error:
        return Submitted(None, "no submission time: {}".format(error.why))
    try:
        return Submitted(parse_time(answer["time"], "the commit time"), COMMIT)
    except (KeyError, TypeError, AttributeError, CourseError):
        why = answer.get("error") if answer.get("error") in COMMIT_ERRORS.values() else COMMIT_ERRORS["unreadable"]
        return Submitted(None, "no submission time: {}".format(why))


# What the child may answer instead of a time: fixed sentences, never the repository's text or Dulwich's message
# (which quotes the files it read: a link at .git/HEAD would put any file's first line into a report).
COMMIT_ERRORS = {
    "not plain": "the clone's .git is not a plain folder (a link, a file naming another repository, or a link "
                 "inside it)",
    "no dulwich": "Dulwich is not installed (pip install -r requirements-dev.txt)",
    "unreadable": "the clone's commit could not be read",
    "out of range": "the clone's commit time is out of range",
}


def commit_time(request: dict) -> dict:
    """In the child: {"time": ISO 8601 with offset} of HEAD's commit, or {"error": one of COMMIT_ERRORS}. Only a
    .git that is a real folder with no link anywhere inside it is read."""
    git = os.path.join(request["folder"], ".git")
    if os.path.islink(git) or not os.path.isdir(git):
        return {"error": COMMIT_ERRORS["not plain"]}
    for directory, folders, files in os.walk(git):
        if any(os.path.islink(os.path.join(directory, name)) for name in folders + files):
            return {"error": COMMIT_ERRORS["not plain"]}
    try:
        from dulwich.repo import Repo
    except ImportError:
        return {"error": COMMIT_ERRORS["no dulwich"]}
    try:
        repository = Repo(request["folder"])
        try:
            commit = repository[repository.head()]
            seconds, offset = int(commit.commit_time), int(commit.commit_timezone)
        finally:
            repository.close()
    except Exception:  # a broken or odd repository: its time is unknown, said so in our words
        return {"error": COMMIT_ERRORS["unreadable"]}
    try:  # git takes any number: a year past 9999 or an offset of a day or more is no time
        zone = datetime.timezone(datetime.timedelta(seconds=offset))
        return {"time": datetime.datetime.fromtimestamp(seconds, zone).isoformat()}
    except (ValueError, OverflowError, OSError):
        return {"error": COMMIT_ERRORS["out of range"]}


def read_pushes(path: str) -> Dict[str, datetime.datetime]:
    """A CSV with the columns name and pushed at: each submission's last push, as the server recorded it."""
    pushes = {}
    for _, name, moment in read_times(path, "the pushes", "pushed at"):
        pushes[name] = max(moment, pushes.get(name, moment))
    return pushes
