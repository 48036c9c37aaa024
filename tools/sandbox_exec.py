"""The grader's exec wrapper: set resource limits, optionally become another user, then exec a command.

    python -I -S sandbox_exec.py --cpu S --memory-mb M --file-mb F --processes P [--uid U --gid G] -- CMD ...
    python -I -S sandbox_exec.py --uid U --gid G --kill-all      # end every process of user U

It stands between the grader and the test process, so that the limits are set in a fresh process that then
execs the tests, instead of in a preexec_fn (which can deadlock a child forked from a thread). Under bubblewrap
it runs inside the sandbox; in the separate-user fallback it is the sandbox's outer shell. It imports nothing
of the exercise and runs with -I -S, so it does not depend on, or read, the tree it is started in.
"""
import argparse
import os
import resource
import signal
import sys


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu", type=int, help="CPU seconds (RLIMIT_CPU)")
    parser.add_argument("--memory-mb", type=int, help="address space in MB (RLIMIT_AS)")
    parser.add_argument("--file-mb", type=int, help="largest file the command may write, in MB (RLIMIT_FSIZE)")
    parser.add_argument("--processes", type=int, help="processes and threads of the user (RLIMIT_NPROC)")
    parser.add_argument("--uid", type=int, help="become this user (needs root)")
    parser.add_argument("--gid", type=int, help="and this group")
    parser.add_argument("--kill-all", action="store_true", help="as --uid, send SIGKILL to all its processes")
    parser.add_argument("command", nargs="*", help="the command to exec, after --")
    args = parser.parse_args(argv)
    if args.kill_all == bool(args.command):
        parser.error("give either a command (after --) or --kill-all")
    if (args.uid is None) != (args.gid is None) or (args.kill_all and args.uid is None):
        parser.error("--uid and --gid go together, and --kill-all needs them")
    return args


def set_limits(args) -> None:
    limits = [(resource.RLIMIT_CPU, args.cpu, 5), (resource.RLIMIT_AS, args.memory_mb, 0),
              (resource.RLIMIT_FSIZE, args.file_mb, 0), (resource.RLIMIT_NPROC, args.processes, 0)]
    for limit, value, grace in limits:
        if value is None:
            continue
        if limit in (resource.RLIMIT_AS, resource.RLIMIT_FSIZE):
            value *= 1024 * 1024
        # The soft limit signals (SIGXCPU) before the hard one kills; a limit the system refuses stops the run.
        resource.setrlimit(limit, (value, value + grace))


def become(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("sandbox_exec: could not become user {}".format(uid))


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.kill_all:
        become(args.uid, args.gid)
        try:
            os.kill(-1, signal.SIGKILL)  # every process this user may signal, that is, all of its own but this one
        except ProcessLookupError:
            pass
        return 0
    set_limits(args)
    if args.uid is not None:
        become(args.uid, args.gid)
    os.execvp(args.command[0], args.command)
    return 127  # not reached: execvp replaces this process or raises


if __name__ == "__main__":
    sys.exit(main())
