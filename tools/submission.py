"""Reading a student's submission without trusting it: no symbolic link followed on any path component, no FIFO or
device opened, at most MAX_FILE_BYTES read per file.

The files the grader wants (the handout's .py files and feedback.md) are read by their paths, one folder at a time
(so a data folder of any size cannot hide them). A separate walk lists the other files for the integrity findings;
it looks at MAX_ENTRIES entries at most, the handout's folders first, and a note says how many it left.
locate() finds the folder to grade: the submission itself, the one folder inside it that holds the exercise (a zip
of the repository's folder), the one with the most gaps filled of several, or the handout's files uploaded without
their folders.

Only text is read here; nothing of a submission is ever imported, executed or copied as it is. Virtual environments
(any folder holding a pyvenv.cfg or conda-meta/), version control and caches are skipped. A UTF-8 byte-order mark
and CRLF or CR line endings are normalised away, so they are no difference.
"""
import errno
import os
import stat
from collections import OrderedDict, deque, namedtuple
from typing import Dict, List, Optional

from grading.gaps import does_nothing, student_gaps
from grading.tasks import CODE_TASKS
from tools.text import safe_text

MAX_FILE_BYTES = 1024 * 1024
MAX_ENTRIES = 20000
# Past MAX_ENTRIES the walk only counts names, for its note, up to this many.
MAX_COUNTED = 10 * MAX_ENTRIES
# The top folders a note names the entries left under.
MAX_NAMED = 5
# Of several folders that hold the exercise, the first this many by name are compared.
MAX_CANDIDATES = 8
# How many folders of nothing but one folder are followed down, past the one folder down always looked in.
MAX_DEPTH = 2
# Folders that are never part of a solution; skipped silently. Virtual environments are found by their pyvenv.cfg
# (venv, virtualenv) or conda-meta/ (conda): ENVIRONMENT_MARKERS.
ENVIRONMENT_MARKERS = ("pyvenv.cfg", "conda-meta")
SKIPPED_FOLDERS = (".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ipynb_checkpoints", "results", ".idea",
                   ".vscode", "node_modules")
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(
    os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

# files: {relative path: normalised text} of the files that were asked for and could be read, by the handout's
# paths. present: every regular file seen, relative paths (a file taken by its name under its handout path).
# findings: what a tutor should know about how it was read (integrity findings). notes: how it was read, for the
# student and the tutor, that costs nothing (the folder graded, what the walk left). unread: {wanted path: why it
# was there but not read, as the finding says it} (a file over MAX_FILE_BYTES, a link), for the gap's own row.
Submission = namedtuple("Submission", "root files present findings notes unread", defaults=((), None))


def normalise(raw: bytes) -> str:
    """Text without a UTF-8 byte-order mark, with LF line endings; bytes that are not UTF-8 become U+FFFD."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_descriptor(descriptor: int, limit: int) -> bytes:
    """The bytes of an opened file, deciding on its fstat: the file cannot be swapped between check and read."""
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, "not a regular file")
    if info.st_size > limit:
        raise OSError(errno.EFBIG, "larger than {} bytes".format(limit))
    chunks, size = [], 0
    while size <= limit:
        chunk = os.read(descriptor, min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise OSError(errno.EFBIG, "larger than {} bytes".format(limit))
    return b"".join(chunks)


def read_regular_file(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The first `limit` bytes of a regular file; raises OSError for a link, a FIFO, a device or a bigger file.

    O_NOFOLLOW refuses a symbolic link as the last path component and O_NONBLOCK keeps a FIFO from blocking the
    open. Folders on the way are not checked: read_below() checks them.
    """
    descriptor = os.open(path, _FILE_FLAGS)
    try:
        return _read_descriptor(descriptor, limit)
    finally:
        os.close(descriptor)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def is_environment(folder: str) -> bool:
    """Whether a folder is a Python environment (a venv's pyvenv.cfg, conda's conda-meta/), whatever its name."""
    return any(os.path.lexists(os.path.join(folder, marker)) for marker in ENVIRONMENT_MARKERS)


class NotRead(Exception):
    """A path that was not read. where: the path of the component that stopped it; kind: what that component is
    ("a symbolic link", ...), or None where nothing is to be said (missing, a skipped folder, a file too big: the
    caller decides from `error`)."""

    def __init__(self, where: str, kind: Optional[str] = None, error: Optional[OSError] = None):
        super().__init__(where)
        self.where, self.kind, self.error = where, kind, error


def _folder_of(root: str, path: str) -> int:
    """The open folder that holds `path` ('/'-separated, relative) below root, each folder on the way opened
    relative to the last with O_NOFOLLOW, so that no symbolic link anywhere on the path redirects it. Raises
    NotRead (a skipped folder or a virtual environment on the way is a NotRead with nothing to say)."""
    folders = path.split("/")[:-1]
    try:
        descriptor = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise NotRead(".", error=error)
    for index, folder in enumerate(folders):
        where = "/".join(folders[:index + 1])
        if folder in SKIPPED_FOLDERS or folder in ("", ".", ".."):
            os.close(descriptor)
            raise NotRead(where)
        descriptor = _enter(descriptor, folder, where)
        if any(_exists(descriptor, marker) for marker in ENVIRONMENT_MARKERS):
            os.close(descriptor)
            raise NotRead(where)  # a virtual environment, whatever its name
    return descriptor


def _enter(descriptor: int, folder: str, where: str) -> int:
    """The folder inside the open folder `descriptor`, opened without following a link; `descriptor` is closed."""
    try:
        mode = os.lstat(folder, dir_fd=descriptor).st_mode
        if not stat.S_ISDIR(mode):
            raise NotRead(where, _kind(mode) if stat.S_ISLNK(mode) else None)
        return os.open(folder, _FOLDER_FLAGS, dir_fd=descriptor)
    except OSError as error:
        raise NotRead(where, error=error)
    finally:
        os.close(descriptor)


def _exists(descriptor: int, name: str) -> bool:
    try:
        os.lstat(name, dir_fd=descriptor)
        return True
    except OSError:
        return False


def _mode_in(descriptor: int, path: str) -> int:
    """The lstat mode of the path's last component in its open folder; raises NotRead."""
    try:
        return os.lstat(path.rsplit("/", 1)[-1], dir_fd=descriptor).st_mode
    except OSError as error:
        raise NotRead(path, error=error)


def read_below(root: str, path: str, limit: int = MAX_FILE_BYTES, one_link: bool = False) -> bytes:
    """The bytes of the regular file at `path` below root, reached through real folders only (_folder_of), the
    file lstat'ed before it is opened so that no FIFO or device is ever opened. one_link: refuse a file with a
    second name (a hard link could name a file of the grader's machine). Raises NotRead."""
    descriptor = _folder_of(root, path)
    try:
        mode = _mode_in(descriptor, path)
        if not stat.S_ISREG(mode):
            raise NotRead(path, _kind(mode))
        if one_link and os.stat(path.rsplit("/", 1)[-1], dir_fd=descriptor, follow_symlinks=False).st_nlink != 1:
            raise NotRead(path, "a file with another name elsewhere (a hard link)")
        try:
            opened = os.open(path.rsplit("/", 1)[-1], _FILE_FLAGS, dir_fd=descriptor)
        except OSError as error:
            raise NotRead(path, error=error)
        try:
            return _read_descriptor(opened, limit)
        except OSError as error:
            raise NotRead(path, error=error)
        finally:
            os.close(opened)
    finally:
        os.close(descriptor)


def is_regular_below(root: str, path: str) -> bool:
    """Whether `path` below root is a regular file reached through real folders (read_below would try it)."""
    try:
        descriptor = _folder_of(root, path)
    except NotRead:
        return False
    try:
        return stat.S_ISREG(_mode_in(descriptor, path))
    except NotRead:
        return False
    finally:
        os.close(descriptor)


def list_files(root: str, findings: List[str], notes: List[str], first=(), limit: int = MAX_ENTRIES,
               reported=frozenset()) -> List[str]:
    """Every regular file below root, as sorted relative paths with '/', without following links, breadth first
    and the folders in `first` before the others; at most `limit` entries are looked at, and a note counts the
    entries left under each top folder (up to MAX_COUNTED names). Entries whose paths are in `reported` already
    have their finding."""
    found, looked, complete = [], 0, True
    left = OrderedDict()  # top folder ("" for the submission's own entries): how many entries were not looked at
    chosen, others = deque([""]), deque()
    while (chosen or others) and looked < limit:
        relative = chosen.popleft() if chosen else others.popleft()
        try:
            entries = os.scandir(os.path.join(root, relative) if relative else root)
        except OSError as error:
            findings.append("{}: could not be listed ({})".format(relative or ".", error.strerror))
            continue
        with entries:
            for entry in entries:
                path = relative + "/" + entry.name if relative else entry.name
                if looked >= limit:
                    if looked - limit >= MAX_COUNTED:
                        complete = False
                        break
                    looked += 1
                    _left_by(path, left)
                    if _is_folder(entry):
                        others.append(path)
                    continue
                looked += 1
                try:
                    mode = entry.stat(follow_symlinks=False).st_mode
                except OSError:
                    continue
                if stat.S_ISDIR(mode):
                    if entry.name not in SKIPPED_FOLDERS and not is_environment(entry.path):
                        (chosen if path in first else others).append(path)
                elif stat.S_ISREG(mode):
                    found.append(path)
                elif path not in reported:
                    findings.append("{} is {} (not read)".format(path, _kind(mode)))
    complete = complete and _count_below(root, list(chosen) + list(others), left)
    if left:
        where = sorted(left.items(), key=lambda item: -item[1])
        parts = ["{}{} {} {}".format("" if complete else "more than ", count, "entry" if count == 1 else "entries",
                                     "under {}/".format(safe_name(top)) if top else "at the top")
                 for top, count in where[:MAX_NAMED]]
        notes.append("{}{} {} not looked at: the grader looks at {} files and folders, the handout's folders "
                     "first, and read the handout's files all the same".format(
                         ", ".join(parts), " and more elsewhere" if len(where) > MAX_NAMED else "",
                         "was" if sum(left.values()) == 1 else "were", limit))
    return sorted(found)


def _is_folder(entry) -> bool:
    """A real folder to count in, by the entry's d_type (no stat)."""
    try:
        return entry.is_dir(follow_symlinks=False) and entry.name not in SKIPPED_FOLDERS
    except OSError:
        return False


def _left_by(path: str, left: dict) -> None:
    top = path.split("/", 1)[0] if "/" in path else ""
    left[top] = left.get(top, 0) + 1


def _count_below(root: str, folders: List[str], left: dict) -> bool:
    """Count into `left` the entries below the folders the walk did not open, names only, at most MAX_COUNTED of
    them in all; whether all were counted."""
    counted = sum(left.values())
    pending = list(folders)
    while pending:
        relative = pending.pop()
        try:
            with os.scandir(os.path.join(root, relative)) as entries:
                for entry in entries:
                    if counted >= MAX_COUNTED:
                        return False
                    path = relative + "/" + entry.name
                    _left_by(path, left)
                    counted += 1
                    if _is_folder(entry):
                        pending.append(path)
        except OSError:
            continue
    return True


def read_submission(root: str, wanted: List[str], aliases: Optional[Dict[str, str]] = None,
                    limit: int = MAX_ENTRIES, known=()) -> Submission:
    """Read the `wanted` files (relative paths) that are regular and small enough, each by its path (or by its
    alias: {wanted path: the path it was uploaded at}), and list the others (list_files, at most `limit` entries,
    the folders of `wanted` and of `known`, the handout's paths, first)."""
    if not os.path.isdir(root):
        raise FileNotFoundError("{} is not a folder".format(root))
    aliases = aliases or {}
    findings, notes, reported, unread = [], [], {}, {}
    files = OrderedDict()
    for path in wanted:
        source = aliases.get(path, path)
        try:
            files[path] = normalise(read_below(root, source))
        except NotRead as stopped:
            if stopped.where in reported:
                unread[path] = reported[stopped.where]
                continue
            if stopped.kind is not None:
                finding = "{} is {} (not read)".format(stopped.where, stopped.kind)
            elif stopped.error is not None and stopped.error.errno == errno.EFBIG:
                finding = "{} is larger than {} MB (not read)".format(source, MAX_FILE_BYTES // 1024 ** 2)
            elif stopped.error is not None and stopped.error.errno not in (errno.ENOENT, errno.ENOTDIR):
                finding = "{} could not be read ({})".format(stopped.where, stopped.error.strerror)
            else:
                continue  # missing, or in a skipped folder: nothing to say
            findings.append(finding)
            reported[stopped.where] = unread[path] = finding
    first = {"/".join(path.split("/")[:depth]) for path in list(wanted) + list(known)
             for depth in range(1, path.count("/") + 1)}
    listed = list_files(root, findings, notes, first, limit, reported)
    taken = {source: path for path, source in aliases.items() if path in files}
    present = sorted(set(taken.get(path, path) for path in listed) | set(files))
    return Submission(root, files, present, findings, tuple(notes), unread)


def filled_gaps(files: Dict[str, str]) -> int:
    """How many of the handout's gaps hold more than the handout's raise (grading/gaps.py decides)."""
    bodies = {}
    filled = 0
    for task in CODE_TASKS:
        if task.file not in files:
            continue
        if task.file not in bodies:
            bodies[task.file] = student_gaps(files[task.file], task.file)[0]
        if task.gap in bodies[task.file]:
            body, indent, _ = bodies[task.file][task.gap]
            try:
                filled += not does_nothing(body, indent)
            except Exception:  # whatever the check trips over was written by the student: a filled gap
                filled += 1
    return filled


def locate(submission: str, handout: Dict[str, bytes], wanted: List[str], depth: int = 0) -> Submission:
    """The submission read from the folder that holds the exercise, with a note that says which if not its own:
    - the submission itself, where any gap file of the handout is at its path;
    - else the one folder directly inside it that holds one (a zip of the repository's folder);
    - else, of several such folders, the one with the most gaps filled; where they tie and differ, the first by
      name, with a finding that names them all;
    - else the handout's files uploaded without their folders (lib/*.py at the top), each taken by its name
      where no other file of the handout has that name and the handout has no file of that name at its top;
    - else, where the submission holds nothing but one folder, that folder, as above (MAX_DEPTH folders deep at
      most), with a note.
    """
    if not os.path.isdir(submission):
        raise FileNotFoundError("{} is not a folder".format(submission))
    gap_files = sorted({task.file for task in CODE_TASKS if task.file in handout})
    if any(is_regular_below(submission, path) for path in gap_files):
        return read_submission(submission, wanted, known=handout)
    folders = _folders_holding(submission, gap_files)
    if len(folders) == 1:
        read = read_submission(folders[0], wanted, known=handout)
        return read._replace(notes=("the submission is one folder down: graded from its folder '{}'".format(
            safe_name(os.path.basename(folders[0]))),) + read.notes)
    if folders:
        return _choose(folders, handout, gap_files, wanted)
    aliases = by_name(submission, handout, wanted)
    if not any(path in aliases for path in gap_files):
        inner = _only_folder(submission)
        if inner is not None and depth < MAX_DEPTH:  # a zip of a zip's folder: archive/exercise3-main/
            read = locate(inner, handout, wanted, depth + 1)
            return read._replace(notes=tuple("the submission's only folder is '{}': {}".format(
                safe_name(os.path.basename(inner)), note) for note in read.notes[:1]) + read.notes[1:])
        return read_submission(submission, wanted, known=handout)
    read = read_submission(submission, wanted, aliases, known=handout)
    taken = sorted(path for path in aliases if path in read.files)
    note = ("the files were uploaded without their folders: {} at the top {} taken as the handout's file{} of the "
            "same name ({}{}); upload the repository's folder, or a zip of it, to keep its folders".format(
                len(taken), "was" if len(taken) == 1 else "were", "" if len(taken) == 1 else "s",
                ", ".join("{} as {}".format(aliases[path], path) for path in taken[:2]),
                ", ..." if len(taken) > 2 else ""))
    return read._replace(notes=(note,) + read.notes)


def _only_folder(submission: str) -> Optional[str]:
    """The one real folder directly inside the submission, if it holds no other folder or file that counts (skipped
    folders, environments and names starting with '.' do not), else None."""
    found = []
    try:
        with os.scandir(submission) as entries:
            for number, entry in enumerate(entries):
                if number >= MAX_CANDIDATES or len(found) > 1:
                    return None
                if entry.name.startswith(".") or entry.name in SKIPPED_FOLDERS or entry.name == "__MACOSX":
                    continue
                try:
                    folder = entry.is_dir(follow_symlinks=False)
                except OSError:
                    return None
                if not folder or is_environment(entry.path):
                    return None
                found.append(entry.path)
    except OSError:
        return None
    return found[0] if len(found) == 1 else None


def _folders_holding(submission: str, gap_files: List[str]) -> List[str]:
    """The real folders directly inside the submission that hold a gap file at its path, sorted by name."""
    holding = []
    try:
        with os.scandir(submission) as entries:
            for number, entry in enumerate(entries):
                if number >= MAX_ENTRIES:
                    break
                try:
                    folder = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if folder and entry.name not in SKIPPED_FOLDERS and not is_environment(entry.path) and any(
                        is_regular_below(entry.path, path) for path in gap_files):
                    holding.append(entry.path)
    except OSError:
        return []
    return sorted(holding, key=lambda path: os.fsencode(os.path.basename(path)))


def _choose(folders: List[str], handout: Dict[str, bytes], gap_files: List[str], wanted: List[str]) -> Submission:
    """Of several folders that hold the exercise, the one with the most gaps filled, and a note or a finding."""
    compared = folders[:MAX_CANDIDATES]
    contents = []
    for folder in compared:
        files = {}
        for path in gap_files:
            try:
                files[path] = normalise(read_below(folder, path))
            except NotRead:
                continue
        contents.append(files)
    counts = [filled_gaps(files) for files in contents]
    best = max(counts)
    tied = [index for index, count in enumerate(counts) if count == best]
    chosen = tied[0]
    names = ["'{}'".format(safe_name(os.path.basename(folder))) for folder in compared]
    listing = "{} folders hold the exercise: {}{}".format(
        len(folders), ", ".join("{} with {} of {} gaps filled".format(name, count, len(CODE_TASKS))
                                for name, count in zip(names, counts)),
        " and {} more, not compared".format(len(folders) - len(compared)) if len(folders) > len(compared) else "")
    read = read_submission(compared[chosen], wanted, known=handout)
    notes, findings = list(read.notes), list(read.findings)
    if len(tied) == 1:
        notes.insert(0, "{}: graded from {}, the one with the most gaps filled".format(listing, names[chosen]))
    elif all(contents[index] == contents[chosen] for index in tied):
        notes.insert(0, "{}: graded from {}, the first by name (their gap files are the same)".format(
            listing, names[chosen]))
    else:
        findings.insert(0, "{}; they differ, and the grader took {}, the first by name (to be graded from another, "
                           "submit only that one)".format(listing, names[chosen]))
    return read._replace(findings=findings, notes=tuple(notes))


def by_name(submission: str, handout: Dict[str, bytes], wanted: List[str]) -> Dict[str, str]:
    """{wanted path: its name} for the wanted files that are not at their paths but whose name is at the
    submission's top: where no other file of the handout has that name, or else (__init__.py) where the gap files
    are in one folder and the path is that folder's. A name the handout has at its top stays what it is."""
    names = {}
    for path in handout:
        names.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    homes = {task.file.rsplit("/", 1)[0] for task in CODE_TASKS if task.file in handout and "/" in task.file}
    home = homes.pop() if len(homes) == 1 else None
    aliases = {}
    for path in wanted:
        name = path.rsplit("/", 1)[-1]
        owners = names.get(name, [])
        if "/" not in path or name in owners:
            continue
        if (owners == [path] or path == "{}/{}".format(home, name)) and not is_regular_below(submission, path) \
                and is_regular_below(submission, name):
            aliases[path] = name
    return aliases


def safe_name(name: str) -> str:
    """A file or folder name fit for a report: bytes that are not UTF-8 shown escaped."""
    return safe_text(os.fsencode(name).decode("utf-8", errors="backslashreplace"), 100)
