"""The sandbox of the graded runs (tools/sandbox.py) on its own: runs started as tools/testrun.py starts them
(start_run, share, launch, reap), with code that does what graded code must not be able to do.

GRADE_TEST_SANDBOX=bwrap or user (.ci/run sets it) asks for that mode: a sandbox that cannot run then fails these
tests instead of skipping them. The separate-user mode needs root, a copy of the repository that others cannot
read and an interpreter that they can run (.ci/run makes both). Its runs are behind Landlock walls where the
system allows them; these tests switch the walls off (EXERCISE3_NO_LANDLOCK) to test what holds beneath them, as
on a system that refuses Landlock, and test_the_fallbacks_walls tests the walls themselves.
"""
import collections
import glob
import json
import os
import re
import resource
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import pytest

from tools import sandbox as sandboxes

pytestmark = pytest.mark.timeout(180)
REPO = sandboxes.REPO
MODE = os.environ.get("GRADE_TEST_SANDBOX")
# The fields of tools.testrun.Limits (test_the_limits_are_testruns checks that they are the same).
Limits = collections.namedtuple("Limits", "per_test_seconds run_seconds memory_mb file_mb")
LIMITS = Limits(per_test_seconds=20, run_seconds=60, memory_mb=4096, file_mb=64)
MB = 1024 * 1024


def pick(requested=None, **options):
    try:
        return sandboxes.choose(requested or MODE or "auto", LIMITS, **options)
    except sandboxes.SandboxError as error:
        if MODE:
            raise
        pytest.skip("no sandbox runs on this machine: {}".format(error))


@pytest.fixture(scope="module", autouse=True)
def beneath_the_walls():
    # This module's runs and the graders it starts test what holds without Landlock (test_the_fallbacks_walls
    # switches it back on); the other test modules keep the walls.
    old = os.environ.get(sandboxes.NO_LANDLOCK)
    os.environ[sandboxes.NO_LANDLOCK] = "1"
    yield
    if old is None:
        os.environ.pop(sandboxes.NO_LANDLOCK, None)
    else:
        os.environ[sandboxes.NO_LANDLOCK] = old


@pytest.fixture(scope="module", autouse=True)
def private_umask():
    # What the grader must do (the probe refuses the fallback otherwise): its own files are its own.
    old = os.umask(0o077)
    yield
    os.umask(old)


@pytest.fixture(scope="module")
def sandbox():
    return pick()


@pytest.fixture
def place():
    """A working folder of the grader's: private, in the temporary folder."""
    base = tempfile.mkdtemp(prefix="sandbox-test-")
    yield base
    shutil.rmtree(base, ignore_errors=True)


def token() -> str:
    return "sandbox-test-{}-{}".format(os.getpid(), int(time.time() * 1e6))


class Trial:
    """A tree, a scratch folder and a run of the sandbox for them; the run's output goes to a file of the
    grader's."""

    def __init__(self, sandbox, base, name, files=None):
        self.sandbox = sandbox
        self.tree = os.path.join(base, name, "tree")
        for path, text in (files or {"lib/activations.py": "# a tree's file\n"}).items():
            os.makedirs(os.path.dirname(os.path.join(self.tree, path)), exist_ok=True)
            with open(os.path.join(self.tree, path), "w", encoding="utf-8") as file:
                file.write(text)
        self.scratch = os.path.join(base, name, "scratch")
        self.run = sandbox.start_run(self.scratch)
        self.run.share(self.tree)
        self.output_path = os.path.join(base, name, "output.txt")
        self.process = None

    def start(self, code, *args, limits=LIMITS):
        with open(self.output_path, "wb") as output:
            self.process = self.run.launch(self.tree, [self.sandbox.python, "-I", "-c", textwrap.dedent(code)] +
                                           [str(arg) for arg in args], limits, output)
        return self.process

    def finish(self, timeout=60):
        """Wait for the command, reap the run; returns (exit code, lines of output)."""
        try:
            self.process.wait(timeout=timeout)
        finally:
            sandboxes.kill_group(self.process)
            self.process.wait()
            self.run.reap()
        with open(self.output_path, encoding="utf-8", errors="replace") as file:
            return self.process.returncode, file.read().splitlines()


def run_code(sandbox, base, code, *args, **options):
    trial = Trial(sandbox, base, "run")
    trial.start(code, *args, **options)
    return trial.finish()


TRY = """
import os, sys
def attempt(name, action):
    try:
        action()
        print("could " + name)
    except Exception as error:
        print("could not " + name + ": " + type(error).__name__)
"""


def could(lines):
    """The lines of TRY's attempts that succeeded."""
    return [line for line in lines if line.startswith("could ") and not line.startswith("could not ")]


# ---------------------------------------------------------------- 1. an identity per run

def test_every_run_has_an_identity_of_its_own(sandbox, place):
    trials = [Trial(sandbox, place, name) for name in ("a", "b")]
    uids = [trial.run.uid for trial in trials]
    if sandbox.per_run_identity:
        assert uids[0] != uids[1]
        for uid in uids:
            assert sandboxes.UID_BASE <= uid < sandboxes.UID_BASE + sandboxes.UID_COUNT
            assert os.path.exists(os.path.join(sandboxes.LOCK_DIR, str(uid)))
    else:
        assert uids == [os.getuid()] * 2  # bubblewrap without root: a user namespace of the grader's user
    for trial in trials:
        trial.start("import os; print(os.getuid(), os.getgid(), os.getgroups())")
    outputs = [trial.finish() for trial in trials]
    for trial, (returncode, lines) in zip(trials, outputs):
        assert returncode == 0, lines
        if sandbox.per_run_identity:
            assert lines == ["{0} {0} []".format(trial.run.uid)]
            assert not os.path.exists(os.path.join(sandboxes.LOCK_DIR, str(trial.run.uid))), "the uid is free again"


def test_a_uid_that_is_taken_is_never_drawn(sandbox, place, monkeypatch):
    if not sandbox.per_run_identity:
        pytest.skip("without root, bubblewrap runs every run as the grader's user: there is no uid to draw")
    top = sandboxes.UID_BASE + sandboxes.UID_COUNT
    locked, busy, owner, free = top - 1, top - 2, top - 3, top - 4
    lock = os.path.join(sandboxes._lock_folder(), str(locked))
    with open(lock, "x") as file:
        file.write("another grader's\n")
    # A process of a uid (say a run of a grader of an earlier version, without a lock) and a file of one.
    sleeper = subprocess.Popen(["setpriv", "--reuid={}".format(busy), "--regid={}".format(busy), "--clear-groups",
                                "sleep", "60"])
    stray = os.path.join(tempfile.gettempdir(), token())
    with open(stray, "w") as file:
        file.write("x")
    os.chown(stray, owner, owner)
    try:
        deadline = time.time() + 5
        while not sandboxes.processes_of(busy) and time.time() < deadline:
            time.sleep(0.01)
        # The files are looked for only where the runs write to the host (the separate user).
        drawn = [locked, busy] + ([owner] if sandbox.mode == "user" else []) + [free]
        monkeypatch.setattr(sandboxes, "_candidate_ids", lambda: iter(drawn + [locked, free]))
        run = sandbox.start_run(os.path.join(place, "first"))
        assert run.uid == free
        # A second run draws the same uids, and finds every one taken, its own one by the first run's lock.
        with pytest.raises(sandboxes.SandboxError, match="no free uid"):
            sandbox.start_run(os.path.join(place, "second"))
        run.reap()
        assert not os.path.exists(os.path.join(sandboxes.LOCK_DIR, str(free)))
        assert os.path.exists(lock) and os.path.exists(stray) and sleeper.poll() is None, "only its own went"
    finally:
        sleeper.kill()
        sleeper.wait()
        os.remove(lock)
        os.remove(stray)


RUN_AT_ONCE = TRY + """
import time
token, seconds, others = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
mine = ["/tmp/" + token, "/dev/shm/" + token, os.path.join(os.environ["TMPDIR"], token)]
for path in mine:
    open(path, "w").write("mine")
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
for path in others:
    attempt("open " + path, lambda: open(path, "rb").read(1))
time.sleep(seconds)
print("intact" if all(open(path).read() == "mine" for path in mine) else "disturbed")
os.kill(child, 0)
print("child alive")
"""


def other_runs_files(trial, name):
    """Paths of a run's that another run must not open: its tree's file, the grader's log in its scratch, and
    the files it writes in its temporary folders."""
    log = os.path.join(trial.scratch, "log.jsonl")
    with open(log, "w") as file:
        file.write("{}\n")
    os.chmod(log, 0o644)  # even if the grader's log were open to all, its folder is not
    return [os.path.join(trial.tree, "lib", "activations.py"), log, os.path.join(trial.run.tmp, name)]


def test_two_runs_at_once_in_threads_do_not_disturb_each_other(sandbox, place):
    names = [token() + "-fast", token() + "-slow"]
    trials = [Trial(sandbox, place, "fast"), Trial(sandbox, place, "slow")]
    others = [other_runs_files(trials[1], names[1]), other_runs_files(trials[0], names[0])]
    results, ended = {}, {}

    def run(index, seconds):
        trials[index].start(RUN_AT_ONCE, names[index], seconds, *others[index])
        results[index] = trials[index].finish()
        ended[index] = time.time()

    threads = [threading.Thread(target=run, args=(0, 0.2)), threading.Thread(target=run, args=(1, 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index in (0, 1):
        returncode, lines = results[index]
        assert returncode == 0 and lines[-2:] == ["intact", "child alive"], lines
        assert not could(lines), lines
    assert ended[0] < ended[1] - 1, "the fast run was reaped while the slow one ran"


GRADER = """
import collections, json, os, shutil, sys, tempfile
os.umask(0o077)
sys.path.insert(0, sys.argv[1])
from tools import sandbox as sandboxes
mode, seconds, name, code = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
Limits = collections.namedtuple("Limits", "per_test_seconds run_seconds memory_mb file_mb")
limits = Limits(20, 60, 4096, 64)
sandbox = sandboxes.choose(mode, limits)
print("ready", flush=True)
sys.stdin.readline()  # both graders start their runs at once
base = tempfile.mkdtemp()
tree = os.path.join(base, "tree")
os.makedirs(tree)
run = sandbox.start_run(os.path.join(base, "scratch"))
run.share(tree)
with open(os.path.join(base, "output"), "wb") as output:
    process = run.launch(tree, [sandbox.python, "-I", "-c", code, name, seconds], limits, output)
    process.wait()
run.reap()
print(json.dumps({"uid": run.uid, "returncode": process.returncode, "notes": sandbox.notes + run.notes,
                  "output": open(os.path.join(base, "output")).read().splitlines()}))
shutil.rmtree(base)
"""


def grader(mode, seconds, name, prefix=()):
    return subprocess.Popen(list(prefix) + [sys.executable, "-c", GRADER, REPO, mode, str(seconds), name,
                                            RUN_AT_ONCE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO)


def test_two_graders_at_once_do_not_disturb_each_other(sandbox):
    names = [token() + "-fast", token() + "-slow"]
    graders = [grader(sandbox.mode, 0.2, names[0]), grader(sandbox.mode, 4, names[1])]
    for process in graders:
        assert process.stdout.readline().strip() == b"ready"
    for process in graders:
        process.stdin.write(b"go\n")
        process.stdin.flush()
    results = [json.loads(process.communicate(timeout=120)[0].decode().splitlines()[-1]) for process in graders]
    for result in results:
        assert result["returncode"] == 0 and result["output"][-2:] == ["intact", "child alive"], result
        assert not sandbox.per_run_identity or not sandboxes.processes_of(result["uid"], zombies=False)
    if sandbox.per_run_identity:
        assert results[0]["uid"] != results[1]["uid"]
    assert not [path for name in names for path in glob.glob("/tmp/{0}*".format(name)) +
                glob.glob("/dev/shm/{0}*".format(name))], "each grader removed its run's files"


# ---------------------------------------------------------------- 2. nothing of value in reach

def test_the_master_and_the_graders_files_are_out_of_reach(sandbox, place):
    # The grader's files, in its working folder (which the run's tree is in) and in a folder of it.
    secrets = [os.path.join(place, "collect-output.txt"), os.path.join(place, "grader", "collect-output.txt")]
    os.makedirs(os.path.join(place, "grader"))
    for secret in secrets:
        with open(secret, "w") as file:
            file.write("the grader's\n")
    code = TRY + """
for path in sys.argv[1:]:
    attempt("open " + path, lambda: open(path, "rb").read(1))
attempt("list the master repository", lambda: os.listdir(sys.argv[1].rsplit("/lib/", 1)[0]))
attempt("write into the master repository", lambda: open(sys.argv[-1], "a").write("# tampered"))
attempt("write into the tree", lambda: open("lib/activations.py", "a").write("# tampered"))
attempt("read the tree", lambda: open("lib/activations.py").read())
"""
    paths = [os.path.join(REPO, "lib", "network.py"), os.path.join(REPO, "grading", "tasks.py"),
             os.path.join(REPO, "tools", "sandbox.py")] + secrets + [os.path.join(REPO, "conftest.py")]
    before = open(os.path.join(REPO, "conftest.py"), "rb").read()
    returncode, lines = run_code(sandbox, place, code, *paths)
    assert returncode == 0, lines
    assert could(lines) == ["could read the tree"], lines
    assert open(os.path.join(REPO, "conftest.py"), "rb").read() == before


def test_the_probe_refuses_a_sandbox_that_can_open_the_master(sandbox, monkeypatch):
    # Here "the master" is a file that every sandbox shows: the interpreter itself.
    readable = os.path.realpath(sandbox.python)
    monkeypatch.setattr(sandboxes, "PROBE_FILES", sandboxes.PROBE_FILES + (readable,))
    with pytest.raises(sandboxes.SandboxError, match="can open {}".format(re.escape(readable))):
        sandboxes.choose(sandbox.mode, LIMITS, python=sandbox.python)


def test_the_probe_refuses_a_sandbox_that_can_open_the_graders_files(sandbox):
    # A grader that writes its files as umask 022 would: the runs could open those beside their trees.
    old = os.umask(0o022)
    try:
        if sandbox.mode == "user":
            with pytest.raises(sandboxes.SandboxError, match="umask"):
                sandboxes.choose("user", LIMITS, python=sandbox.python)
        else:
            assert sandboxes.choose(sandbox.mode, LIMITS, python=sandbox.python).mode == sandbox.mode
    finally:
        os.umask(old)


def test_private_folders_are_out_of_reach(sandbox, place):
    submissions = os.path.join(place, "submissions")
    os.makedirs(os.path.join(submissions, "alice", "lib"))
    with open(os.path.join(submissions, "alice", "lib", "activations.py"), "w") as file:
        file.write("# alice's\n")
    for folder, _, names in os.walk(place):
        os.chmod(folder, 0o755)
        for name in names:
            os.chmod(os.path.join(folder, name), 0o644)
    if sandbox.mode == "user":
        with pytest.raises(sandboxes.SandboxError, match="can read the submissions .*alice"):
            sandboxes.choose("user", LIMITS, private=[submissions], python=sandbox.python)
    else:
        # bubblewrap shows no folder of the host's but the interpreter's and the tree.
        chosen = sandboxes.choose(sandbox.mode, LIMITS, private=[submissions], python=sandbox.python)
        code = "import sys\ntry:\n    open(sys.argv[1]).read()\n    print('read')\nexcept OSError:\n    print('hidden')"
        assert run_code(chosen, place, code, os.path.join(submissions, "alice", "lib", "activations.py"))[1] == [
            "hidden"]
    for folder, _, names in os.walk(submissions):
        os.chmod(folder, 0o700)
    assert sandboxes.choose(sandbox.mode, LIMITS, private=[submissions], python=sandbox.python).mode == sandbox.mode


def test_the_run_cannot_look_into_the_grader(sandbox, place):
    code = TRY + """
pid = sys.argv[1]
for name in ("environ", "cwd/.", "fd/0", "mem", "root/."):
    attempt("read /proc/{}/{}".format(pid, name), lambda: os.listdir("/proc/{}/{}".format(pid, name))
            if name.endswith("/.") else open("/proc/{}/{}".format(pid, name), "rb").read(1))
seen = b""
for other in filter(str.isdigit, os.listdir("/proc")):
    try:
        seen += open("/proc/" + other + "/cmdline", "rb").read()
    except OSError:
        pass  # it ended
print("tree path seen" if bytes.fromhex(sys.argv[2]) in seen else "tree path not seen")
"""
    trial = Trial(sandbox, place, "run")
    trial.start(code, os.getpid(), trial.tree.encode().hex())
    returncode, lines = trial.finish()
    assert returncode == 0, lines
    assert not could(lines), lines
    if sandbox.mode == "bwrap":
        # bubblewrap's options (the host's paths) came through a pipe, so no command line the run sees has them.
        assert lines[-1] == "tree path not seen"


def test_a_reaped_run_gives_its_files_back(sandbox, place):
    trial = Trial(sandbox, place, "run")
    trial.start("print('ran')")
    assert trial.finish() == (0, ["ran"])
    trial.run.reap()  # again: nothing more to do
    for folder, _, names in os.walk(trial.tree):
        for path in [folder] + [os.path.join(folder, name) for name in names]:
            info = os.lstat(path)
            assert (info.st_uid, info.st_gid) == (os.getuid(), os.getgid()), path
            assert not info.st_mode & 0o007, path
    assert not os.path.exists(os.path.join(trial.scratch, "tmp"))
    assert not stat.S_IMODE(os.stat(trial.scratch).st_mode) & 0o077
    with pytest.raises(sandboxes.SandboxError, match="reaped"):
        trial.start("print('again')")


# ---------------------------------------------------------------- 3. no network

NETWORK = "import socket, sys\ntry:\n    socket.create_connection(('127.0.0.1', int(sys.argv[1])), 2).close()\n" \
          "    print('connected')\nexcept OSError as error:\n    print('unreachable')"


def connects(sandbox, place) -> bool:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    try:
        returncode, lines = run_code(sandbox, place, NETWORK, server.getsockname()[1])
    finally:
        server.close()
    assert returncode == 0, lines
    return lines == ["connected"]


def test_the_network_is_unreachable(sandbox, place):
    noted = [note for note in sandbox.notes if "the network is not isolated" in note]
    assert connects(sandbox, place) == bool(noted), "the note says whether the network is isolated"
    if sandbox.mode == "bwrap" or subprocess.run(["unshare", "--net", "true"]).returncode == 0:
        assert not noted, "where the system lets it, the network is isolated"


def test_where_the_network_cannot_be_isolated_every_report_says_so(sandbox, place, monkeypatch):
    if sandbox.mode == "bwrap":
        assert not [note for note in sandbox.notes if "network" in note] and not connects(sandbox, place)
        return
    monkeypatch.setattr(sandboxes, "UNSHARE", "false")  # a system that refuses unshare --net
    refused = sandboxes.choose("user", LIMITS, python=sandbox.python)
    assert [note for note in refused.notes if note.startswith("the network is not isolated")], refused.notes
    assert connects(refused, place), "the run went ahead, and the note is true"


# ---------------------------------------------------------------- 4. nothing left behind

LITTER = TRY + """
import ctypes, time
token, folders = sys.argv[1], sys.argv[2:]
def write(path):
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        os.makedirs(folder)
    open(path, "w").write("litter")
for folder in folders:
    attempt("write in " + folder, lambda: write(os.path.join(folder, token)))
attempt("write deep", lambda: write(os.path.join("/tmp", token + "-deep", "a", "b", "c")))
def open_folder():
    os.mkdir(os.path.join("/tmp", token + "-open"))
    os.chmod(os.path.join("/tmp", token + "-open"), 0o777)
    write(os.path.join("/tmp", token + "-open", "x"))
attempt("make a folder for all", open_folder)
attempt("make shared memory", lambda: ctypes.CDLL(None).shmget(0, 4096, 0o1600) >= 0 or 1 / 0)
if os.fork() == 0:
    os.setsid()
    while True:
        write(os.path.join("/tmp", token + "-daemon"))
        time.sleep(0.05)
time.sleep(0.3)
"""


def test_the_runs_files_are_removed_from_every_writable_folder(sandbox, place):
    # A world-writable folder deep in a closed one, made before the sandbox is chosen (which finds them all).
    nested = os.path.join(place, "closed", "open")
    os.makedirs(nested)
    os.chmod(nested, 0o1777)
    for folder in (place, os.path.dirname(nested)):
        os.chmod(folder, 0o755)
    chosen = pick(sandbox.mode, python=sandbox.python)
    if chosen.mode == "user":
        assert {"/tmp", "/var/tmp", "/dev/shm", nested} <= set(chosen.writable)
    name = token()
    stranger = os.path.join(tempfile.gettempdir(), name + "-stranger")
    with open(stranger, "w") as file:
        file.write("someone else's")
    os.chown(stranger, 12345, 12345)
    try:
        trial = Trial(chosen, os.path.join(place, "grader"), "run")
        folders = ["/tmp", "/var/tmp", "/dev/shm", "/run/lock", nested, trial.run.tmp]
        trial.start(LITTER, name, *folders)
        returncode, lines = trial.finish()
        assert os.path.exists(stranger), "a file of another user stays"
    finally:
        os.remove(stranger)
    assert returncode == 0, lines
    assert "could write in /tmp" in lines and "could make a folder for all" in lines, lines
    if chosen.mode == "user":
        assert "could write in " + nested in lines, lines
    left = [path for path in glob.glob("/tmp/{0}*".format(name)) + glob.glob("/*/*/{}*".format(name)) +
            glob.glob(os.path.join(nested, name + "*")) if path != stranger]
    assert not left, "the run left {}".format(left)
    assert chosen.mode == "bwrap" or not os.path.exists(trial.run.tmp)
    assert not list(sandboxes.owned_entries(chosen.writable or sandboxes.writable_folders(), trial.run.uid))
    with open("/proc/sysvipc/shm") as file:
        owners = [row.split()[7:9] for row in file.read().splitlines()[1:]]
    assert not [row for row in owners if str(trial.run.uid) in row], "its shared memory stays"


def test_no_process_outlives_the_run(sandbox, place):
    mark = token()
    code = """
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)", sys.argv[1]])
    os._exit(0)
"""
    run_code(sandbox, place, code, mark)
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/{}/cmdline".format(pid), "rb") as file:
                if mark.encode() in file.read():
                    left.append(int(pid))
        except OSError:
            continue
    assert not left, "processes of the run survived it: {}".format(left)


# ---------------------------------------------------------------- 5. a cap on the disk

FILL = """
import os, sys, time
written = 0
try:
    for index in range(64):
        for folder in ("/tmp", "/dev/shm"):
            with open(os.path.join(folder, "fill-%d" % index), "wb") as file:
                file.write(b"x" * 1024 * 1024)
            written += 1
            print(written, flush=True)
        time.sleep(0.1)
    print("wrote it all")
except OSError as error:
    print("full: " + type(error).__name__)
"""


def test_the_runs_files_are_capped(sandbox, place, monkeypatch):
    monkeypatch.setattr(sandbox, "disk_cap_mb", 8)
    trial = Trial(sandbox, place, "run")
    started = time.time()
    trial.start(FILL)
    returncode, lines = trial.finish()
    written = max([int(line) for line in lines if line.isdigit()] or [0])
    if sandbox.mode == "user":
        assert trial.run.over_disk_cap() and returncode == -9, (returncode, lines[-3:])
        assert [note for note in trial.run.notes if note.startswith("the run was stopped")], trial.run.notes
        assert 8 <= written < 40 and time.time() - started < 20, written
    else:
        # bubblewrap's /tmp is a tmpfs of the cap's size (its /dev/shm one of sandboxes.SHM_MB).
        assert not trial.run.over_disk_cap() and lines[-1] == "full: OSError", lines[-3:]
        assert written <= 2 * 8
    assert not glob.glob("/tmp/fill-*") and not glob.glob("/dev/shm/fill-*")


# ---------------------------------------------------------------- 6. limits, clamped to the hard ones in force

LIMITS_CODE = """
import resource
for name in ("CPU", "AS", "FSIZE", "NPROC", "CORE"):
    print(name, *resource.getrlimit(getattr(resource, "RLIMIT_" + name)))
"""


def test_the_runs_limits(sandbox, place):
    returncode, lines = run_code(sandbox, place, LIMITS_CODE)
    assert returncode == 0, lines
    got = dict((line.split()[0], tuple(int(value) for value in line.split()[1:])) for line in lines)
    # No CPU-time limit: the grader ends a run on the wall clock (tools/testrun.py), from outside it.
    assert got["CPU"] == resource.getrlimit(resource.RLIMIT_CPU)
    assert got["AS"] == (4096 * MB, 4096 * MB) and got["FSIZE"] == (64 * MB, 64 * MB) and got["CORE"] == (0, 0)
    if sandbox.per_run_identity:
        assert got["NPROC"] == (sandboxes.EXTRA_PROCESSES,) * 2


def test_limits_are_clamped_to_the_hard_limits_in_force(sandbox):
    # A grader started under `ulimit -v` (3 GB, below the runs' 4096 MB) starts, its runs get 3 GB, and its
    # notes say so.
    hard = 3 * 1024 * MB
    code = "import resource; print(*resource.getrlimit(resource.RLIMIT_AS))"
    child = subprocess.run(["prlimit", "--as={0}:{0}".format(hard), "--", sys.executable, "-c", GRADER, REPO,
                            sandbox.mode, "0", "-", code], input=b"go\n", stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, cwd=REPO, timeout=120)
    assert child.returncode == 0, child.stdout.decode()
    result = json.loads(child.stdout.decode().splitlines()[-1])
    assert result["output"] == ["{0} {0}".format(hard)], result
    assert [note for note in result["notes"] if note.startswith("the address space limit was clamped to the hard "
                                                                "limit in force: 3072 MB")], result["notes"]


def test_the_limits_are_testruns():
    from tools.testrun import Limits as TestrunLimits
    assert TestrunLimits._fields == Limits._fields


# ---------------------------------------------------------------- 7. the interpreter it is given

WHERE = "import os, sys\nprint(sys.prefix)\nprint(sys.version_info[:2])\nprint(os.path.exists(sys.argv[1]))"


def make_venv(folder: str, umask: int = 0o022) -> str:
    """A venv (without pip) of the grader's interpreter, readable by all unless umask says otherwise."""
    base = os.path.realpath(sys.executable)  # the installation the grader's venv is made from
    old = os.umask(umask)
    try:
        subprocess.run([base, "-m", "venv", "--without-pip", folder], check=True, timeout=120)
    finally:
        os.umask(old)
    return os.path.join(folder, "bin", "python")


def test_the_sandbox_runs_the_interpreter_it_is_given(sandbox, place):
    os.chmod(place, 0o755)
    python = make_venv(os.path.join(place, "venv"))
    chosen = pick(sandbox.mode, python=python)
    assert chosen.python == python and python in chosen.describe()
    returncode, lines = run_code(chosen, os.path.join(place, "grader"), WHERE, sys.prefix)
    assert returncode == 0, lines
    assert lines[0] == os.path.join(place, "venv")
    if chosen.mode == "bwrap":
        assert lines[2] == "False", "the grader's own installation is not in the sandbox"
    # The same venv in a folder that others cannot pass: the separate user cannot run it, and says what to do.
    os.chmod(place, 0o700)
    if sandbox.mode == "user":
        with pytest.raises(sandboxes.SandboxError, match=re.escape("chmod o+x " + place)):
            sandboxes.choose("user", LIMITS, python=python)
    else:
        assert pick(sandbox.mode, python=python).python == python


def test_an_installation_closed_to_the_runs_is_refused(sandbox, place):
    os.chmod(place, 0o755)
    python = make_venv(os.path.join(place, "venv"), umask=0o077)
    with pytest.raises(sandboxes.SandboxError, match=re.escape("chmod -R o+rX")):
        sandboxes.choose(sandbox.mode, LIMITS, python=python)


def python38():
    """A Python 3.8 (not a pyenv shim, which is a script that needs pyenv), or None."""
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.8*/bin/python3.8"))) + [
        os.path.realpath(shutil.which("python3.8") or "/nonexistent")]
    return next((path for path in candidates if "/shims/" not in path and os.access(path, os.X_OK)), None)


def test_a_python_3_8_runs_in_the_sandbox(sandbox, place):
    python = python38()
    if python is None:
        pytest.skip("no Python 3.8 on this machine")
    try:
        chosen = sandboxes.choose(sandbox.mode, LIMITS, python=python)
    except sandboxes.SandboxError as error:
        assert sandbox.mode == "user" and "chmod" in str(error), error  # an installation closed to others
        return
    returncode, lines = run_code(chosen, place, WHERE, sys.prefix)
    assert returncode == 0 and lines[1] == "(3, 8)", lines


# ---------------------------------------------------------------- no sandbox

def test_without_a_sandbox_the_limits_still_hold(place):
    chosen = sandboxes.choose("none", LIMITS)
    assert chosen.mode == "none" and "NO SANDBOX" in chosen.describe()
    returncode, lines = run_code(chosen, place, LIMITS_CODE + "import os\nprint(os.getuid())")
    assert returncode == 0 and "AS {0} {0}".format(4096 * MB) in lines and lines[-1] == str(os.getuid()), lines


def test_the_fallbacks_walls(place, monkeypatch):
    """Where Landlock works, a fallback run reads only the system, its interpreter and its tree, writes only its
    own tmp and connects nowhere: a copy of the reference that every user may read is out of its reach."""
    if (MODE or "auto") == "bwrap" or not sandboxes._is_root():
        pytest.skip("the walls are the separate-identity fallback's")
    monkeypatch.delenv(sandboxes.NO_LANDLOCK)
    chosen = pick("user")
    if not chosen.landlock:
        assert any("not hidden" in note for note in chosen.notes)
        pytest.skip("this system refuses Landlock, and every report says so")
    copy = tempfile.mkdtemp(prefix="readable-copy-")
    try:
        os.chmod(copy, 0o755)
        target = os.path.join(copy, "network.py")
        with open(target, "w", encoding="utf-8") as file:
            file.write("the reference\n")
        os.chmod(target, 0o644)
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        program = textwrap.dedent("""
            import os, socket, sys
            for what, action in (("read", lambda: open(sys.argv[1]).read()),
                                 ("write", lambda: open("/var/tmp/walled-" + str(os.getpid()), "w")),
                                 ("tmp", lambda: open(os.path.join(os.environ["TMPDIR"], "mine"), "w")),
                                 ("connect", lambda: socket.create_connection(("127.0.0.1", int(sys.argv[2])), 2))):
                try:
                    action()
                    print("could " + what)
                except OSError:
                    print("refused " + what)
            """)
        _, output = run_code(chosen, place, program, target, str(server.getsockname()[1]))
        server.close()
        assert "refused read" in output and "refused write" in output and "refused connect" in output, output
        assert "could tmp" in output, output
    finally:
        shutil.rmtree(copy, ignore_errors=True)


# ---------------------------------------------------------------- 7. a copy of the reference elsewhere

def readable_copy(prefix: str) -> str:
    """The master's gap files, renamed and concatenated, in a folder that every user may read: a copy of the
    reference where an attacker would search for one. Returns its file's path."""
    root = tempfile.mkdtemp(prefix=prefix)
    folder = os.path.join(root, "elsewhere")
    os.makedirs(folder)
    target = os.path.join(folder, "notes.txt")
    with open(target, "w", encoding="utf-8") as copy:
        for name in sorted(glob.glob(os.path.join(REPO, "lib", "*.py"))):
            with open(name, encoding="utf-8") as file:
                copy.write(file.read().replace("    ", "\t"))  # re-indented, too
    with open(os.path.join(root, "unrelated.txt"), "w", encoding="utf-8") as file:
        file.write("nothing of the reference\n")
    for path, mode in ((root, 0o755), (folder, 0o755), (target, 0o644), (os.path.join(root, "unrelated.txt"), 0o644)):
        os.chmod(path, mode)
    return target


def test_a_readable_copy_of_the_reference_anywhere_is_refused(sandbox, place, monkeypatch):
    target = readable_copy("xyz-other-")
    folder = os.path.dirname(target)
    try:
        if sandbox.mode == "bwrap":
            # bubblewrap shows the run nothing of /tmp: the copy is out of its sight, and grading goes on.
            chosen = pick("bwrap")
            assert chosen.walk["complete"] and target not in chosen.walk["found"], chosen.walk
            return
        with pytest.raises(sandboxes.SandboxError) as refused:
            sandboxes.choose("user", LIMITS, python=sandbox.python)
        assert target in str(refused.value) and "chmod o-rwx " + folder in str(refused.value), refused.value
        submission = os.path.join(place, "student")
        shutil.copytree(os.path.join(REPO, "lib"), os.path.join(submission, "lib"))
        done = subprocess.run([sys.executable, os.path.join(REPO, "tools", "grade.py"), "--sandbox", "user",
                               "--python", sandbox.python, submission], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=170)
        error = done.stderr.decode("utf-8", errors="replace")
        assert done.returncode == 2 and target in error and "chmod o-rwx " + folder in error, error
        os.chmod(folder, 0o700)
        try:  # other copies on this machine may still be readable: this one is not found any more
            sandboxes.choose("user", LIMITS, python=sandbox.python)
        except sandboxes.SandboxError as error:
            assert target not in str(error)
        monkeypatch.setattr(sandboxes, "FULL_WALK", (os.path.dirname(folder), REPO))
        chosen = sandboxes.choose("user", LIMITS, python=sandbox.python)
        assert chosen.walk["complete"] and chosen.walk["files"] > 0 and not chosen.walk["found"], chosen.walk
        assert [note for note in chosen.notes if "found no copy of the reference" in note], chosen.notes
    finally:
        shutil.rmtree(os.path.dirname(folder), ignore_errors=True)


def test_the_search_reads_within_its_budget(sandbox, monkeypatch):
    monkeypatch.setattr(sandboxes, "WALK_FILES", 10)
    monkeypatch.setattr(sandboxes, "FULL_WALK", ("/usr",))
    monkeypatch.setattr(sandboxes, "WALLED_WALK", ("/usr",))
    chosen = pick()
    assert not chosen.walk["complete"] and chosen.walk["files"] <= 10, chosen.walk
    assert [note for note in chosen.notes if "stopped by its budget" in note], chosen.notes


# ---------------------------------------------------------------- 8. a grader killed mid-run

def sleeping_submission(place) -> str:
    """A handout whose relu_backward gap forks a child, and both sleep."""
    from grading.gaps import fill_gaps
    from tools import handout
    from tools.tests.gap_catalogue import indented
    files = handout.build_handout(cut=True)
    task = next(task for task in sandboxes_tasks() if task.key == "relu_backward")
    body = indented(task.key, "import os, time\nif os.fork() == 0:\n    time.sleep(600)\ntime.sleep(600)\n"
                              "return grad")
    files[task.file] = fill_gaps(files[task.file].decode("utf-8"), {task.gap: body}).encode("utf-8")
    target = os.path.join(place, "sleeper")
    handout.write_files(files, target)
    return target


def sandboxes_tasks():
    from grading.tasks import CODE_TASKS
    return CODE_TASKS


def locks_of(pid: int) -> dict:
    """{uid: lock path} of the locks that the grader with this pid holds."""
    found = {}
    for path in glob.glob(os.path.join(sandboxes.LOCK_DIR, "*")):
        try:
            with open(path, encoding="ascii") as file:
                fields = file.read().split()
        except OSError:
            continue
        if fields and fields[0] == str(pid):
            found[int(os.path.basename(path))] = path
    return found


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_no_process_of_a_killed_graders_runs_survives_and_its_uids_are_reclaimed(sandbox, place, how):
    if not sandbox.per_run_identity:
        pytest.skip("runs have identities of their own only as root")
    import signal
    submission = sleeping_submission(place)
    grader = subprocess.Popen([sys.executable, os.path.join(REPO, "tools", "grade.py"), "--sandbox", sandbox.mode,
                               "--python", sandbox.python, "--timeout", "100", submission], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, sleeping = time.time() + 150, {}
        while time.time() < deadline and not sleeping:
            sleeping = {uid: lock for uid, lock in locks_of(grader.pid).items()
                        if len(sandboxes.processes_of(uid, zombies=False)) >= 2}
            time.sleep(0.2)
        assert sleeping, "the gap and its child never slept"
        uids = set(sleeping) | set(locks_of(grader.pid))
        grader.send_signal(getattr(signal, how))
        returncode = grader.wait(timeout=60)
        assert returncode == (128 + signal.SIGTERM if how == "SIGTERM" else -signal.SIGKILL), returncode

        def survivors():
            deadline = time.time() + 5
            while time.time() < deadline and any(sandboxes.processes_of(uid, zombies=False) for uid in uids):
                time.sleep(0.1)
            return [uid for uid in uids if sandboxes.processes_of(uid, zombies=False)]

        if how == "SIGTERM":
            assert not survivors(), "the grader killed its runs"
            assert not locks_of(grader.pid), "the grader reaped its runs before it ended"
            return
        if sandbox.mode == "bwrap":
            assert not survivors(), "the PID namespace ended with the grader (--die-with-parent)"
        else:  # the gap's process died with the grader (--pdeathsig); the child it forked is the next grader's
            assert all(len(sandboxes.processes_of(uid, zombies=False)) <= 1 for uid in uids), "pdeathsig"
        assert locks_of(grader.pid), "a grader killed with SIGKILL leaves its locks"
        # The next grader to start reclaims them (the dead one's pid and start time name no running process).
        subprocess.run([sys.executable, "-c", "import sys, collections\nsys.path.insert(0, sys.argv[1])\n"
                        "from tools import sandbox\nLimits = collections.namedtuple('Limits', "
                        "'per_test_seconds run_seconds memory_mb file_mb')\n"
                        "sandbox.choose(sys.argv[2], Limits(20, 60, 4096, 64), python=sys.argv[3])",
                        REPO, sandbox.mode, sandbox.python], cwd=REPO, check=True, timeout=170)
        assert not locks_of(grader.pid), "the next grader reclaimed the dead one's uids"
        assert not survivors(), "and killed what was left of their runs"
    finally:
        if grader.poll() is None:
            grader.kill()
            grader.wait()


def test_a_vanished_lock_costs_no_grade(sandbox, place, capfd):
    trial = Trial(sandbox, place, "run")
    if trial.run._lock:
        os.remove(trial.run._lock)
    trial.start("print('ran')")
    assert trial.finish() == (0, ["ran"])
    if trial.run._lock:
        assert "had vanished" in capfd.readouterr().err


# ---------------------------------------------------------------- 9. the sandbox's notes are for staff

def test_sandbox_notes_reach_staff_only(sandbox, place, monkeypatch):
    import csv
    import signal
    from tools import grade
    note = "a sandbox note for staff {}".format(token())
    chosen = []

    def choose_with_a_note(*args, **options):
        chosen.append(original(*args, **options))
        chosen[0].notes.append(note)
        return chosen[0]

    original = sandboxes.choose
    monkeypatch.setattr(sandboxes, "choose", choose_with_a_note)
    submission = os.path.join(place, "student")
    shutil.copytree(os.path.join(REPO, "lib"), os.path.join(submission, "lib"))
    paths = {name: os.path.join(place, name) for name in ("results.json", "grades.csv", "site")}
    try:
        import jinja2  # noqa: F401  (the report needs requirements-dev.txt)
        report = ["--report", paths["site"]]
    except ImportError:
        report = []
    handler = signal.getsignal(signal.SIGTERM)
    try:
        assert grade.main([submission, "--sandbox", sandbox.mode, "--python", sandbox.python, "--quiet",
                           "--json", paths["results.json"], "--csv", paths["grades.csv"]] + report) == 0
    finally:
        signal.signal(signal.SIGTERM, handler)
    with open(paths["results.json"], encoding="utf-8") as file:
        results = json.load(file)
    assert note not in results["output"] and not [test for test in results["tests"] if note in json.dumps(test)]
    assert note in results["extra_data"]["sandbox notes"]
    with open(paths["grades.csv"], newline="", encoding="utf-8") as file:
        assert note in next(csv.DictReader(file))["sandbox notes"]
    if report:
        pages = {folder: [open(path, encoding="utf-8").read() for path in glob.glob(
            os.path.join(paths["site"], folder, "*.html"))] for folder in ("students", "tutor")}
        assert pages["students"] and not [page for page in pages["students"] if note in page]
        assert pages["tutor"] and all(note in page for page in pages["tutor"])
