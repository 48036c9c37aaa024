"""Grade student submissions of exercise 3: the grade of record, which no submission can forge.

    python tools/grade.py SUBMISSION_DIR [SUBMISSION_DIR ...] [--jobs N] [--csv FILE] [--json FILE]
    python tools/grade.py clones/*/ --jobs 2 --csv grades.csv      # a class, one folder per student

For each submission:
  1. read: the submission is listed and read without following links, opening FIFOs or devices, or reading more
     than 1 MB of a file (tools/submission.py); virtual environments, version control and caches are skipped;
  2. rebuild: the graded tree is this repository's handout with only the student's gap bodies spliced in, their
     feedback.md, and the hidden tests (tools/rebuild.py). Nothing else of the submission is used; what differs
     elsewhere is reported as an integrity finding for a tutor;
  3. police: every gap body is checked against the policy of grading/gap_policy.py before anything runs; a gap that
     breaks it is not run, its task scores 0 and the report names the gap, the line and the construct;
  4. isolate: the graded tests run in a sandbox (tools/sandbox.py: bubblewrap, else a separate unprivileged user;
     without either, grading needs --no-sandbox and every report says so), with a per-test timeout and limits
     on CPU time, memory, file size and processes. A crash, exit or hang costs the task of the test it happened
     in; the run goes on with the rest. No process of a run survives it;
  5. score: a code task earns its points when all of its tests pass, read from the log the points plugin writes
     test by test (never from what the tests print); the bonus checks run here, on the rebuilt tree.
Results (terminal, --csv, --json) are written after every sandboxed process has ended. Text that student code
controls is cut to 300 characters in them, and a hidden test's failure shows only that a hidden test failed.
Exit code 0 whenever grading ran, whatever the scores; 2 for wrong arguments or when no sandbox can run.
"""
import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import List

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from grading import oracle, points  # noqa: E402  (after the repository root is on sys.path)
from grading.tasks import CODE_TASKS, TASKS  # noqa: E402
from tools import handout, rebuild, sandbox as sandboxes, testrun  # noqa: E402
from tools.submission import read_submission, safe_text  # noqa: E402


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
    parser.add_argument("--sandbox", choices=("auto", "bwrap", "user"), default="auto",
                        help="bwrap: bubblewrap; user: a separate unprivileged user (needs root); auto: bwrap if "
                             "it runs here, else user (default: %(default)s)")
    parser.add_argument("--sandbox-user", default=sandboxes.DEFAULT_USER,
                        help="the unprivileged user of the separate-user fallback (default: %(default)s)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run the tests without a sandbox, as this user; every report says so")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies and print where they are")
    parser.add_argument("--quiet", action="store_true", help="print only the summary, not each submission's table")
    args = parser.parse_args(argv)
    if args.json and len(args.submissions) != 1:
        parser.error("--json writes one submission's results.json; give one SUBMISSION_DIR")
    if args.jobs < 1 or args.timeout <= 0:
        parser.error("need --jobs >= 1 and --timeout > 0")
    return args


class Grader:
    def __init__(self, limits: testrun.Limits, sandbox: sandboxes.Sandbox, keep: bool = False,
                 check_policy: bool = True):
        """check_policy=False runs every gap as it is: only for testing the sandbox on its own."""
        self.limits = limits
        self.sandbox = sandbox
        self.keep = keep
        self.check_policy = check_policy
        self.handout = handout.build_handout(cut=True)
        self.workdir = tempfile.mkdtemp(prefix="grade-")
        reference = os.path.join(self.workdir, "reference")
        rebuild.write_tree(self.handout, reference, REPO)
        self.expected = testrun.collect_graded_tests(reference, self.workdir, limits)
        # The second verdict (grading/oracle.py): every gap on random inputs drawn for this run, against the
        # reference solution's outputs, computed here, outside any submission's process.
        self.seed = int.from_bytes(os.urandom(4), "little")
        solution = os.path.join(self.workdir, "solution")
        rebuild.write_tree(handout.build_handout(cut=False), solution, REPO)
        self.reference = testrun.run_oracle(solution, self.seed, limits, os.path.join(self.workdir, "oracle"))
        broken = [key for key in oracle.CASES if "outputs" not in self.reference.get(key, {})]
        if broken:
            raise RuntimeError("the reference solution fails the grader's own check (grading/oracle.py) for {}: {}"
                               .format(broken, self.reference))
        self.wanted = [path for path in self.handout if path.endswith(".py")] + [points.FEEDBACK_FILE]
        # The separate-user sandbox ends all processes of its user after a run: one submission at a time.
        self.one_at_a_time = threading.Lock() if not sandbox.parallel else None

    def grade(self, submission: str) -> dict:
        if self.one_at_a_time is None:
            return self.grade_now(submission)
        with self.one_at_a_time:
            return self.grade_now(submission)

    def grade_now(self, submission: str) -> dict:
        name = os.path.basename(os.path.normpath(submission)) or submission
        started = time.time()
        result = {"name": name, "path": submission, "rows": None, "integrity": [], "policy": [], "notes": [],
                  "error": None}
        scratch = tempfile.mkdtemp(prefix="submission-", dir=self.workdir)
        try:
            built = rebuild.rebuild(self.handout, read_submission(submission, self.wanted),
                                    check_policy=self.check_policy)
            result["integrity"] = built.findings
            result["policy"] = [gap.message for gap in built.gaps.values() if gap.status == "rejected"]
            tree = os.path.join(scratch, "tree")
            rebuild.write_tree(built.files, tree, REPO)
            not_run = {gap.task.key: gap for gap in built.gaps.values() if gap.status in ("rejected", "missing")}
            run = testrun.run_graded_tests(tree, self.expected, self.limits, os.path.join(scratch, "runs"),
                                           sandbox=self.sandbox, skip_tasks=set(not_run))
            result["notes"] = run["notes"]
            checked = oracle.compare(self.reference, testrun.run_oracle(
                tree, self.seed, self.limits, os.path.join(scratch, "oracle"), self.sandbox))
            code_rows = {}
            for task in CODE_TASKS:
                if task.key in not_run:
                    code_rows[task.key] = points.Row(task, 0, "failed", "not run: " + not_run[task.key].message)
                    continue
                ids = [nodeid for nodeid, key in self.expected.items() if key == task.key]
                row = points.code_task_row(task, ids, run["outcomes"])
                if row.status == "passed" and checked.get(task.key):
                    # The tests said passed; the numbers, compared here, say otherwise. The numbers count.
                    row = points.Row(task, 0, "failed", "its tests passed, but " + checked[task.key])
                code_rows[task.key] = row
            # The bonus checks run here, in the grader's process, on the rebuilt tree (they only read files).
            result["rows"] = points.all_rows(code_rows, points.code_style_row(tree), points.feedback_row(tree))
        except Exception as error:  # the submission gets a row with score 0 and the reason
            result["error"] = "grading failed: {}: {}".format(type(error).__name__, safe_text(error))
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
    if not result["rows"]:
        return 0
    total = points.totals(result["rows"])
    return total["code"][0] + total["bonus"][0]


def points_of(result: dict, key: str):
    if not result["rows"]:
        return 0
    row = next(row for row in result["rows"] if row.task.key == key)
    return "" if row.points is None else row.points


def report_lines(result: dict, sandbox: sandboxes.Sandbox) -> List[str]:
    """What a tutor and the student may both read: policy, integrity, notes, and the sandbox if there was none."""
    lines = []
    if sandbox.mode == "none":
        lines.append("Sandbox: " + sandbox.describe())
    lines += ["Policy: " + safe_text(message) for message in result["policy"]]
    lines += ["Integrity: " + safe_text(finding) for finding in result["integrity"]]
    lines += ["Note: " + safe_text(note) for note in result["notes"]]
    return lines


def report_text(result: dict, sandbox: sandboxes.Sandbox) -> List[str]:
    lines = ["== {} ({} s) ==".format(result["name"], result.get("seconds", "?"))]
    if result["error"]:
        lines.append("score 0: " + result["error"])
    else:
        lines += points.format_table(result["rows"])
    return lines + [line[0].lower() + line[1:] for line in report_lines(result, sandbox)]


def gradescope(result: dict, sandbox: sandboxes.Sandbox) -> dict:
    extra = {"integrity": result["integrity"], "policy": result["policy"], "notes": result["notes"],
             "name": result["name"], "sandbox": sandbox.describe()}
    output = "\n".join(report_lines(result, sandbox))
    if result["error"]:
        extra["error"] = result["error"]
        return {"score": 0, "output": "\n".join(part for part in (result["error"], output) if part),
                "extra_data": extra, "tests": []}
    return points.gradescope_results(result["rows"], output=output, extra_data=extra)


def write_csv(results: List[dict], path: str, sandbox: sandboxes.Sandbox) -> None:
    keys = [task.key for task in TASKS]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["name"] + keys + ["total", "integrity findings", "error"])
        for result in results:
            # A gap that broke the policy counts as a finding for a tutor (the terminal report and results.json
            # name it); without a sandbox, every row says so in its error column.
            error = result["error"] or ("graded without a sandbox" if sandbox.mode == "none" else "")
            writer.writerow([result["name"]] + [points_of(result, key) for key in keys] +
                            [score(result), len(result["integrity"]) + len(result["policy"]), safe_text(error)])


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
                                                         len(result["integrity"]) + len(result["policy"]), error))
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    limits = testrun.DEFAULT_LIMITS._replace(per_test_seconds=args.timeout, memory_mb=args.memory_mb)
    try:
        sandbox = sandboxes.choose("none" if args.no_sandbox else args.sandbox, limits, args.sandbox_user,
                                   private=[path for path in args.submissions if os.path.isdir(path)])
        grader = Grader(limits, sandbox, keep=args.keep)
    except (handout.HandoutError, RuntimeError) as error:
        print("grade: cannot start: {}".format(error), file=sys.stderr)
        return 2
    print("grade: sandbox: {}".format(sandbox.describe()), file=sys.stderr)
    jobs = args.jobs if sandbox.parallel else 1
    if jobs < args.jobs:
        print("grade: the separate-user sandbox grades one submission at a time (--jobs {} ignored)".format(
            args.jobs), file=sys.stderr)
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(grader.grade, args.submissions))
    finally:
        grader.close()
    # Every sandboxed process has ended by now (each run waits for its own); only now are results written.
    for result in results:
        if not args.quiet:
            print("\n".join(report_text(result, sandbox)) + "\n")
        if result.get("traceback"):
            print(result["traceback"], file=sys.stderr)
    print("\n".join(summary(results)))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(gradescope(results[0], sandbox), file, indent=2)
    if args.csv:
        write_csv(results, args.csv, sandbox)
    return 0


if __name__ == "__main__":
    sys.exit(main())
