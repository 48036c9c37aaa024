"""Where the graded tests run: a bubblewrap sandbox, or as a separate unprivileged user, or (only when asked for)
with no sandbox at all.

bwrap   bubblewrap (the sandbox Flatpak uses): a new mount namespace that holds nothing but the Python installation
        and the system's libraries (read-only), the rebuilt tree (read-only) and a private /tmp; new PID, IPC, UTS
        and network namespaces (no network), killed with the grader (--die-with-parent). Run by root, bubblewrap
        sets up the namespaces and tools/sandbox_exec.py drops to an unprivileged user inside; run by anyone
        else, bubblewrap maps the user into a user namespace. When the tests end, the PID namespace ends, and
        every process started in it with it.
user    the fallback where bubblewrap cannot run (Docker images such as Gradescope's refuse the namespaces):
        tools/sandbox_exec.py becomes a dedicated unprivileged user that must not be able to read the master
        repository (checked before grading) and can write only its own scratch folder and the system's
        world-writable folders (which are cleared of its files after each run). After each run every process
        of that user is killed. Needs root; grades one submission at a time.
none    no sandbox (--no-sandbox): the tests run as the grader's own user. Every report says so.

The limits of a run (CPU seconds, address space, file size, processes) are set by tools/sandbox_exec.py in the
process that then execs the tests, never in a preexec_fn.
"""
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXEC_WRAPPER = os.path.join(REPO, "tools", "sandbox_exec.py")
# Where the rebuilt tree and the wrapper are seen inside the bubblewrap sandbox.
TREE_INSIDE = "/exercise"
WRAPPER_INSIDE = "/grader/sandbox_exec.py"
# The separate-user fallback's user; create it with `useradd --system --no-create-home exercise3-sandbox`.
DEFAULT_USER = "exercise3-sandbox"
NOBODY = 65534
# Processes and threads a run may add to what its user already runs (pytest needs one; BLAS threads are off).
EXTRA_PROCESSES = 64
TMP_MB = 256
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")


class SandboxError(RuntimeError):
    """No sandbox of the kind asked for can run here; the message says why and what to do."""


def processes_of(uid: int) -> List[int]:
    """The process ids whose real user is uid (from /proc; empty where there is no /proc)."""
    found = []
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not name.isdigit():
            continue
        try:
            with open("/proc/{}/status".format(name), encoding="ascii", errors="replace") as file:
                for line in file:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            found.append(int(name))
                        break
        except OSError:
            continue  # it ended meanwhile
    return found


def python_roots() -> List[str]:
    """The folders of the Python installation the tests need, outermost only: the venv and its base Python."""
    candidates = {os.path.realpath(path) for path in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    candidates |= {os.path.abspath(path) for path in (sys.prefix, sys.base_prefix)}
    candidates.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    roots = sorted(candidates)
    return [root for root in roots if not any(root != other and root.startswith(other.rstrip("/") + "/")
                                              for other in roots)]


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


class Sandbox:
    """One kind of sandbox, ready to wrap test commands. Use choose() to get one."""

    def __init__(self, mode: str, uid: Optional[int] = None, gid: Optional[int] = None, user: str = ""):
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.user = user

    def describe(self) -> str:
        if self.mode == "bwrap":
            return "bubblewrap ({}), as user {}".format(shutil.which("bwrap"), self.uid if self.uid is not None
                                                        else os.getuid())
        if self.mode == "user":
            return "separate user {} (uid {}), no bubblewrap".format(self.user, self.uid)
        return "NO SANDBOX: the tests ran as the grader's own user (--no-sandbox)"

    @property
    def parallel(self) -> bool:
        """Whether several submissions may run at once (the user fallback shares one user, so it may not)."""
        return self.mode != "user"

    # ------------------------------------------------------------ preparing a run
    def prepare(self, scratch: str) -> str:
        """Make a run folder in scratch that the test process can use; returns its private temporary folder."""
        tmp = os.path.join(scratch, "tmp")
        os.makedirs(tmp, exist_ok=True)
        if self.mode == "user":
            # The user must reach its tree through the grader's folders (x), read the tree (r), write only tmp.
            folder = scratch
            while _inside(folder, tempfile_root()) and folder != tempfile_root():
                os.chmod(folder, os.stat(folder).st_mode | stat.S_IXOTH)
                folder = os.path.dirname(folder)
            os.chown(tmp, self.uid, self.gid)
            os.chmod(tmp, 0o700)
        shutil.copyfile(EXEC_WRAPPER, os.path.join(scratch, "sandbox_exec.py"))
        return tmp

    def launch(self, tree: str, scratch: str, inner: List[str], limits, env: Dict[str, str], stdout,
               pass_fds=()) -> subprocess.Popen:
        """Start `inner` (a command line to run in the tree) in this sandbox, in a session of its own.

        bubblewrap gets its options through a pipe (--args), so that the sandboxed code, which can read its
        parent's command line in /proc, sees only `bwrap --args N` and the command, no path of the grader's.
        """
        if self.mode != "bwrap":
            command = self.wrapped(os.path.join(scratch, "sandbox_exec.py"), inner, limits)
            return subprocess.Popen(command, cwd=tree, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                                    stderr=subprocess.STDOUT, start_new_session=True, pass_fds=tuple(pass_fds))
        options = self.bwrap_arguments(tree, scratch, env)
        reader, writer = os.pipe()
        try:
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(b"".join(argument.encode("utf-8") + b"\0" for argument in options[1:]))
            return subprocess.Popen([options[0], "--args", str(reader)] + self.wrapped(WRAPPER_INSIDE, inner, limits),
                                    env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.STDOUT,
                                    start_new_session=True, pass_fds=tuple(pass_fds) + (reader,))
        finally:
            os.close(reader)

    def wrapped(self, wrapper: str, inner: List[str], limits) -> List[str]:
        """`inner` behind the exec wrapper at `wrapper` (its path where the command runs), with the run's limits."""
        limit_args = ["--cpu", str(limits.cpu_seconds), "--memory-mb", str(limits.memory_mb), "--file-mb",
                      str(limits.file_mb)]
        uid = self.uid if self.uid is not None else os.getuid()
        if os.path.isdir("/proc"):
            limit_args += ["--processes", str(len(processes_of(uid)) + EXTRA_PROCESSES)]
        if self.uid is not None:
            limit_args += ["--uid", str(self.uid), "--gid", str(self.gid)]
        return [sys.executable, "-I", "-S", wrapper] + limit_args + ["--"] + inner

    def bwrap_arguments(self, tree: str, scratch: str, env: Dict[str, str]) -> List[str]:
        args = [shutil.which("bwrap") or "bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
        if os.getuid() != 0:
            args += ["--unshare-user"]
        args += ["--size", str(TMP_MB * 1024 * 1024), "--perms", "1777", "--tmpfs", "/tmp",
                 "--proc", "/proc", "--dev", "/dev"]
        for folder in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"):
            if os.path.islink(folder):
                args += ["--symlink", os.readlink(folder), folder]
            elif os.path.isdir(folder):
                args += ["--ro-bind", folder, folder]
        for name in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives"):
            if os.path.exists(name):
                args += ["--ro-bind", name, name]
        made = {"/", "/tmp", "/usr", "/etc", "/proc", "/dev"}
        for root in python_roots():
            # Ancestors that bubblewrap would create with their source's permissions (e.g. /root, 0700) are made
            # first, readable, so that the unprivileged user can reach the installation.
            parts = root.strip("/").split("/")
            for depth in range(1, len(parts)):
                ancestor = "/" + "/".join(parts[:depth])
                if ancestor not in made:
                    args += ["--perms", "0755", "--dir", ancestor]
                    made.add(ancestor)
            args += ["--ro-bind", root, root]
            made.add(root)
        args += ["--ro-bind", tree, TREE_INSIDE, "--ro-bind", os.path.join(scratch, "sandbox_exec.py"),
                 WRAPPER_INSIDE, "--chdir", TREE_INSIDE]
        for name, value in sorted(env.items()):
            args += ["--setenv", name, value]
        return args

    def environment(self, tmp: str) -> Dict[str, str]:
        """A small, fixed environment: no PYTHONPATH or other settings of the grader's, one BLAS thread."""
        tmp = "/tmp" if self.mode == "bwrap" else tmp
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
               "MPLCONFIGDIR": tmp, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TMPDIR": tmp, "PYTHONDONTWRITEBYTECODE": "1"}
        if os.environ.get("SYSTEMROOT"):
            env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
        return env

    # ------------------------------------------------------------ after a run
    def reap(self, timeout: float = 10.0) -> None:
        """End whatever the run left behind.

        Under bubblewrap the PID namespace ended with the run. As a separate user, every process of that user is
        killed, and its files in the world-writable folders are removed.
        """
        if self.mode != "user":
            return
        deadline = time.time() + timeout
        while processes_of(self.uid):
            subprocess.run([sys.executable, "-I", "-S", EXEC_WRAPPER, "--uid", str(self.uid), "--gid", str(self.gid),
                            "--kill-all"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
            if processes_of(self.uid) and time.time() > deadline:
                left = processes_of(self.uid)
                raise SandboxError("processes of user {} survive SIGKILL: {}".format(self.user, left))
            time.sleep(0.05)
        for folder in WORLD_WRITABLE:
            remove_files_of(folder, self.uid)


def tempfile_root() -> str:
    return os.path.realpath(tempfile.gettempdir())


def remove_files_of(folder: str, uid: int) -> None:
    """Remove the entries directly in folder that uid owns (whole trees)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.stat(follow_symlinks=False).st_uid != uid:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.remove(entry.path)
        except OSError:
            continue


# ---------------------------------------------------------------- choosing one

def _probe(sandbox: Sandbox, limits, private=()) -> subprocess.CompletedProcess:
    """Run a small Python program in the sandbox as a test run would; returns the finished process.

    It prints 'repository hidden' if it cannot list the master repository, and 'readable: PATH' for every
    folder of `private` it can list."""
    scratch = tempfile.mkdtemp(prefix="grade-probe-")
    try:
        os.chmod(scratch, 0o711)
        tree = os.path.join(scratch, "tree")
        os.makedirs(tree)
        os.chmod(tree, 0o755)
        tmp = sandbox.prepare(scratch)
        env = sandbox.environment(tmp)
        program = ("import os, sys, numpy\n"
                   "try:\n"
                   "    os.listdir(sys.argv[1])\n"
                   "    print('repository readable')\n"
                   "except OSError:\n"
                   "    print('repository hidden')\n"
                   "for path in sys.argv[2:]:\n"
                   "    try:\n"
                   "        os.listdir(path)\n"
                   "        print('readable: ' + path)\n"
                   "    except OSError:\n"
                   "        pass\n")
        inner = [sys.executable, "-I", "-c", program, REPO] + [os.path.abspath(path) for path in private]
        process = sandbox.launch(tree, scratch, inner, limits, env, subprocess.PIPE)
        try:
            output, _ = process.communicate(timeout=60)
        finally:
            kill_group(process)
            process.wait()
        return subprocess.CompletedProcess(inner, process.returncode, output.decode("utf-8", errors="replace"))
    finally:
        sandbox.reap()
        shutil.rmtree(scratch, ignore_errors=True)


def _user(name: str):
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def try_bwrap(limits, user: str = DEFAULT_USER, private=()) -> Sandbox:
    if shutil.which("bwrap") is None:
        raise SandboxError("bubblewrap is not installed (apt-get install bubblewrap)")
    for root in python_roots():
        if _inside(REPO, root):
            raise SandboxError("the Python installation {} holds the master repository {}; use a Python outside it"
                               .format(root, REPO))
    if os.getuid() == 0:
        uid, gid = _user(user) or (NOBODY, NOBODY)
        sandbox = Sandbox("bwrap", uid, gid, user)
    else:
        sandbox = Sandbox("bwrap")
    done = _probe(sandbox, limits)
    if done.returncode != 0 or "repository hidden" not in done.stdout:
        raise SandboxError("bubblewrap does not run here: {}".format(" ".join(done.stdout.split())[-300:]))
    return sandbox


def try_user(limits, user: str = DEFAULT_USER, private=()) -> Sandbox:
    if os.name != "posix" or os.getuid() != 0:
        raise SandboxError("the separate-user fallback needs root, to run the tests as another user")
    ids = _user(user)
    if ids is None:
        raise SandboxError("there is no user {0} for the separate-user fallback: useradd --system --no-create-home "
                           "--shell /usr/sbin/nologin {0}".format(user))
    if ids[0] == 0:
        raise SandboxError("the sandbox user {} is root".format(user))
    sandbox = Sandbox("user", ids[0], ids[1], user)
    done = _probe(sandbox, limits, private)
    if done.returncode != 0:
        raise SandboxError("user {} cannot run {}: {}".format(user, sys.executable,
                                                              " ".join(done.stdout.split())[-300:]))
    if "repository hidden" not in done.stdout:
        raise SandboxError("user {} can read the master repository {}: make it private first (chmod -R go-rwx {}, "
                           "as tools/gradescope/run_autograder does)".format(user, REPO, REPO))
    readable = [line[len("readable: "):] for line in done.stdout.splitlines() if line.startswith("readable: ")]
    if readable:
        raise SandboxError("user {} can read the submissions {}: make them private first (chmod -R go-rwx ...)"
                           .format(user, ", ".join(readable)))
    return sandbox


def choose(requested: str, limits, user: str = DEFAULT_USER, private=()) -> Sandbox:
    """The sandbox to grade in: `requested` is "auto" (bubblewrap, else the separate user), "bwrap", "user" or
    "none". `private`: folders the tests must not read (the submissions); bubblewrap never shows them, the
    separate user must not be able to list them. Raises SandboxError, naming every reason, when none of those
    asked for can run."""
    if requested == "none":
        return Sandbox("none")
    reasons = []
    for mode, attempt in (("bwrap", try_bwrap), ("user", try_user)):
        if requested in ("auto", mode):
            try:
                return attempt(limits, user, private)
            except (SandboxError, OSError, subprocess.SubprocessError) as error:
                reasons.append("{}: {}".format(mode, error))
    raise SandboxError("no sandbox can run here ({}); grading without one needs --no-sandbox".format(
        "; ".join(reasons)))


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL to the process group that start_new_session gave the process (the sandbox and all it started)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
