"""Where the graded tests run: a bubblewrap sandbox, or a separate unprivileged identity, or (only when asked for)
with no sandbox at all.

    sandbox = choose("auto", limits, private=submissions, python=interpreter)
    run = sandbox.start_run(scratch)        # an identity of its own; scratch/tmp its private temporary folder
    run.share(tree)                         # the tree: readable by this run's identity only
    process = run.launch(tree, inner, limits, stdout, pass_fds=())
    ... run.over_disk_cap() ...             # True once the run was stopped for the size of its files
    run.reap()                              # its processes killed, its files removed, its identity freed
    sandbox.notes + run.notes               # what the run's report must say

Every run has a uid and gid of its own (as root): drawn from [UID_BASE, UID_BASE + UID_COUNT), where no passwd
entry lives, and reserved by a lock file created with O_EXCL in LOCK_DIR (root only) until the run is reaped, so
that two graders on one machine never share one; a uid that still owns a process (or, in the fallback, a file in
a writable folder) is not drawn. A tree and the run's scratch folder belong to root and the run's group (0750,
0640; 0710 for scratch), their parents let others pass but not list (o+x), and both are given back to the grader
when the run is reaped, before its gid can be drawn again: no run can read another run's files or the grader's.

bwrap   bubblewrap (the sandbox Flatpak uses): a new mount namespace that holds nothing but the interpreter's
        installation and the system's libraries (read-only), the tree (read-only, at /exercise) and sized tmpfs at
        /tmp and /dev/shm; new PID, IPC, UTS and network namespaces; --die-with-parent. Run by root, util-linux
        setpriv becomes the run's uid inside; run by anyone else, bubblewrap maps the grader's user into a user
        namespace (then every run has that uid, and the namespaces keep runs apart).
user    the fallback where bubblewrap cannot run (Docker images such as Gradescope's may refuse its namespaces):
        `unshare --net --ipc` (where the system allows it; else every report says that the network is not
        isolated), then prlimit and setpriv, in the tree. While the run runs, the size of the files its uid owns
        in the world-writable folders (found once, when the sandbox is chosen) is capped; after it, they are
        removed. Needs root.
none    no sandbox (--no-sandbox): the tests run as the grader's own user, with the limits. Every report says so.

The limits of a run (CPU seconds, address space, file size, processes, no core files) are set by util-linux
prlimit in the process that then execs the tests (never in a preexec_fn, which can deadlock a child forked from
a thread), each clamped to the hard limit in force. The checks that choose() runs before grading (_probe) start a
run as a test run would be started and try what a graded run must not be able to do.
"""
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, Iterator, List, Optional, Tuple

try:
    import resource
except ImportError:  # not POSIX: only "none", without limits
    resource = None

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Where the tree is seen inside the bubblewrap sandbox.
TREE_INSIDE = "/exercise"
UID_BASE = 2 ** 31
UID_COUNT = 2 ** 24
LOCK_DIR = "/run/exercise3-sandbox"
RESERVE_ATTEMPTS = 100
# Processes and threads a run may start (pytest needs one; BLAS threads are off); per run, as its uid is its own.
# Few: each can keep a core busy (in a session of its own, past the scheduler's grouping by session) for as long
# as the run lasts, slowing the runs of the submissions graded beside it.
EXTRA_PROCESSES = 8
# The run's files in total: bubblewrap's /tmp is a tmpfs of this size; in the fallback, a watcher stops the run.
DISK_CAP_MB = 256
FILES_CAP = 20000
SHM_MB = 16
DISK_POLL_SECONDS = 0.5
# Files of the master repository that the probe tries to open: a sandbox that can is refused.
PROBE_FILES = ("lib/network.py", "grading/tasks.py")
UNSHARE = "unshare"
TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MB = 1024 * 1024
# Filesystems the search for world-writable folders skips: kernel interfaces, and remote or FUSE mounts, which
# can be slow or hang, and where a run's files would be another machine's business.
PSEUDO_FILESYSTEMS = {"proc", "sysfs", "cgroup", "cgroup2", "devpts", "securityfs", "debugfs", "tracefs",
                      "pstore", "bpf", "configfs", "fusectl", "binfmt_misc", "autofs", "hugetlbfs", "efivarfs",
                      "selinuxfs", "rpc_pipefs", "nfsd", "nsfs"}
REMOTE_FILESYSTEMS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse", "9p", "drvfs", "ceph", "glusterfs",
                      "sshfs", "afs", "lustre")
FIND_SECONDS = 300


# The fallback's file and network walls (Linux's Landlock, which needs no privilege and works inside containers
# that refuse namespaces): run by the students' Python as the run's identity, it lets the command read only the
# folders it is given, write only its own temporary folder, and (ABI 4+) neither bind nor connect TCP; then it
# execs the command. It exits with LANDLOCK_REFUSED if the kernel or the container refuses Landlock: the grader
# then says in every report that files outside the tree are not hidden. argv: JSON {"read": [...], "write":
# [...], "devices": [...]}, then the command.
LANDLOCK_REFUSED = 97
NO_LANDLOCK = "EXERCISE3_NO_LANDLOCK"
LANDLOCK_LAUNCHER = r"""
import ctypes, json, os, struct, sys
spec, command = json.loads(sys.argv[1]), sys.argv[3:] if sys.argv[2:3] == ["--"] else sys.argv[2:]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
abi = libc.syscall(444, None, 0, 1)
if abi < 1:
    sys.stderr.write("landlock: refused (%s)\n" % os.strerror(ctypes.get_errno()))
    sys.exit(97)
files = (1 << 0) | (1 << 1) | (1 << 2) | ((1 << 14) if abi >= 3 else 0) | ((1 << 15) if abi >= 5 else 0)
everything = (1 << 13) - 1 | ((1 << 13) if abi >= 2 else 0) | files
read = (1 << 0) | (1 << 2) | (1 << 3)
attr = struct.pack("QQQ", everything, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
size = 24 if abi >= 6 else (16 if abi >= 4 else 8)
ruleset = libc.syscall(444, ctypes.c_char_p(attr), size, 0)
if ruleset < 0:
    sys.stderr.write("landlock: no ruleset (%s)\n" % os.strerror(ctypes.get_errno()))
    sys.exit(97)
for paths, access in ((spec["read"], read), (spec["write"], everything), (spec["devices"], (1 << 1) | (1 << 2))):
    for path in paths:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        rule = struct.pack("=Qi", access & (everything if os.path.isdir(path) else files), fd)
        if libc.syscall(445, ruleset, 1, ctypes.c_char_p(rule), 0) != 0:
            sys.stderr.write("landlock: rule for %s refused (%s)\n" % (path, os.strerror(ctypes.get_errno())))
            sys.exit(97)
        os.close(fd)
if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.syscall(446, ruleset, 0) != 0:
    sys.stderr.write("landlock: not applied (%s)\n" % os.strerror(ctypes.get_errno()))
    sys.exit(97)
os.close(ruleset)
os.execv(command[0], command)
"""
# What a run may read besides its tree and the interpreter's installation: the system's, where no solution is.
SYSTEM_READABLE = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/sys", "/proc")
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/full")


class SandboxError(RuntimeError):
    """No sandbox of the kind asked for can run here; the message says why and what to do."""


def _is_root() -> bool:
    return hasattr(os, "getuid") and os.getuid() == 0


def _tool(name: str) -> str:
    """The path of a system tool (util-linux, procps, findutils), found where root's tools are."""
    path = shutil.which(name, path=TOOL_PATH)
    if path is None:
        raise SandboxError("{} is missing (apt-get install util-linux procps findutils)".format(name))
    return path


def processes_of(uid: int, zombies: bool = True) -> List[int]:
    """The process ids whose real user is uid (from /proc; empty where there is no /proc); zombies=False leaves
    out the ones that have ended and wait for their parent."""
    found = []
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not name.isdigit():
            continue
        try:
            with open("/proc/{}/status".format(name), encoding="ascii", errors="replace") as file:
                state = ""
                for line in file:
                    if line.startswith("State:"):
                        state = line.split()[1]
                    elif line.startswith("Uid:"):
                        if int(line.split()[1]) == uid and (zombies or state not in ("Z", "X")):
                            found.append(int(name))
                        break
        except (OSError, IndexError, ValueError):
            continue  # it ended meanwhile
    return found


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _ancestors(path: str) -> List[str]:
    """The folders above path, from / down."""
    parts = os.path.abspath(path).strip("/").split("/")
    return ["/" + "/".join(parts[:depth]) for depth in range(len(parts))]


# ---------------------------------------------------------------- the interpreter

INTERPRETER_PROGRAM = """import json, sys
try:
    import numpy
    has_numpy = True
except Exception:
    has_numpy = False
print(json.dumps({"prefix": sys.prefix, "base_prefix": getattr(sys, "base_prefix", sys.prefix),
                  "exec_prefix": sys.exec_prefix, "version": list(sys.version_info[:3]), "numpy": has_numpy}))
"""


def python_path(python: Optional[str]) -> str:
    """The interpreter's absolute path, as given (a venv's bin/python stays itself): a bare name is looked up."""
    if not python:
        return os.path.abspath(sys.executable)
    if os.sep not in python:
        found = shutil.which(python)
        if found is None:
            raise SandboxError("there is no interpreter {} on PATH".format(python))
        python = found
    return os.path.abspath(python)


def interpreter(python: str) -> dict:
    """What the interpreter at python says of its installation (run, as it finds its prefixes only when it runs):
    {"prefix", "base_prefix", "exec_prefix", "version", "numpy": whether it imports numpy}."""
    try:
        done = subprocess.run([python, "-I", "-c", INTERPRETER_PROGRAM], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    except (OSError, subprocess.SubprocessError) as error:
        raise SandboxError("the interpreter {} does not run here: {}".format(python, error))
    output = done.stdout.decode("utf-8", errors="replace")
    try:
        return json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SandboxError("the interpreter {} does not run here (exit code {}): {}".format(
            python, done.returncode, " ".join(output.split())[-300:]))


def python_roots(python: Optional[str] = None, info: Optional[dict] = None) -> List[str]:
    """The folders of the interpreter's installation that the tests need, outermost only: its prefix (the venv),
    its base prefix, and the installation its executable belongs to. Without arguments, the grader's own."""
    if python is None and info is None:
        python, info = sys.executable, {"prefix": sys.prefix, "base_prefix": sys.base_prefix,
                                        "exec_prefix": sys.exec_prefix}
    info = info or interpreter(python)
    python = os.path.abspath(python)
    prefixes = (info["prefix"], info["base_prefix"], info["exec_prefix"])
    candidates = {os.path.realpath(path) for path in prefixes} | {os.path.abspath(path) for path in prefixes}
    candidates.add(os.path.dirname(os.path.dirname(os.path.realpath(python))))
    roots = sorted(candidates)
    return [root for root in roots if not any(root != other and root.startswith(other.rstrip("/") + "/")
                                              for other in roots)]


def closed_to_others(python: str, roots: List[str]) -> List[str]:
    """The chmod commands that would let a user of no group run the interpreter (empty if it can already)."""
    commands = []
    for path in [python, os.path.realpath(python)] + roots:
        for folder in _ancestors(path):
            if not os.stat(folder).st_mode & stat.S_IXOTH and "chmod o+x " + folder not in commands:
                commands.append("chmod o+x " + folder)
    for root in roots:
        if os.stat(root).st_mode & (stat.S_IROTH | stat.S_IXOTH) != stat.S_IROTH | stat.S_IXOTH:
            commands.append("chmod -R o+rX " + root)
    if not os.stat(os.path.realpath(python)).st_mode & stat.S_IXOTH:
        commands.append("chmod o+rx " + os.path.realpath(python))
    return commands


# ---------------------------------------------------------------- limits

def limit_options(limits, processes: int) -> Tuple[List[str], List[str]]:
    """prlimit's options for the run's limits, each clamped to the hard limit in force (a process may not raise
    its hard limits, and a grader started under `ulimit -v` must still run); and a note for every clamped one."""
    # No CPU-time limit: the grader's watchdog and run limit (tools/testrun.py) end a run on the wall clock.
    wanted = [("as", "address space", "RLIMIT_AS", limits.memory_mb * MB, limits.memory_mb * MB, "MB"),
              ("fsize", "file size", "RLIMIT_FSIZE", limits.file_mb * MB, limits.file_mb * MB, "MB"),
              ("nproc", "number of processes", "RLIMIT_NPROC", processes, processes, ""),
              ("core", "core file size", "RLIMIT_CORE", 0, 0, "MB")]
    options, notes = [], []
    for option, name, constant, soft, hard, unit in wanted:
        in_force = resource.getrlimit(getattr(resource, constant))[1]
        if in_force != resource.RLIM_INFINITY and 0 <= in_force < hard:
            shown = (lambda value: "{:.0f} MB".format(value / MB)) if unit == "MB" else (
                lambda value: "{} {}".format(value, unit).strip())
            notes.append("the {} limit was clamped to the hard limit in force: {} instead of {}".format(
                name, shown(in_force), shown(soft)))
            soft, hard = min(soft, in_force), in_force
        options.append("--{}={}:{}".format(option, soft, hard))
    return options, notes


# ---------------------------------------------------------------- writable places and their files

def mount_points() -> List[str]:
    """The mount points whose filesystems a run could write to: /, and every local filesystem but the kernel's
    (/proc, /sys, /dev except /dev/shm and /dev/mqueue)."""
    found = {"/"}
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="surrogateescape") as file:
            lines = file.read().splitlines()
    except OSError:
        return ["/"]
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        target = re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), fields[1])
        kind = fields[2]
        if kind in PSEUDO_FILESYSTEMS or kind.split(".")[0] in REMOTE_FILESYSTEMS:
            continue
        under = [top for top in ("/proc", "/sys", "/dev") if target == top or target.startswith(top + "/")]
        if under and not any(target == keep or target.startswith(keep + "/") for keep in ("/dev/shm", "/dev/mqueue")):
            continue
        found.add(target)
    return sorted(found)


def writable_folders() -> List[str]:
    """Every world-writable folder, found by find(1) one filesystem at a time (-xdev)."""
    done = subprocess.run([_tool("find")] + mount_points() + ["-xdev", "-type", "d", "-perm", "-0002", "-print0"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          timeout=FIND_SECONDS)
    return sorted({os.fsdecode(path) for path in done.stdout.split(b"\0") if path})


def owned_entries(folders: List[str], uid: int) -> Iterator[Tuple[str, os.stat_result]]:
    """The entries that uid owns in folders, and in the world-writable folders below them (which a run may have
    made since the search), outermost only: what uid may have written there."""
    seen = set()
    pending = list(folders)
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # gone, or not a folder
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                yield entry.path, info
            elif stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IWOTH and (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                pending.append(entry.path)


def disk_use(path: str, info: os.stat_result, seen: set) -> Tuple[int, int]:
    """The bytes on disk and the number of entries of path and everything below it (each inode once)."""
    used = count = 0
    pending = [(path, info)]
    while pending:
        path, info = pending.pop()
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        used += getattr(info, "st_blocks", 0) * 512
        count += 1
        if stat.S_ISDIR(info.st_mode):
            try:
                for entry in os.scandir(path):
                    try:
                        pending.append((entry.path, entry.stat(follow_symlinks=False)))
                    except OSError:
                        continue
            except OSError:
                continue
    return used, count


def remove(path: str) -> None:
    """Remove a file or a whole tree, never following a symbolic link (shutil.rmtree works with file descriptors
    where the system allows it, so that a link planted meanwhile cannot turn it elsewhere)."""
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        os.remove(path)
        return
    try:
        shutil.rmtree(path)
    except RecursionError:  # a tree nested deeper than Python's recursion allows
        subprocess.run([_tool("rm"), "-rf", "--one-file-system", "--", path], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300, check=False)


def _remove_ipc_of(uid: int) -> None:
    """Remove the System V shared memory, semaphores and message queues that uid owns or created (where the run
    had no IPC namespace of its own, they would outlive it)."""
    for kind, option in (("shm", "-m"), ("sem", "-s"), ("msg", "-q")):
        try:
            with open("/proc/sysvipc/" + kind, encoding="ascii", errors="replace") as file:
                header, *rows = file.read().splitlines()
        except (OSError, ValueError):
            continue
        names = header.split()
        for row in rows:
            values = dict(zip(names, row.split()))
            if str(uid) in (values.get("uid"), values.get("cuid")):
                identifier = next((values[name] for name in ("shmid", "semid", "msqid") if name in values), None)
                if identifier is not None:
                    subprocess.run([_tool("ipcrm"), option, identifier], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


def _set_owner(tree: str, uid: int, gid: int, private: bool) -> None:
    """chown -R tree to uid:gid without following links; private=True also makes it 0750 (folders and
    executables) and 0640 (other files)."""
    for folder, _, names in os.walk(tree):
        os.chown(folder, uid, gid, follow_symlinks=False)
        if private:
            os.chmod(folder, 0o750)
        for name in names:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            os.chown(path, uid, gid, follow_symlinks=False)
            if private and stat.S_ISREG(info.st_mode):
                os.chmod(path, 0o750 if info.st_mode & stat.S_IXUSR else 0o640)


def make_passable(path: str) -> None:
    """Let others pass (o+x, not list) every folder above path, so that a run can open the tree and its scratch
    by their absolute paths. Only the grader's own folders in the temporary folder are changed; anywhere else
    a closed folder is an error that says what to do."""
    temporary = os.path.realpath(tempfile.gettempdir())
    for folder in _ancestors(os.path.realpath(path)):
        info = os.stat(folder)
        if info.st_mode & stat.S_IXOTH:
            continue
        if folder.startswith(temporary.rstrip("/") + "/") and info.st_uid == os.getuid():
            os.chmod(folder, stat.S_IMODE(info.st_mode) | 0o011)
        else:
            raise SandboxError("a run's user cannot reach {}: {} is closed to others (chmod o+x {}), or keep the "
                               "grader's scratch folders in {}".format(path, folder, folder, temporary))


# ---------------------------------------------------------------- identities

def _lock_folder() -> str:
    os.makedirs(LOCK_DIR, mode=0o700, exist_ok=True)
    info = os.lstat(LOCK_DIR)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise SandboxError("{} must be a folder of root's that nobody else may write (chmod 700 {})".format(
            LOCK_DIR, LOCK_DIR))
    return LOCK_DIR


def _candidate_ids() -> Iterator[int]:
    while True:
        yield UID_BASE + secrets.randbelow(UID_COUNT)


def _started(pid: int) -> str:
    """The process's start time in clock ticks since boot (/proc/PID/stat's 22nd field; "" if it is gone): with
    the pid, it names one process, never a later one that reuses the pid."""
    try:
        with open("/proc/{}/stat".format(pid), encoding="ascii", errors="replace") as file:
            return file.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _grader_alive(lock: str) -> bool:
    """Whether the grader that wrote the lock file (its pid and start time) is still running."""
    try:
        with open(lock, encoding="ascii", errors="replace") as file:
            fields = file.read().split()
    except FileNotFoundError:
        return False
    if not fields or not fields[0].isdigit():
        return True  # being written, or not ours: left alone
    started = _started(int(fields[0]))
    return bool(started) and (len(fields) < 2 or fields[1] == started)


def reclaim_identities(writable: List[str]) -> List[int]:
    """Free the uids of graders that were killed: a lock whose grader is gone is removed once nothing of its uid
    is left (its processes killed, its files in the writable folders removed first). Returns the uids freed."""
    freed = []
    try:
        names = os.listdir(_lock_folder())
    except OSError:
        return freed
    for name in names:
        lock = os.path.join(LOCK_DIR, name)
        if not name.isdigit() or _grader_alive(lock):
            continue
        uid = int(name)
        setpriv = [_tool("setpriv"), "--reuid={}".format(uid), "--regid={}".format(uid), "--clear-groups", "--"]
        for _ in range(50):
            if not processes_of(uid, zombies=False):
                break
            subprocess.run(setpriv + [_tool("kill"), "-9", "-1"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
            time.sleep(0.02)
        for path, _ in list(owned_entries(writable, uid)):
            try:
                remove(path)
            except OSError:
                pass
        _remove_ipc_of(uid)
        if not processes_of(uid, zombies=False) and next(owned_entries(writable, uid), None) is None:
            try:
                os.remove(lock)
                freed.append(uid)
            except FileNotFoundError:
                pass
    return freed


def reserve_identity(writable: List[str]) -> Tuple[int, str]:
    """A uid (= gid) no process and no file in the writable folders belongs to, and its lock file: created with
    O_EXCL, so that no other grader draws it until the lock is removed."""
    folder = _lock_folder()
    for _, uid in zip(range(RESERVE_ATTEMPTS), _candidate_ids()):
        path = os.path.join(folder, str(uid))
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(descriptor, "w") as file:
            file.write("{} {}\n".format(os.getpid(), _started(os.getpid())))
        if processes_of(uid) or next(owned_entries(writable, uid), None) is not None:
            os.remove(path)  # in use without a lock (by a grader of an earlier version, say): not this one
            continue
        return uid, path
    raise SandboxError("no free uid in [{}, {}) after {} attempts: see {}".format(
        UID_BASE, UID_BASE + UID_COUNT, RESERVE_ATTEMPTS, LOCK_DIR))


# ---------------------------------------------------------------- the sandbox and its runs

class Sandbox:
    """One kind of sandbox, ready to start runs. Use choose() to get one (Sandbox("none") needs no checks)."""

    def __init__(self, mode: str, python: Optional[str] = None, notes: Optional[List[str]] = None,
                 roots: Optional[List[str]] = None, writable: Optional[List[str]] = None,
                 unshare: Optional[List[str]] = None):
        if mode not in ("bwrap", "user", "none"):
            raise ValueError("a sandbox's mode is bwrap, user or none, not {!r}".format(mode))
        self.mode = mode
        self.landlock = False  # the fallback's walls (try_user finds out whether this system allows them)
        self.unshare_refusal = ""  # why the fallback has no network namespace, if it has none
        # What the probe's search for copies of the reference found and how far it got (_walk).
        self.walk = {"found": [], "files": 0, "bytes": 0, "seconds": 0.0, "complete": True}
        self.python = python_path(python)
        self.notes = list(notes or [])
        self.roots = list(roots) if roots is not None else []
        self.writable = list(writable or [])
        self.unshare = list(unshare or [])
        self.disk_cap_mb = DISK_CAP_MB
        # As root, every run becomes a uid of its own; otherwise it keeps the grader's (bubblewrap maps it).
        self.per_run_identity = mode in ("bwrap", "user") and _is_root()
        self.prlimit = shutil.which("prlimit", path=TOOL_PATH) if resource else None
        if self.prlimit is None:
            self.notes.append("no resource limits: util-linux prlimit is missing")

    def describe(self) -> str:
        identity = ("each run as a user of its own (uid and gid from {})".format(UID_BASE) if self.per_run_identity
                    else "as user {}".format(os.getuid() if hasattr(os, "getuid") else "?"))
        if self.mode == "bwrap":
            return "bubblewrap ({}), {}, Python {}".format(shutil.which("bwrap"), identity, self.python)
        if self.mode == "user":
            return "the separate-identity fallback: {}, Python {}".format(identity, self.python)
        return "NO SANDBOX: the tests ran as the grader's own user (--no-sandbox)"

    def start_run(self, scratch: str) -> "Run":
        return Run(self, scratch)

    def environment(self, tmp: str) -> Dict[str, str]:
        """A small, fixed environment: no PYTHONPATH or other settings of the grader's, one BLAS thread."""
        tmp = "/tmp" if self.mode == "bwrap" else tmp
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
               "MPLCONFIGDIR": tmp, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TMPDIR": tmp, "PYTHONDONTWRITEBYTECODE": "1"}
        if os.environ.get("SYSTEMROOT"):
            env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
        return env

    def processes_limit(self) -> int:
        if self.per_run_identity:
            return EXTRA_PROCESSES
        # RLIMIT_NPROC counts every process of the user, so the grader's own count too.
        own = len(processes_of(os.getuid())) if hasattr(os, "getuid") and os.path.isdir("/proc") else 0
        return own + EXTRA_PROCESSES

    def bwrap_arguments(self, tree: str, env: Dict[str, str]) -> List[str]:
        args = [shutil.which("bwrap") or "bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
        if not _is_root():
            args += ["--unshare-user"]
        args += ["--size", str(self.disk_cap_mb * MB), "--perms", "1777", "--tmpfs", "/tmp", "--proc", "/proc",
                 "--dev", "/dev", "--size", str(SHM_MB * MB), "--perms", "1777", "--tmpfs", "/dev/shm"]
        for folder in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"):
            if os.path.islink(folder):
                args += ["--symlink", os.readlink(folder), folder]
            elif os.path.isdir(folder):
                args += ["--ro-bind", folder, folder]
        for name in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives"):
            if os.path.exists(name):
                args += ["--ro-bind", name, name]
        made = {"/", "/tmp", "/usr", "/etc", "/proc", "/dev"}
        for root in self.roots:
            # Ancestors that bubblewrap would create with their source's permissions (e.g. /root, 0700) are made
            # first, passable, so that the run's user can reach the installation.
            parts = root.strip("/").split("/")
            for depth in range(1, len(parts)):
                ancestor = "/" + "/".join(parts[:depth])
                if ancestor not in made:
                    args += ["--perms", "0755", "--dir", ancestor]
                    made.add(ancestor)
            args += ["--ro-bind", root, root]
            made.add(root)
        args += ["--ro-bind", tree, TREE_INSIDE, "--chdir", TREE_INSIDE]
        for name, value in sorted(env.items()):
            args += ["--setenv", name, value]
        return args


# The runs not reaped yet, for stop_all; once it was called no run starts.
_LIVE = set()  # type: set
STOPPED = threading.Event()


def stop_all() -> None:
    """Kill the processes of every run not reaped yet and start no more (for the grader's SIGTERM handler: each
    run is then reaped by the thread that started it, which frees its files and identity)."""
    STOPPED.set()
    for run in list(_LIVE):
        run.stop()


class Run:
    """One run of a command in a sandbox, with an identity of its own. Use Sandbox.start_run()."""

    def __init__(self, sandbox: Sandbox, scratch: str):
        self.sandbox = sandbox
        self.scratch = os.path.abspath(scratch)
        self.notes = []  # type: List[str]
        self.uid = os.getuid() if hasattr(os, "getuid") else None
        self.gid = os.getgid() if hasattr(os, "getgid") else None
        self.tmp = "/tmp" if sandbox.mode == "bwrap" else os.path.join(self.scratch, "tmp")
        self._lock = None  # type: Optional[str]
        self._shared = []  # type: List[str]
        self._processes = []  # type: List[subprocess.Popen]
        self._reaped = False
        self._over = threading.Event()
        self._stop = threading.Event()
        self._watcher = None  # type: Optional[threading.Thread]
        if STOPPED.is_set():
            raise SandboxError("the grader is stopping: no new run")
        _LIVE.add(self)
        os.makedirs(self.scratch, exist_ok=True)
        try:
            if sandbox.per_run_identity:
                self.uid, self._lock = reserve_identity(sandbox.writable if sandbox.mode == "user" else [])
                self.gid = self.uid
            if sandbox.mode != "bwrap":
                if os.path.lexists(self.tmp):
                    remove(self.tmp)
                os.mkdir(self.tmp, 0o700)
            if sandbox.mode == "user":
                make_passable(self.scratch)
                os.chown(self.scratch, os.getuid(), self.gid)
                os.chmod(self.scratch, 0o710)
                os.chown(self.tmp, self.uid, self.gid)
        except BaseException:
            self.reap()
            raise

    def share(self, tree: str) -> None:
        """Make the tree readable (not writable) by this run's identity only, until the run is reaped (launch
        does it for a tree not shared yet)."""
        tree = os.path.abspath(tree)
        if not self.sandbox.per_run_identity or tree in self._shared:
            return
        if self.sandbox.mode == "user":
            make_passable(tree)  # bubblewrap mounts the tree where its ancestors do not matter
        self._shared.append(tree)
        _set_owner(tree, os.getuid(), self.gid, private=True)

    def _as_run(self) -> List[str]:
        """setpriv's command line to become this run's identity, with no groups and no way to gain privileges."""
        # --pdeathsig: the run's first process dies with the grader, even one killed with SIGKILL (the processes
        # it forks do not inherit it: the next grader kills those when it reclaims the uid).
        return [_tool("setpriv"), "--reuid={}".format(self.uid), "--regid={}".format(self.gid), "--clear-groups",
                "--no-new-privs", "--pdeathsig=KILL", "--"]

    def walls(self, tree: str) -> List[str]:
        """The Landlock launcher's command line: read the system, the interpreter and the tree; write tmp."""
        readable = [path for path in SYSTEM_READABLE if os.path.exists(path)] + list(self.sandbox.roots)
        spec = {"read": readable + [os.path.abspath(tree)], "write": [self.tmp],
                "devices": [path for path in DEVICES if os.path.exists(path)]}
        return [self.sandbox.python, "-I", "-S", "-c", LANDLOCK_LAUNCHER, json.dumps(spec), "--"]

    def launch(self, tree: str, inner: List[str], limits, stdout, pass_fds=()) -> subprocess.Popen:
        """Start inner (a command line to run in the tree, inner[0] the interpreter) in this run's sandbox, in a
        session of its own, its output and errors to stdout.

        bubblewrap gets its options through a pipe (--args), so that the sandboxed code, which can read its
        parent's command line in /proc, sees only `bwrap --args N` and the command, no path of the grader's.
        """
        if self._reaped or STOPPED.is_set():
            raise SandboxError("this run was reaped or the grader is stopping: no new process")
        if os.path.abspath(tree) not in self._shared:
            self.share(tree)
        sandbox = self.sandbox
        env = sandbox.environment(self.tmp)
        command = []  # type: List[str]
        if sandbox.prlimit:
            options, notes = limit_options(limits, sandbox.processes_limit())
            self.notes += [note for note in notes if note not in sandbox.notes and note not in self.notes]
            command += [sandbox.prlimit] + options + ["--"]
        if sandbox.per_run_identity:
            command += self._as_run()
        if sandbox.mode == "user" and sandbox.landlock:
            command += self.walls(tree)
        command += list(inner)
        if sandbox.mode != "bwrap":
            process = subprocess.Popen(sandbox.unshare + command if sandbox.mode == "user" else command,
                                       cwd=tree, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                                       stderr=subprocess.STDOUT, start_new_session=True, pass_fds=tuple(pass_fds))
        else:
            options = sandbox.bwrap_arguments(os.path.abspath(tree), env)
            reader, writer = os.pipe()
            try:
                with os.fdopen(writer, "wb") as pipe:
                    pipe.write(b"".join(argument.encode("utf-8") + b"\0" for argument in options[1:]))
                process = subprocess.Popen([options[0], "--args", str(reader), "--"] + command, env=env,
                                           stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.STDOUT,
                                           start_new_session=True, pass_fds=tuple(pass_fds) + (reader,))
            finally:
                os.close(reader)
        self._processes.append(process)
        if sandbox.mode == "user" and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch_disk, name="disk cap of uid {}".format(self.uid),
                                             daemon=True)
            self._watcher.start()
        return process

    # ------------------------------------------------------------ the disk cap (separate user)
    def disk_use(self) -> Tuple[int, int]:
        """Bytes on disk and entries of the files this run's uid owns in its tmp and the writable folders."""
        seen, used, count = set(), 0, 0
        places = [(self.tmp, os.lstat(self.tmp))] if os.path.isdir(self.tmp) else []
        for path, info in places + list(owned_entries(self.sandbox.writable, self.uid)):
            more, entries = disk_use(path, info, seen)
            used, count = used + more, count + entries
        # Files the run keeps open without a name (O_TMPFILE, or unlinked after opening) count too.
        for pid in processes_of(self.uid, zombies=False):
            folder = "/proc/{}/fd".format(pid)
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for name in names:
                try:
                    info = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    used += getattr(info, "st_blocks", 0) * 512
        return used, count

    def _watch_disk(self) -> None:
        cap = self.sandbox.disk_cap_mb * MB
        while not self._stop.wait(DISK_POLL_SECONDS):
            used, count = self.disk_use()
            if used > cap or count > FILES_CAP:
                self.notes.append("the run was stopped: its files took {:.0f} MB in {} entries, more than the "
                                  "cap of {} MB or {} entries".format(used / MB, count, self.sandbox.disk_cap_mb,
                                                                      FILES_CAP))
                self._over.set()
                self._kill_all()
                return

    def over_disk_cap(self) -> bool:
        """Whether the run's files passed the disk cap (the run was then stopped, and a note says so). Always
        False where a sized tmpfs caps them (bubblewrap) or nothing is watched (no sandbox)."""
        return self._over.is_set()

    # ------------------------------------------------------------ after the run
    def _kill_all(self) -> None:
        """SIGKILL to every process of this run's uid, sent as that uid (kill -1: all it may signal, at once)."""
        subprocess.run(self._as_run() + [_tool("kill"), "-9", "-1"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)

    def stop(self) -> None:
        """SIGKILL to every process of the run (reap still cleans up after it)."""
        for process in list(self._processes):
            kill_group(process)
        if self.sandbox.per_run_identity and self._lock:
            self._kill_all()

    def reap(self, timeout: float = 10.0) -> None:
        """End the run: kill its processes, remove its files from every writable folder, give its tree and
        scratch back to the grader, and free its identity. Raises SandboxError if a process survives SIGKILL
        (its identity then stays reserved)."""
        if self._reaped:
            return
        self._reaped = True
        _LIVE.discard(self)
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
        for process in self._processes:
            kill_group(process)
        survivors, problems = [], []
        if self.sandbox.per_run_identity and self._lock:
            deadline = time.time() + timeout
            while processes_of(self.uid, zombies=False):
                self._kill_all()
                if time.time() > deadline:
                    survivors = processes_of(self.uid, zombies=False)
                    break
                time.sleep(0.02)
        for process in self._processes:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                problems.append("process {} did not end".format(process.pid))
        if self.sandbox.mode == "user" and self._lock:
            for path, _ in list(owned_entries(self.sandbox.writable, self.uid)):
                try:
                    remove(path)
                except OSError as error:
                    problems.append("could not remove {}: {}".format(path, error))
            if "--ipc" not in self.sandbox.unshare:
                _remove_ipc_of(self.uid)
        if self.sandbox.mode != "bwrap" and os.path.lexists(self.tmp):
            remove(self.tmp)
        # Back to the grader before the gid can be drawn again, so that a later run of that gid reads nothing.
        for tree in self._shared:
            if os.path.isdir(tree):
                _set_owner(tree, os.getuid(), os.getgid(), private=False)
        if self.sandbox.mode == "user" and self._lock and os.path.isdir(self.scratch):
            os.chown(self.scratch, os.getuid(), os.getgid())
            os.chmod(self.scratch, 0o700)
        if self._lock:
            # Zombies that init has not collected yet may remain: reserve_identity does not draw their uid.
            left = self.sandbox.mode == "user" and next(owned_entries(self.sandbox.writable, self.uid), None)
            if survivors or problems or left:
                # For the grader's operator, not for the report: the uid is never drawn again while this lock is.
                sys.stderr.write("sandbox: uid {} stays reserved ({}): {}\n".format(
                    self.uid, self._lock, "; ".join(problems) or "processes or files of it are left"))
            else:
                try:
                    os.remove(self._lock)
                except FileNotFoundError:
                    # Someone removed it meanwhile: the uid is free all the same, and the grade stands.
                    sys.stderr.write("sandbox: the lock file {} of uid {} had vanished when its run was reaped\n"
                                     .format(self._lock, self.uid))
        if survivors:
            raise SandboxError("processes of uid {} survive SIGKILL: {}".format(self.uid, survivors))


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL to the process group that start_new_session gave the process (the sandbox and all it started)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---------------------------------------------------------------- choosing one

PROBE_PROGRAM = """import os, socket, sys
port, want_numpy, targets = int(sys.argv[1]), sys.argv[2] == "numpy", sys.argv[3:]
print("started", flush=True)
print("prefix: " + sys.prefix)
if want_numpy:
    try:
        import numpy
        print("numpy imported")
    except Exception as error:
        print("numpy failed: %r" % (error,))
for target in targets:
    kind, path = target.split(":", 1)
    try:
        if kind == "list":
            os.listdir(path)
        else:
            with open(path, "rb") as file:
                file.read(1)
        print("%s: %s" % ("listed" if kind == "list" else "opened", path))
    except OSError:
        pass
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    print("network reachable")
except OSError:
    pass
"""


# The probe's search for copies of the reference: what a submission that looks for one could find. It runs as the
# run's identity, behind the run's walls, and gets its keyed line hashes through a pipe (never the command line,
# which other users may read in /proc); it prints JSON lines: {"found": path} and one {"files", "bytes",
# "seconds", "complete"} at the end.
WALK_PROGRAM = r"""
import hashlib, json, os, stat, sys, time
spec = json.load(os.fdopen(int(sys.argv[1])))
key, skip, cap = bytes.fromhex(spec["key"]), set(spec["skip"]), spec["bytes_per_file"]
lines = {line: gap for gap, hashes in spec["gaps"].items() for line in hashes}
need = {gap: min(2, len(hashes)) for gap, hashes in spec["gaps"].items()}
lengths = set(spec["lengths"])
started, files, read, complete = time.time(), 0, 0, True
pending = list(spec["roots"])
while pending and complete:
    try:
        entries = list(os.scandir(pending.pop()))
    except OSError:
        continue
    for entry in entries:
        if entry.path in skip:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            pending.append(entry.path)
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
            continue
        if time.time() - started > spec["seconds"] or files >= spec["files"]:
            complete = False
            break
        try:
            descriptor = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        with os.fdopen(descriptor, "rb") as file:
            data = file.read(4096)
            if b"\0" not in data:  # a binary file holds no copy that Python could import or read as text
                data += file.read(cap - len(data))
        files, read = files + 1, read + len(data)
        if b"\0" in data[:4096]:
            continue
        seen = {}
        for line in data.split(b"\n"):
            line = b"".join(line.split())
            if len(line) in lengths:
                gap = lines.get(hashlib.blake2b(line, key=key, digest_size=16).hexdigest())
                if gap is not None:
                    seen.setdefault(gap, set()).add(line)
        if any(len(found) >= need[gap] for gap, found in seen.items()):
            print(json.dumps({"found": entry.path}), flush=True)
print(json.dumps({"files": files, "bytes": read, "seconds": round(time.time() - started, 1), "complete": complete}))
"""
WALK_SECONDS = 30
# Where the search starts: without walls, everywhere; behind them, the system folders that an administrator fills
# by hand (the rest are the packages').
FULL_WALK = ("/",)
WALLED_WALK = ("/usr/local", "/etc", "/opt", "/srv")
WALK_FILES = 200000
WALK_BYTES_PER_FILE = 256 * 1024
# Reference lines shorter than this (without whitespace), such as `return out`, are in too many other files.
DISTINCTIVE_CHARACTERS = 12


def reference_lines(key: bytes) -> Tuple[Dict[str, List[str]], List[int]]:
    """({gap: keyed hashes of its distinctive lines}, their lengths): the master's gap bodies, whitespace
    removed, without comments, short lines and lines that also occur outside the gaps."""
    from grading import gaps
    from grading.tasks import CODE_TASKS
    found, lengths = {}, set()
    for task in CODE_TASKS:
        with open(os.path.join(REPO, task.file), encoding="utf-8") as file:
            text = file.read()
        around = {"".join(line.split()) for line in gaps.without_gap_bodies(text, task.file).splitlines()}
        body = {"".join(line.split()) for line in gaps.gap_bodies(text, task.file)[task.gap]
                if not line.strip().startswith("#")}
        lines = [line.encode("utf-8") for line in body if len(line) >= DISTINCTIVE_CHARACTERS and line not in around]
        if lines:
            found[task.gap] = sorted(hashlib.blake2b(line, key=key, digest_size=16).hexdigest() for line in lines)
            lengths.update(len(line) for line in lines)
    return found, sorted(lengths)


def _walk(run: "Run", tree: str, limits, roots: List[str], skip: List[str]) -> dict:
    """Search what the run can read below roots for a copy of the reference's gaps: {"found": [paths], "files",
    "bytes", "seconds", "complete"}."""
    key = secrets.token_bytes(32)
    gap_lines, lengths = reference_lines(key)
    spec = {"key": key.hex(), "gaps": gap_lines, "lengths": lengths, "skip": sorted(set(skip)), "roots": roots,
            "seconds": WALK_SECONDS, "files": WALK_FILES, "bytes_per_file": WALK_BYTES_PER_FILE}
    reader, writer = os.pipe()
    try:
        with tempfile.TemporaryFile() as output:
            process = run.launch(tree, [run.sandbox.python, "-I", "-S", "-c", WALK_PROGRAM, str(reader)], limits,
                                 output, pass_fds=(reader,))
            os.close(reader)
            reader = None
            with os.fdopen(writer, "w") as pipe:
                writer = None
                json.dump(spec, pipe)
            try:
                process.wait(timeout=WALK_SECONDS + 60)
            finally:
                kill_group(process)
                process.wait()
            output.seek(0)
            text = output.read().decode("utf-8", errors="replace")
    finally:
        for descriptor in (reader, writer):
            if descriptor is not None:
                os.close(descriptor)
    walked = {"found": [], "files": 0, "bytes": 0, "seconds": 0.0, "complete": False}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("found"), str):
            walked["found"].append(record["found"])
        elif isinstance(record, dict) and "complete" in record:
            walked.update({name: record[name] for name in ("files", "bytes", "seconds", "complete")})
    return walked


def to_close(path: str) -> str:
    """The folder to close to others for a readable copy at path: the clone it is in (the nearest folder above
    it with a .git), else the folder that holds it."""
    for folder in reversed(_ancestors(path)[1:]):
        if os.path.lexists(os.path.join(folder, ".git")):
            return folder
    return os.path.dirname(path)


def _first_file(folder: str) -> List[str]:
    for directory, subdirectories, names in os.walk(folder):
        subdirectories.sort()
        for name in sorted(names):
            if os.path.isfile(os.path.join(directory, name)):
                return [os.path.join(directory, name)]
    return []


def _probe(sandbox: Sandbox, limits, private=(), want_numpy: bool = False) -> Tuple[int, str, dict]:
    """Start a run as a test run would be started and let it try what it must not be able to do: open files of
    the master repository (PROBE_FILES), another run's private file and a file of the grader's scratch (made as
    the grader makes them, in a folder beside the tree), list or open the private folders, connect to a port of
    the grader's on 127.0.0.1. Returns (exit code, output, {kind: [paths]}) of what it could."""
    base = tempfile.mkdtemp(prefix="grade-probe-")
    runs = []  # type: List[Run]
    server = socket.socket()
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        other = sandbox.start_run(os.path.join(base, "other"))
        runs.append(other)
        other_tree = os.path.join(base, "other-tree")
        os.makedirs(os.path.join(other_tree, "lib"))
        classmate = os.path.join(other_tree, "lib", "activations.py")
        with open(classmate, "w", encoding="utf-8") as file:
            file.write("# another run's tree\n")
        other.share(other_tree)
        # A file of the grader's beside the trees, made as the grader makes its logs and outputs (with its
        # umask), in a folder that runs may pass to reach their trees.
        own = os.path.join(base, "grader-output.txt")
        with open(own, "w", encoding="utf-8") as file:
            file.write("the grader's\n")
        run = sandbox.start_run(os.path.join(base, "run"))
        runs.append(run)
        tree = os.path.join(base, "tree")
        os.makedirs(tree)
        run.share(tree)
        kinds = {"repository": [os.path.join(REPO, name) for name in PROBE_FILES], "classmate": [classmate],
                 "grader": [own], "private": []}
        targets = ["open:" + path for path in kinds["repository"] + [classmate, own]]
        for folder in private:
            folder = os.path.abspath(folder)
            kinds["private"] += [folder] + _first_file(folder)
            targets += ["list:" + folder] + ["open:" + path for path in _first_file(folder)]
        inner = [sandbox.python, "-I", "-c", PROBE_PROGRAM, str(server.getsockname()[1]),
                 "numpy" if want_numpy else "-"] + targets
        with tempfile.TemporaryFile() as output:
            process = run.launch(tree, inner, limits, output)
            try:
                process.wait(timeout=120)
            finally:
                kill_group(process)
                process.wait()
            output.seek(0)
            text = output.read().decode("utf-8", errors="replace")
        reached = {kind: [path for path in paths if "opened: " + path in text.splitlines() or
                          "listed: " + path in text.splitlines()] for kind, paths in kinds.items()}
        reached["network"] = ["127.0.0.1"] if "network reachable" in text.splitlines() else []
        reached["numpy"] = ["numpy"] if "numpy imported" in text.splitlines() else []
        reached["prefix"] = [line[len("prefix: "):] for line in text.splitlines() if line.startswith("prefix: ")]
        if process.returncode == 0:
            # Behind walls (bubblewrap's mounts, Landlock) a run sees the system's folders, where only root puts
            # files; of those, only the ones an administrator fills by hand are searched.
            walled = sandbox.mode == "bwrap" or sandbox.landlock
            sandbox.walk = _walk(run, tree, limits, list(WALLED_WALK if walled else FULL_WALK),
                                 [base, TREE_INSIDE, "/proc", "/sys", "/dev"] + sandbox.roots)
            reached["copies"] = sandbox.walk["found"]
        return process.returncode, text, reached
    finally:
        server.close()
        try:
            for run in runs:
                run.reap()
        finally:
            shutil.rmtree(base, ignore_errors=True)


def _check(sandbox: Sandbox, limits, private, info: dict) -> Sandbox:
    """Probe the sandbox; raise SandboxError saying what to change if the run can reach what it must not."""
    mode, python = sandbox.mode, sandbox.python
    returncode, text, reached = _probe(sandbox, limits, private, info.get("numpy", False))
    tail = " ".join(text.split())[-300:]
    if returncode != 0 or "started" not in text.splitlines():
        hint = (" (the run's user must be able to run it: chmod -R o+rX {})".format(" ".join(sandbox.roots))
                if mode == "user" else "")
        raise SandboxError("{} cannot run {}{}: exit code {}: {}".format(mode, python, hint, returncode, tail))
    if reached["prefix"] != [info["prefix"]]:
        # It did not find or could not read its venv's pyvenv.cfg: its installation is closed to the run's user.
        raise SandboxError("{} runs in the sandbox without its installation {} (it says its prefix is {}): the "
                           "run's user must be able to read it (chmod -R o+rX {})".format(
                               python, info["prefix"], " ".join(reached["prefix"]), " ".join(sandbox.roots)))
    if info.get("numpy") and not reached["numpy"]:
        raise SandboxError("{} imports numpy outside the sandbox but not in it ({} mounts or opens only {}): {}"
                           .format(python, mode, ", ".join(sandbox.roots), tail))
    if reached["repository"]:
        raise SandboxError("a run can open {} of the master repository: make it private first (chmod -R go-rwx "
                           "{}, as tools/gradescope/run_autograder does)".format(
                               ", ".join(reached["repository"]), REPO))
    if reached.get("copies"):
        closing = sorted({to_close(path) for path in reached["copies"]})
        raise SandboxError("a run can read a copy of the reference solution: {}; make it private first ({})".format(
            ", ".join(reached["copies"][:10]) + (" and {} more".format(len(reached["copies"]) - 10)
                                                 if len(reached["copies"]) > 10 else ""),
            "; ".join("chmod o-rwx " + folder for folder in closing)))
    if reached["private"]:
        raise SandboxError("a run can read the submissions {}: make them private first (chmod -R go-rwx ...)"
                           .format(", ".join(reached["private"])))
    if reached["grader"]:
        raise SandboxError("a run can open the grader's file {} beside its tree (the grader's umask is {}): set "
                           "os.umask(0o077) before the grader writes its files".format(
                               reached["grader"][0], _umask()))
    if reached["classmate"]:
        raise SandboxError("a run can open another run's private file {}: do ACLs or capabilities let every user "
                           "read?".format(reached["classmate"][0]))
    if reached["network"] and mode != "user":
        raise SandboxError("a run under {} reached the grader's port on 127.0.0.1".format(mode))
    walk = sandbox.walk
    searched = "a search as a run found no copy of the reference in the {} files it could read ({:.0f} s{})".format(
        walk["files"], walk["seconds"], "" if walk["complete"] else
        ", stopped by its budget of {} s or {} files: folders not searched may hold one".format(
            WALK_SECONDS, WALK_FILES))
    if mode == "user" and not sandbox.landlock:
        sandbox.notes.append("files outside the tree are not hidden from the runs (this system refuses Landlock): a "
                             "run can read what every user may read; " + searched)
    elif not walk["complete"]:
        sandbox.notes.append(searched)
    if mode == "user" and "--net" not in sandbox.unshare:
        refused = "no network namespace (this system refuses `unshare --net`: {})".format(sandbox.unshare_refusal)
        sandbox.notes.append("the network is not isolated: {}, and a run reached the grader's port on 127.0.0.1"
                             .format(refused) if reached["network"] else
                             "{}, but Landlock blocks TCP connect and bind: a run could not reach the grader's port "
                             "on 127.0.0.1 (UDP is not blocked)".format(refused))
    return sandbox


def _umask() -> str:
    """The process's umask as /proc shows it (os.umask can only read it by changing it, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as file:
            return next((line.split()[1] for line in file if line.startswith("Umask:")), "unknown")
    except OSError:
        return "unknown"


def _interpreter_here(python: str, private) -> Tuple[dict, List[str]]:
    info = interpreter(python)
    roots = python_roots(python, info)
    for root in roots:
        if _inside(REPO, root):
            raise SandboxError("the Python installation {} holds the master repository {}; use a Python outside it"
                               .format(root, REPO))
        for folder in private:
            if _inside(folder, root):
                raise SandboxError("the Python installation {} holds the private folder {}".format(root, folder))
    return info, roots


def try_bwrap(limits, private=(), python: Optional[str] = None) -> Sandbox:
    if shutil.which("bwrap") is None:
        raise SandboxError("bubblewrap is not installed (apt-get install bubblewrap)")
    python = python_path(python)
    info, roots = _interpreter_here(python, private)
    if _is_root():
        _tool("kill")  # reap's kill-all, outside the sandbox
        reclaim_identities([])  # a killed grader's bubblewrap runs died with it (--die-with-parent): free its uids
    for name in ("prlimit", "setpriv") if _is_root() else ("prlimit",):
        if not _inside(_tool(name), "/usr") and not _inside(_tool(name), "/bin"):
            raise SandboxError("{} is outside /usr and /bin, which are all the sandbox holds".format(_tool(name)))
    _, notes = limit_options(limits, EXTRA_PROCESSES)
    return _check(Sandbox("bwrap", python, notes, roots=roots), limits, private, info)


def try_user(limits, private=(), python: Optional[str] = None) -> Sandbox:
    if os.name != "posix" or not _is_root():
        raise SandboxError("the separate-user fallback needs root, to run the tests as other users")
    for name in ("prlimit", "setpriv", "kill", "find"):
        _tool(name)
    writable = writable_folders()
    reclaim_identities(writable)
    python = python_path(python)
    info, roots = _interpreter_here(python, private)
    closed = closed_to_others(python, roots)
    if closed:
        raise SandboxError("the runs' users (no passwd entry, no group) cannot run {}: {} (or use an installation "
                           "that others may read, such as a venv of /usr/bin/python3)".format(
                               python, "; ".join(closed)))
    _, notes = limit_options(limits, EXTRA_PROCESSES)
    unshare = []  # type: List[str]
    refusal = ""
    for options in (["--net", "--ipc"], ["--net"]):
        try:
            command = [_tool(UNSHARE)] + options
            done = subprocess.run(command + ["--", _tool("true")], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        except (SandboxError, OSError, subprocess.SubprocessError) as error:
            refusal = str(error)
            continue
        if done.returncode == 0:
            unshare = command + ["--"]
            break
        refusal = " ".join(done.stdout.decode("utf-8", errors="replace").split())[-200:] or "exit code {}".format(
            done.returncode)
    sandbox = Sandbox("user", python, notes, roots=roots, writable=writable, unshare=unshare)
    sandbox.unshare_refusal = "" if "--net" in unshare else refusal
    # EXERCISE3_NO_LANDLOCK=1 tests what holds beneath the walls, as on a system that refuses them.
    sandbox.landlock = not os.environ.get(NO_LANDLOCK) and _landlock_works(sandbox, limits)
    return _check(sandbox, limits, private, info)


def _landlock_works(sandbox: Sandbox, limits) -> bool:
    """Whether a run's walls hold here: a run with them tries to open a file that every user may read, outside
    what the walls let it read (it must fail), and reports that it started."""
    base = tempfile.mkdtemp(prefix="grade-landlock-")
    os.chmod(base, 0o755)
    canary = os.path.join(base, "readable-by-all.txt")
    with open(canary, "w", encoding="utf-8") as file:
        file.write("a copy of the reference would be here\n")
    os.chmod(canary, 0o644)
    sandbox.landlock = True
    run = sandbox.start_run(os.path.join(base, "run"))
    try:
        tree = os.path.join(base, "tree")
        os.makedirs(tree)
        program = ("import sys\ntry:\n    open(sys.argv[1]).close()\n    print('opened')\nexcept OSError:\n"
                   "    print('walled')\n")
        with tempfile.TemporaryFile() as output:
            process = run.launch(tree, [sandbox.python, "-I", "-S", "-c", program, canary], limits, output)
            try:
                process.wait(timeout=60)
            finally:
                kill_group(process)
                process.wait()
            output.seek(0)
            text = output.read().decode("utf-8", errors="replace")
        return process.returncode == 0 and "walled" in text.split()
    finally:
        sandbox.landlock = False
        run.reap()
        shutil.rmtree(base, ignore_errors=True)


def choose(requested: str, limits, private=(), python: Optional[str] = None) -> Sandbox:
    """The sandbox to grade in: `requested` is "auto" (bubblewrap, else the separate user), "bwrap", "user" or
    "none". `private`: folders the tests must not read (the submissions). `python`: the interpreter the runs
    use (default: the grader's own); its installation is what the sandbox holds.
    Raises SandboxError, naming every reason, when none of those asked for can run."""
    if requested not in ("auto", "bwrap", "user", "none"):
        raise SandboxError("the sandbox is auto, bwrap, user or none, not {!r}".format(requested))
    if requested == "none":
        notes = limit_options(limits, Sandbox("none").processes_limit())[1] if resource else []
        return Sandbox("none", python, notes)
    reasons = []
    for mode, attempt in (("bwrap", try_bwrap), ("user", try_user)):
        if requested in ("auto", mode):
            try:
                chosen = attempt(limits, private, python)
            except (SandboxError, OSError, subprocess.SubprocessError) as error:
                reasons.append((mode, str(error)))
                continue
            if reasons:  # bubblewrap was asked for first
                chosen.notes.insert(0, "bubblewrap is installed but cannot run here: {}".format(
                    reasons[0][1].splitlines()[0]) if shutil.which("bwrap") else "bubblewrap is not installed")
            return chosen
    raise SandboxError("no sandbox can run here ({}); grading without one needs --no-sandbox".format(
        "; ".join("{}: {}".format(mode, reason) for mode, reason in reasons)))
