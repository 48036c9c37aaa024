"""A function of ours run on submitted text in a child process, within a wall-clock and an address-space limit.

The grader's own process must finish whatever a submission holds. Where a step on submitted text is not linear
by construction (pycodestyle's checks; parsing a submission's gaps, whose cost grows with megabytes of code and is
not safe in two threads at once in CPython's parser), it runs here instead: a child process that limits its own
address space before it reads the request, answers with JSON on stdout, and is killed at the time limit. The
request and the answer are JSON objects: typed data, never a message parsed back.

    answer = call("grading.style", "answer", {"sources": ...}, Bound(seconds=20, memory_mb=1024))

The function named must take the request (a dict) and return a JSON-serialisable dict.
"""
import json
import os
import subprocess
import sys
from collections import namedtuple

# A child process that ends after `seconds`, or when its address space would pass `memory_mb`.
Bound = namedtuple("Bound", "seconds memory_mb")
# The child's exit code for running out of memory (under the address-space limit).
OUT_OF_MEMORY = 3
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHILD = "import sys; from grading.bounded import child; child(sys.argv[1], sys.argv[2], int(sys.argv[3]))"


class Unfinished(Exception):
    """The child did not answer: `why` says which limit it hit, or what went wrong."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def call(module: str, function: str, request: dict, bound: Bound, what: str) -> dict:
    """module.function(request) in a child process within bound; raises Unfinished ("<what> did not finish within
    20 s", ...) when it hits a limit, cannot start, fails, or answers with something that is not a JSON object."""
    data = json.dumps(request).encode("ascii")
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, module, function, str(bound.memory_mb)], input=data,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PACKAGE_PARENT, timeout=bound.seconds)
    except subprocess.TimeoutExpired:
        raise Unfinished("{} did not finish within {:g} s".format(what, bound.seconds))
    except OSError as error:
        raise Unfinished("{} could not be started ({})".format(what, error.strerror or error))
    if done.returncode == OUT_OF_MEMORY:
        raise Unfinished("{} ran out of memory ({} MB)".format(what, bound.memory_mb))
    if done.returncode != 0:
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
        raise Unfinished("{} failed (exit code {}: {})".format(what, done.returncode, last[-200:]))
    try:
        answer = json.loads(done.stdout.decode("ascii"))
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise Unfinished("{}'s answer could not be read".format(what))
    return answer


def limit_address_space(memory_mb: int) -> None:
    """This process's address space to at most memory_mb (never above a hard limit already in force); nothing
    where the system has no such limit (Windows, macOS): the wall-clock limit still holds."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = memory_mb * 1024 * 1024
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ImportError, AttributeError, ValueError, OSError):
        pass


def child(module: str, function: str, memory_mb: int) -> None:
    """The child process of call(): limit the address space before any submitted text is read, then answer the
    request on stdin with JSON on stdout."""
    import importlib

    limit_address_space(memory_mb)
    try:
        request = json.loads(sys.stdin.buffer.read().decode("ascii"))
        answer = json.dumps(getattr(importlib.import_module(module), function)(request))
    except MemoryError:
        sys.exit(OUT_OF_MEMORY)
    sys.stdout.write(answer)
