"""Reading a student's submission without trusting it: no symbolic links followed, no FIFOs or devices opened,
at most MAX_FILE_BYTES read per file, and never more than MAX_ENTRIES directory entries looked at.

Only text is read here (the files the handout has, and feedback.md); nothing of a submission is ever imported,
executed or copied as it is. Virtual environments (any folder holding a pyvenv.cfg), version control and caches
are skipped. A UTF-8 byte-order mark and CRLF or CR line endings are normalised away, so they are no difference.
"""
import errno
import os
import stat
from collections import OrderedDict, namedtuple
from typing import List

MAX_FILE_BYTES = 1024 * 1024
MAX_ENTRIES = 20000
# Folders that are never part of a solution; skipped silently. Virtual environments are found by their pyvenv.cfg.
SKIPPED_FOLDERS = (".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ipynb_checkpoints", "results", ".idea",
                   ".vscode", "node_modules")

# files: {relative path: normalised text} of the files that were asked for and could be read.
# present: every regular file seen, relative paths; findings: what a tutor should know about how it was read.
Submission = namedtuple("Submission", "root files present findings")


def normalise(raw: bytes) -> str:
    """Text without a UTF-8 byte-order mark, with LF line endings; bytes that are not UTF-8 become U+FFFD."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_regular_file(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The first `limit` bytes of a regular file; raises OSError for a link, a FIFO, a device or a bigger file.

    O_NOFOLLOW refuses a symbolic link as the last path component, O_NONBLOCK keeps a FIFO from blocking the
    open, and fstat on the opened descriptor decides, so the file cannot be swapped between check and read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, flags)
    try:
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
    finally:
        os.close(descriptor)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def list_files(root: str, findings: List[str]) -> List[str]:
    """Every regular file below root, as sorted relative paths with '/', without following links."""
    found, seen = [], 0
    pending = [""]
    while pending:
        relative = pending.pop()
        try:
            entries = sorted(os.scandir(os.path.join(root, relative) if relative else root), key=lambda e: e.name)
        except OSError as error:
            findings.append("{}: could not be listed ({})".format(relative or ".", error.strerror))
            continue
        if relative and any(entry.name == "pyvenv.cfg" for entry in entries):
            continue  # a virtual environment, whatever its name
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                findings.append("more than {} files and folders: the rest was not looked at".format(MAX_ENTRIES))
                return sorted(found)
            path = relative + "/" + entry.name if relative else entry.name
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode):
                if entry.name not in SKIPPED_FOLDERS:
                    pending.append(path)
            elif stat.S_ISREG(mode):
                found.append(path)
            else:
                findings.append("{} is {} (not read)".format(path, _kind(mode)))
    return sorted(found)


def read_submission(root: str, wanted: List[str]) -> Submission:
    """List the submission and read the `wanted` files (relative paths) that are regular and small enough."""
    findings = []
    if not os.path.isdir(root):
        raise FileNotFoundError("{} is not a folder".format(root))
    present = list_files(root, findings)
    listed = set(present)
    files = OrderedDict()
    for path in wanted:
        if path not in listed:
            continue  # missing, or behind a symbolic link or a skipped folder: never opened
        full = os.path.join(root, *path.split("/"))
        try:
            files[path] = normalise(read_regular_file(full))
        except FileNotFoundError:
            continue
        except OSError as error:
            if error.errno == errno.EFBIG:
                findings.append("{} is larger than {} MB (not read)".format(path, MAX_FILE_BYTES // (1024 * 1024)))
            else:
                findings.append("{} could not be read ({})".format(path, error.strerror))
    return Submission(root, files, present, findings)


def find_root(root: str, handout: dict) -> tuple:
    """(the folder to grade, a note or None): root itself, or, where root holds none of the handout's gap files
    and exactly one folder directly inside it holds some (a zip of the repository's folder), that folder."""
    from grading.tasks import CODE_TASKS

    files = sorted({task.file for task in CODE_TASKS if task.file in handout})

    def holds(folder: str) -> bool:
        for path in files:
            try:
                if stat.S_ISREG(os.lstat(os.path.join(folder, *path.split("/"))).st_mode):
                    return True
            except OSError:
                continue
        return False

    if not os.path.isdir(root) or holds(root):
        return root, None
    try:
        inside = [entry for entry in os.scandir(root) if entry.is_dir(follow_symlinks=False)
                  and entry.name not in SKIPPED_FOLDERS]
    except OSError:
        return root, None
    holding = [entry for entry in inside if holds(entry.path)]
    if len(holding) != 1:
        return root, None
    name = os.fsencode(holding[0].name).decode("utf-8", errors="backslashreplace")
    return holding[0].path, ("the submission is one folder down: graded from its folder '{}'".format(
        safe_text(name, 100)))


def safe_text(text: str, limit: int = 300) -> str:
    """Text that a submission controls, fit for a report: printable, on one line, at most `limit` characters."""
    text = "".join(character if character.isprintable() else " " for character in str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
