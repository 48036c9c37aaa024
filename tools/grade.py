"""Grade student submissions of exercise 3 with this repository's tests, on copies the students cannot rig.

    python tools/grade.py SUBMISSION_DIR [SUBMISSION_DIR ...] [--jobs N] [--csv FILE] [--json FILE]
    python tools/grade.py clones/*/ --jobs 4 --csv grades.csv      # a class, one folder per student

For each submission, in a scratch copy (the submission itself is never changed):
  1. integrity: the code outside the gaps is compared with the handout's, and files that change how Python
     or pytest start (conftest.py, sitecustomize.py, *.pth, pytest.ini, pyproject.toml, ...) are reported;
  2. the student's tests, conftest.py files and pytest and pycodestyle settings are replaced by this
     repository's, and the hidden tests (tests/hidden/) are added;
  3. the graded tests run in child processes with a per-test timeout and limits on CPU time and memory;
     a crash, exit or hang costs the task of the test it happened in, and the run goes on with the rest;
  4. a code task earns its points when all of its tests pass; the bonus checks run here, not in the child.
The score comes from a log that the points plugin writes test by test, never from what the tests print.
Exit code 0 whenever grading ran, whatever the scores; 2 for wrong arguments.
"""
import argparse
import csv
import difflib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import List

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from grading import points  # noqa: E402  (after the repository root is on sys.path)
from grading.tasks import CODE_TASKS, TASKS  # noqa: E402
from tools import handout, testrun  # noqa: E402
from tools.gaps import GapError, find_gaps, gap_bodies, without_gap_bodies  # noqa: E402

# Copied from this repository over the student's: the tests, the points plugin and the settings.
TRUSTED_FILES = ("conftest.py", "setup.cfg")
TRUSTED_FOLDERS = ("tests",)
# Files that change how Python or pytest start, wherever they are in a submission; the grader deletes them.
STARTUP_NAMES = ("sitecustomize.py", "usercustomize.py", "pytest.ini", ".pytest.ini", "tox.ini", "pyproject.toml",
                 "setup.py")
SKIPPED_WHILE_COPYING = (".git", "__pycache__", ".pytest_cache", ".venv", "venv", "results", "build", ".mypy_cache")
# Calls in a gap that have no business in a backward pass; a tutor should look at them.
SUSPICIOUS = re.compile(r"\b(os\._exit|sys\.exit|exit\(|quit\(|subprocess|os\.system|os\.kill|signal\.|open\(|"
                        r"__import__|importlib|sys\.modules|builtins|pytest|conftest|inspect\.|gc\.|ctypes|"
                        r"threading|multiprocessing|setattr\(|globals\(|/proc)")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION_DIR", help="a student's repository")
    parser.add_argument("--jobs", type=int, default=1, help="grade N submissions at once (default: %(default)s)")
    parser.add_argument("--json", metavar="FILE", help="write Gradescope's results.json (one submission only)")
    parser.add_argument("--csv", metavar="FILE", help="write one row per submission: name, each task, total")
    parser.add_argument("--timeout", type=float, default=testrun.DEFAULT_LIMITS.per_test_seconds,
                        help="seconds one test may take (default: %(default)s)")
    parser.add_argument("--memory-mb", type=int, default=testrun.DEFAULT_LIMITS.memory_mb,
                        help="address space of a test process in MB (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies and print where they are")
    parser.add_argument("--quiet", action="store_true", help="print only the summary, not each submission's table")
    args = parser.parse_args(argv)
    if args.json and len(args.submissions) != 1:
        parser.error("--json writes one submission's results.json; give one SUBMISSION_DIR")
    if args.jobs < 1 or args.timeout <= 0:
        parser.error("need --jobs >= 1 and --timeout > 0")
    return args


def _files(root: str) -> List[str]:
    """Every file below root, relative with '/' separators, skipping caches and version control."""
    found = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_WHILE_COPYING)
        found += [os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/") for name in sorted(names)]
    return found


def _read(path: str) -> str:
    with open(path, "rb") as file:
        return file.read().decode("utf-8", errors="replace")


class Grader:
    def __init__(self, limits: testrun.Limits, keep: bool = False):
        self.limits = limits
        self.keep = keep
        self.handout = handout.build_handout(cut=True)
        self.workdir = tempfile.mkdtemp(prefix="grade-")
        self.expected = testrun.collect_graded_tests(REPO, self.workdir, limits)
        template = os.path.join(REPO, points.FEEDBACK_FILE)
        self.feedback_template = template if os.path.isfile(template) else None

    # ------------------------------------------------------------ integrity
    def integrity(self, submission: str) -> List[str]:
        """What differs from the handout where it should not, and what could change how the tests start."""
        findings = []
        present = set(_files(submission))
        for path, content in self.handout.items():
            if path.startswith("tests/") or path in TRUSTED_FILES:
                if path in present and _read(os.path.join(submission, path)).replace("\r\n", "\n") != \
                        content.decode("utf-8", errors="replace"):
                    startup = " and changes how pytest starts" if path in TRUSTED_FILES else ""
                    findings.append("{} differs from the handout{} (the grader uses its own copy)".format(
                        path, startup))
                continue
            if not path.endswith(".py"):
                continue
            if path not in present:
                findings.append("{} is missing".format(path))
                continue
            findings += self._compare_code(path, content.decode("utf-8"), _read(os.path.join(submission, path)))
        for path in sorted(present - set(self.handout)):
            name = path.rsplit("/", 1)[-1]
            if name == "conftest.py" or name in STARTUP_NAMES or name.endswith(".pth"):
                findings.append("{} changes how Python or pytest start (the grader removed it)".format(path))
            elif path.startswith("tests/"):
                findings.append("{} is not in the handout (the grader uses its own tests)".format(path))
            elif name.endswith(".py"):
                findings.append("{} is a Python file that is not in the handout".format(path))
        for path in sorted(p for p in present if os.path.islink(os.path.join(submission, p))):
            findings.append("{} is a symbolic link (not copied)".format(path))
        return findings

    def _compare_code(self, path: str, expected: str, got: str) -> List[str]:
        try:
            got_outside = without_gap_bodies(got, path)
            bodies = gap_bodies(got, path)
        except GapError as error:
            return ["gap markers broken: {}".format(error)]
        findings = []
        expected_names = [gap.name for gap in find_gaps(expected, path)]
        if sorted(bodies) != sorted(expected_names):
            findings.append("{}: the gaps are {}, the handout has {}".format(path, sorted(bodies), expected_names))
        expected_outside = without_gap_bodies(expected, path)
        if got_outside != expected_outside:
            diff = [line for line in difflib.unified_diff(expected_outside.splitlines(), got_outside.splitlines(),
                                                          "handout", "submission", n=0, lineterm="")
                    if not line.startswith(("---", "+++"))]
            changed = [line for line in diff if line[:1] in "+-"]
            where = next((line for line in diff if line.startswith("@@")), "")
            findings.append("{}: code outside the gaps differs from the handout ({} lines, {}: {})".format(
                path, len(changed), where, changed[0][:100] if changed else ""))
        for name, lines in bodies.items():
            for line in lines:
                match = SUSPICIOUS.search(line)
                if match and not line.strip().startswith("#"):
                    findings.append("{}: gap {} uses '{}': a tutor should look at it".format(
                        path, name, match.group(1)))
                    break
        return findings

    # ------------------------------------------------------------ the scratch copy
    def prepare(self, submission: str, scratch: str) -> None:
        """Copy the submission (no links, no caches), then put this repository's tests and settings over it."""
        for path in _files(submission):
            source = os.path.join(submission, path)
            name = path.rsplit("/", 1)[-1]
            if (os.path.islink(source) or name == "conftest.py" or name in STARTUP_NAMES or name.endswith(".pth")
                    or path.split("/")[0] in TRUSTED_FOLDERS or path in TRUSTED_FILES):
                continue
            target = os.path.join(scratch, *path.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)
        for name in TRUSTED_FILES:
            shutil.copyfile(os.path.join(REPO, name), os.path.join(scratch, name))
        for folder in TRUSTED_FOLDERS:
            shutil.copytree(os.path.join(REPO, folder), os.path.join(scratch, folder),
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if self.feedback_template:
            shutil.copyfile(self.feedback_template, os.path.join(scratch, points.FEEDBACK_TEMPLATE))

    # ------------------------------------------------------------ one submission
    def grade(self, submission: str) -> dict:
        name = os.path.basename(os.path.normpath(submission)) or submission
        started = time.time()
        result = {"name": name, "path": submission, "rows": None, "integrity": [], "notes": [], "error": None}
        scratch = tempfile.mkdtemp(prefix="submission-", dir=self.workdir)
        try:
            if not os.path.isdir(submission):
                raise FileNotFoundError("{} is not a folder".format(submission))
            result["integrity"] = self.integrity(submission)
            root = os.path.join(scratch, "repo")
            os.makedirs(root)
            self.prepare(submission, root)
            run = testrun.run_graded_tests(root, self.expected, self.limits, os.path.join(scratch, "runs"))
            result["notes"] = run["notes"]
            code_rows = {}
            for task in CODE_TASKS:
                ids = [nodeid for nodeid, key in self.expected.items() if key == task.key]
                code_rows[task.key] = points.code_task_row(task, ids, run["outcomes"])
            # The bonus checks run here, in the grader's process, on the scratch copy.
            result["rows"] = points.all_rows(code_rows, points.code_style_row(root),
                                             points.feedback_row(root, self.feedback_template))
        except Exception as error:  # the submission gets a row with score 0 and the reason
            result["error"] = "grading failed: {}: {}".format(type(error).__name__, error)
            result["traceback"] = traceback.format_exc()
        finally:
            if self.keep:
                result["notes"].append("scratch copy kept in {}".format(scratch))
            else:
                shutil.rmtree(scratch, ignore_errors=True)
        result["seconds"] = round(time.time() - started, 1)
        return result

    def close(self) -> None:
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


# ---------------------------------------------------------------- output

def score(result: dict) -> int:
    return points.totals(result["rows"])["code"][0] + points.totals(result["rows"])["bonus"][0] if result["rows"] \
        else 0


def points_of(result: dict, key: str):
    if not result["rows"]:
        return 0
    row = next(row for row in result["rows"] if row.task.key == key)
    return "" if row.points is None else row.points


def report_text(result: dict) -> List[str]:
    lines = ["== {} ({} s) ==".format(result["name"], result.get("seconds", "?"))]
    if result["error"]:
        lines.append("score 0: " + result["error"])
    else:
        lines += points.format_table(result["rows"])
    lines += ["integrity: " + finding for finding in result["integrity"]]
    lines += ["note: " + note for note in result["notes"]]
    return lines


def gradescope(result: dict) -> dict:
    extra = {"integrity": result["integrity"], "notes": result["notes"], "name": result["name"]}
    output = "\n".join(["Integrity: " + finding for finding in result["integrity"]] +
                       ["Note: " + note for note in result["notes"]])
    if result["error"]:
        extra["error"] = result["error"]
        return {"score": 0, "output": "\n".join(part for part in (result["error"], output) if part),
                "extra_data": extra, "tests": []}
    return points.gradescope_results(result["rows"], output=output, extra_data=extra)


def write_csv(results: List[dict], path: str) -> None:
    keys = [task.key for task in TASKS]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["name"] + keys + ["total", "integrity findings", "error"])
        for result in results:
            writer.writerow([result["name"]] + [points_of(result, key) for key in keys] +
                            [score(result), len(result["integrity"]), result["error"] or ""])


def summary(results: List[dict]) -> List[str]:
    keys = [task.key for task in TASKS if task.kind != "tutor"]
    width = max(len(result["name"]) for result in results)
    header = "{:<{}}  {}  total  findings".format("name", width, " ".join("{:>2}".format(
        next(task for task in TASKS if task.key == key).number or key[0]) for key in keys))
    lines = [header]
    for result in results:
        cells = " ".join("{:>2}".format(points_of(result, key)) for key in keys)
        error = "  " + result["error"] if result["error"] else ""
        lines.append("{:<{}}  {}  {:>5}  {:>8}{}".format(result["name"], width, cells, score(result),
                                                         len(result["integrity"]), error))
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    limits = testrun.DEFAULT_LIMITS._replace(per_test_seconds=args.timeout, memory_mb=args.memory_mb)
    try:
        grader = Grader(limits, keep=args.keep)
    except (handout.HandoutError, RuntimeError) as error:
        print("grade: cannot start: {}".format(error), file=sys.stderr)
        return 2
    try:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(grader.grade, args.submissions))
    finally:
        grader.close()
    for result in results:
        if not args.quiet:
            print("\n".join(report_text(result)) + "\n")
        if result.get("traceback"):
            print(result["traceback"], file=sys.stderr)
    print("\n".join(summary(results)))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(gradescope(results[0]), file, indent=2)
    if args.csv:
        write_csv(results, args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
