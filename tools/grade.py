"""Grade student submissions of exercise 3: the course's grade of record.

    python tools/grade.py SUBMISSION_DIR [SUBMISSION_DIR ...] [--jobs N] [--csv FILE] [--json FILE]
                          [--report DIR] [--tutor-points FILE]
    python tools/grade.py clones/*/ --jobs 2 --csv grades.csv      # a class, one folder per student
    python tools/grade.py clones/*/ --csv grades.csv --report site --tutor-points filled.csv

For each submission:
  1. read: the handout's files by their paths, without following links, opening FIFOs or devices, or reading more
     than 1 MB of a file (tools/submission.py), from the folder that holds the exercise: the submission's own, the
     one folder inside it (a zip of the folder), the one with the most gaps filled of several, or a flat upload;
  2. rebuild: the graded tree is this repository's handout with only the student's gap bodies spliced in, each one
     a block of statements inside its own function (grading/gaps.splice), and their feedback.md. Nothing else of
     the submission runs; what differs elsewhere is an integrity finding for a tutor;
  3. run: the task's tests and its value check run in a sandbox (tools/sandbox.py), a fresh identity per run that
     can read nothing of value, with the grader's own time limits (per test and per submission, kept in this
     process: tools/testrun.py) and limits on memory, disk and processes;
  4. score, in this process: a code task earns its points when its gap was taken, its tests passed, and its value
     check's outputs (on inputs drawn from a seed drawn anew for this grading run) equal the reference solution's,
     computed here (grading/value_checks.py). Forged outcomes can only lose points: the outputs decide.
     The bonus checks read the student's own files here.
Text that a submission controls is neutralised where it lands (terminal, results.json, CSV, and escaped in the
--report site: tools/report/site.py). --tutor-points merges a filled-in copy of the site's tutor_points.csv
(tools/tutor_points.py) into the CSV, the site and results.json.
Exit code 0 whenever grading ran, whatever the scores; 2 for wrong arguments or when no sandbox can run.
"""
import argparse
import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from grading import points, tasks, value_checks, values  # noqa: E402  (after the repository root is on sys.path)
from grading import style as style_check  # noqa: E402
from grading.tasks import CODE_TASKS, TASKS, TASKS_BY_KEY, total  # noqa: E402
from tools import handout, rebuild, sandbox as sandboxes, testrun, totals, tutor_points  # noqa: E402
from tools.report import findings as tutor_findings  # noqa: E402
from tools import course as courses, lms, regrade, submitted as submission_times  # noqa: E402
from tools.result import Result  # noqa: E402
from tools.text import csv_cell, safe_text, submission_name  # noqa: E402

# The interpreter of the sandboxed runs, if not --python: the course promises Python 3.8 (see the README).
PYTHON_VARIABLE = "EXERCISE3_PYTHON"
# The trees' parent folders can be passed by every run's identity: what the grader writes must be private to it
# (tools/sandbox.py's probe refuses the fallback otherwise).
PRIVATE_UMASK = 0o077


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION_DIR", help="a student's repository")
    parser.add_argument("--jobs", type=int, default=1, help="grade N submissions at once (default: %(default)s)")
    parser.add_argument("--json", metavar="FILE", help="write Gradescope's results.json (one submission only)")
    parser.add_argument("--csv", metavar="FILE", help="write one row per submission: name, each task, total")
    parser.add_argument("--timeout", type=float, default=testrun.DEFAULT_LIMITS.per_test_seconds,
                        help="seconds one test may take (default: setup.cfg's, %(default)s)")
    parser.add_argument("--run-limit", type=float, default=testrun.DEFAULT_LIMITS.run_seconds,
                        help="seconds all the test runs of one submission may take together (default: %(default)s)")
    parser.add_argument("--memory-mb", type=int, default=testrun.DEFAULT_LIMITS.memory_mb,
                        help="address space of a test process in MB (default: %(default)s)")
    parser.add_argument("--python", default=os.environ.get(PYTHON_VARIABLE) or sys.executable,
                        help="the Python that runs the students' code, with requirements.txt installed: the sheet's "
                             "Python 3.8 (default: ${} or this Python)".format(PYTHON_VARIABLE))
    parser.add_argument("--sandbox", choices=("auto", "bwrap", "user"), default="auto",
                        help="bwrap: bubblewrap; user: a separate unprivileged identity per run (needs root); auto: "
                             "bwrap if it runs here, else user (default: %(default)s)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run the tests without a sandbox, as this user; every report says so")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies and print where they are")
    parser.add_argument("--quiet", action="store_true", help="print only the summary, not each submission's table")
    parser.add_argument("--report", metavar="DIR", help="also write the class report, a static site, into DIR "
                                                        "(index.html, tutor/, students/, tutor_points.csv)")
    parser.add_argument("--seed", type=int, help="the value checks' seed (default: drawn anew for this run); a "
                                                 "regrade with the seed and kit commit of an earlier run's record "
                                                 "gives the same points")
    parser.add_argument("--previous", metavar="FILE", help="an earlier run's CSV (or results.json): list every "
                                                           "submission whose points changed, and why, and keep its "
                                                           "earlier total in the record")
    parser.add_argument("--course", metavar="FILE", help="the course's decisions: deadline and late policy, "
                        "visibility, LMS columns (default: tools/course.ini; see docs/instructor.md)")
    parser.add_argument("--gradescope-metadata", metavar="FILE", help="Gradescope's submission_metadata.json: the "
                        "submission time and due date of the late policy (tools/gradescope/run_autograder passes it)")
    parser.add_argument("--pushes", metavar="FILE", help="a CSV of name, pushed at (the server's times of the "
                        "clones' last pushes): a push after the deadline is noted beside the commit time")
    parser.add_argument("--roster", metavar="FILE", help="a CSV mapping submissions (or GitHub users) to LMS "
                        "identifiers, for --canvas and --moodle (tools/lms.py)")
    parser.add_argument("--canvas", metavar="FILE", help="write Canvas's gradebook import CSV (needs --roster)")
    parser.add_argument("--moodle", metavar="FILE", help="write Moodle's CSV grade import (needs --roster)")
    parser.add_argument("--published", action="store_true", help="the grades are published: the student pages "
                        "show what the course file makes visible after_published")
    parser.add_argument("--tutor-points", metavar="FILE", help="merge a filled-in copy of tutor_points.csv into "
                                                               "the totals of the CSV, the report and results.json")
    args = parser.parse_args(argv)
    if args.json and len(args.submissions) != 1:
        parser.error("--json writes one submission's results.json; give one SUBMISSION_DIR")
    if args.jobs < 1 or args.timeout <= 0:
        parser.error("need --jobs >= 1 and --timeout > 0")
    return args


def kit_commit() -> str:
    """The master's git commit, with '+changes' when its files differ from it; without git, the commit a Gradescope
    zip was built from (its KIT_COMMIT file), else 'unknown'."""
    try:
        with open(os.path.join(REPO, "KIT_COMMIT"), encoding="utf-8") as file:
            stamped = file.read().strip()[:40] or None
    except OSError:
        stamped = None
    if stamped and not os.path.exists(os.path.join(REPO, ".git")):
        return stamped
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, universal_newlines=True, timeout=30)
        changed = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode != 0 or not head.stdout.strip():
        return "unknown"
    return head.stdout.strip() + ("+changes" if changed.stdout.strip() else "")


def handout_digest(files: dict) -> str:
    """A short SHA-256 of the handout the trees are rebuilt from (its paths and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode("utf-8") + b"\0" + hashlib.sha256(files[path]).digest())
    return digest.hexdigest()[:16]


class Grader:
    def __init__(self, limits: testrun.Limits, sandbox: sandboxes.Sandbox, python: str = sys.executable,
                 keep: bool = False, seed: Optional[int] = None, course: courses.Course = courses.Course(),
                 metadata: Optional[submission_times.Submitted] = None):
        if tasks.REGISTRY_PROBLEMS:  # the value checks name a task the registry does not have
            raise RuntimeError("; ".join(tasks.REGISTRY_PROBLEMS))
        self.limits = limits
        self.course = course
        self.metadata = metadata  # Gradescope's submission time, for its one submission
        self.sandbox = sandbox
        self.python = python
        self.keep = keep
        self.handout = handout.build_handout(cut=True)
        self.platform = platform_of(python)
        self.workdir = tempfile.mkdtemp(prefix="grade-")
        os.chmod(self.workdir, 0o711)  # the runs' identities pass through to their own trees, and see nothing else
        collect = os.path.join(self.workdir, "collect")
        try:
            rebuild.write_tree(self.handout, os.path.join(collect, "tree"))
            self.expected = testrun.collect_graded_tests(os.path.join(collect, "tree"), collect, limits, python)
        except BaseException:
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        shutil.rmtree(collect, ignore_errors=True)
        missing = [task.key for task in CODE_TASKS if not any(
            nodeid.startswith(testrun.VALUE_CHECK_ITEM) and key == task.key for nodeid, key in self.expected.items())]
        if missing:
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise RuntimeError("no value check was collected for {} (grading/checks.py)".format(", ".join(missing)))
        # The reference's outputs, computed here, in the grader's own process, from the master's lib/: they are
        # never on disk, so no run can read them.
        self.seed = int.from_bytes(os.urandom(4), "little") if seed is None else seed
        # What a regrade needs to give the same points: the same seed, kit and handout (and the students' Python).
        self.record = {"seed": self.seed, "kit commit": kit_commit(), "handout": handout_digest(self.handout),
                       "python": self.platform}
        self.reference = {task.key: value_checks.outputs(task.key, self.seed) for task in CODE_TASKS}
        self.wanted = [path for path in self.handout if path.endswith(".py")] + [points.FEEDBACK_FILE]
        # The lines per batch size, for tutors: run after the value checks, never part of a task's verdict.
        self.lines_items = tutor_findings.lines_items()

    def grade(self, submission: str) -> Result:
        name = submission_name(submission)
        started = time.time()
        result = Result(name, submission, platform=self.platform, record=dict(self.record))
        scratch = tempfile.mkdtemp(prefix="submission-", dir=self.workdir)
        try:
            if self.course.late is not None:  # the late policy's input; it is applied once the points are known
                result.submitted = self.metadata or submission_times.from_clone(submission)
            # In a child process within rebuild.READING: no submission's text is parsed in this process.
            submitted, built = rebuild.read_and_rebuild(submission, self.handout, self.wanted)
            result.notes += submitted.notes
            result.root = submitted.root  # the folder graded (one folder down, say): its submission.pdf
            result.integrity = built.findings
            result.policy = [gap.message for gap in built.gaps.values() if gap.status in ("rejected", "missing")]
            result.gaps = {name: gap for name, gap in built.gaps.items()}
            result.feedback = submitted.files.get(points.FEEDBACK_FILE)
            result.sources = tutor_findings.sources_to_keep(submitted.files, built.findings)
            tree = os.path.join(scratch, "tree")
            rebuild.write_tree(built.files, tree)
            not_run = {gap.task.key: gap for gap in built.gaps.values() if gap.status != "filled"}
            for task in CODE_TASKS:  # a task whose needs were not taken cannot pass: say which, run nothing
                missing = [need for need in task.needs if need in not_run and need != task.key]
                if task.key not in not_run and missing:
                    need = TASKS_BY_KEY[missing[0]]
                    not_run[task.key] = rebuild.GapResult(task, "needs", "it needs gap {} ({}), which {}".format(
                        need.number, need.gap, "is not filled yet" if not_run[missing[0]].status == "empty"
                        else "the grader did not take (see its row)"), None)
            run = testrun.run_graded_tests(tree, dict(self.expected, **self.lines_items), self.seed, self.limits,
                                           os.path.join(scratch, "runs"), self.sandbox, skip_tasks=set(not_run),
                                           python=self.python)
            result.notes += run.notes
            result.lines = tutor_findings.lines_counts(run.outcomes)
            result.vectorisation = tutor_findings.vectorisation(result.lines)
            code_rows = {task.key: self.verdict(task, not_run.get(task.key), run.outcomes) for task in CODE_TASKS}
            filled = sum(gap.status == "filled" for gap in built.gaps.values())
            style = points.code_style_row(own_files(submitted, os.path.join(scratch, "own"), self.handout), filled,
                                          style_check.GRADER)
            if points.FEEDBACK_FILE in submitted.files:
                feedback = points.feedback_row(tree)
            else:  # not the handout's template, which the tree holds, but what happened
                feedback = points.Row(TASKS_BY_KEY["feedback"], 0, "failed", safe_text(
                    (submitted.unread or {}).get(points.FEEDBACK_FILE) or "{} is not in the submission".format(
                        points.FEEDBACK_FILE)))
            result.rows = points.all_rows(code_rows, style, feedback)
        except rebuild.ReadingFailed as error:
            result.error = "grading failed: {}".format(safe_text(error))
        except Exception as error:  # the submission gets a row with score 0 and the reason; the others go on
            result.error = "grading failed: {}: {}".format(type(error).__name__, safe_text(error))
            result.traceback = traceback.format_exc()
        finally:
            if self.keep:
                result.notes.append("scratch copy kept in {}".format(scratch))
            else:
                shutil.rmtree(scratch, ignore_errors=True)
        result.seconds = round(time.time() - started, 1)
        return result

    def verdict(self, task, gap: Optional[rebuild.GapResult], outcomes: dict) -> points.Row:
        """The task's row: its gap taken, its tests passed, and its value check's outputs equal to the reference's."""
        if gap is not None:
            detail = {"empty": "the gap is not filled yet"}.get(gap.status, gap.message)
            return points.Row(task, 0, "failed", safe_text(detail))
        ids = [nodeid for nodeid, key in self.expected.items() if key == task.key]
        tests = [nodeid for nodeid in ids if not nodeid.startswith(testrun.VALUE_CHECKS)]
        check = [nodeid for nodeid in ids if nodeid.startswith(testrun.VALUE_CHECK_ITEM)]
        row = points.code_task_row(task, tests, outcomes)
        if row.status != "passed":
            return row._replace(detail=safe_text(row.detail), failure=safe_text(row.failure or ""))
        outcome = outcomes.get(check[0], {})
        if outcome.get("outcome") != "passed":
            message = outcome.get("headline") or points.headline(outcome.get("message", "")) or "it did not run"
            return points.Row(task, 0, "failed", safe_text("its tests passed, but its value check on the grader's "
                                                           "own inputs failed: " + message))
        difference = values.compare(self.reference[task.key], outcome.get("properties", {}).get("values"))
        if difference:
            return points.Row(task, 0, "failed", safe_text("its tests passed, but on the grader's own inputs " +
                                                           difference))
        return points.Row(task, task.points, "passed", "all {} tests passed and its outputs on the grader's own "
                                                       "inputs equal the reference solution's".format(len(tests)))

    def close(self) -> None:
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


def platform_of(python: str) -> str:
    """E.g. 'Python 3.8.18, NumPy 1.24.4': what the students' code runs on, for every report."""
    program = "import sys, numpy; print('Python %d.%d.%d, NumPy %s' % (sys.version_info[:3] + (numpy.__version__,)))"
    try:
        done = subprocess.run([python, "-I", "-c", program], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        raise RuntimeError("cannot run the students' Python {}: {}".format(python, error))
    if done.returncode != 0:
        raise RuntimeError("the students' Python {} cannot import numpy: {}".format(python, done.stdout[-300:]))
    found = done.stdout.strip()
    return found + ("" if found.startswith("Python 3.8.") else " (not the sheet's Python 3.8)")


def own_files(submitted, target: str, handout_files: dict) -> str:
    """The student's own Python files (lib/ and the root scripts, as submitted) and the handout's setup.cfg in
    target, for the code-style bonus: it is judged on what the student wrote. Nothing there is run."""
    for path, text in submitted.files.items():
        if path.endswith(".py") and (path.startswith("lib/") or "/" not in path) and path != "conftest.py":
            full = os.path.join(target, *path.split("/"))
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as file:
                file.write(text)
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "setup.cfg"), "wb") as file:
        file.write(handout_files["setup.cfg"])
    return target


def grade_folders(paths: List[str], jobs: int = 2, sandbox: str = "auto", python: Optional[str] = None,
                  limits: Optional[testrun.Limits] = None, seed: Optional[int] = None,
                  course: courses.Course = courses.Course()) -> List[Result]:
    """Grade the folders as `tools/grade.py PATH... --jobs N` does; the results, in order."""
    os.umask(PRIVATE_UMASK)
    limits = limits or testrun.DEFAULT_LIMITS
    python = python or os.environ.get(PYTHON_VARIABLE) or sys.executable
    chosen = sandboxes.choose(sandbox, limits, private=paths, python=python)
    results = grade_all(Grader(limits, chosen, python, seed=seed, course=course), paths, jobs)
    for result in results:
        apply_course(result, course)
    return results


def grade_all(grader: Grader, paths: List[str], jobs: int) -> List[Result]:
    """The one run loop: every submission through the grader, `jobs` at a time, in order; then the grader's own
    files are removed."""
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(grader.grade, paths))
    finally:
        grader.close()


def apply_course(result: Result, course: courses.Course, pushes: Optional[dict] = None) -> None:
    """result.late: the late policy applied to the points earned (tutor points merged first); a push after
    the deadline that the server recorded is a note beside the commit time."""
    submitted = result.submitted
    if course.late is None or submitted is None:
        return
    due = submitted.due or course.late.due_for(result.name)
    result.late = courses.apply_late_policy(course.late, due, submitted.time, totals.earned(result),
                                            safe_text(submitted.source))
    pushed = (pushes or {}).get(result.name)
    if pushed is not None and pushed > due + course.late.grace:
        result.notes.append("pushed at {}, after the deadline {}, by the server's record; the commit time says "
                            "{}".format(courses.stamp(pushed), courses.stamp(due), courses.stamp(submitted.time)
                                        if submitted.time else "nothing"))


def points_cells(result: Result) -> dict:
    """{task key: points, "total": total} as text, as the CSV writes them: what --previous compares, read back from
    the CSV's columns or from results.json's extra_data.points (tools/regrade.py)."""
    cells = {key: regrade.text_of(points_of(result, key)) for key in regrade.KEYS}
    cells["total"] = regrade.text_of(totals.earned(result))
    return cells


def points_of(result: Result, key: str):
    if key in (result.tutor or {}):
        return tutor_points.number(result.tutor[key])
    if not result.rows:
        return 0
    row = next(row for row in result.rows if row.task.key == key)
    return "" if row.points is None else row.points


def report_lines(result: Result, sandbox: sandboxes.Sandbox, staff: bool = False, hidden=()) -> List[str]:
    """What a tutor and the student may both read: gaps not taken, integrity findings, notes; staff=True adds
    the sandbox's notes, which say what a run could reach and so are never shown to students. hidden: the tasks
    whose rows the course does not show at once; their gaps' lines are left out."""
    lines = ["Platform: " + result.platform] if result.platform else []
    if sandbox.mode == "none":
        lines.append("Sandbox: " + sandbox.describe())
    lines += ["Sandbox: " + safe_text(note) for note in sandbox.notes] if staff else []
    return lines + tutor_findings.student_lines(result, hidden)


def report_text(result: Result, sandbox: sandboxes.Sandbox) -> List[str]:
    lines = ["== {} ({} s) ==".format(result.name, result.seconds)]
    if result.error:
        lines.append("score 0: " + safe_text(result.error))
    else:
        lines += points.format_table(result.rows)
    if result.late is not None:
        lines.append(result.late.line())
    lines.append("record: " + record_text(result))
    lines += [line[0].lower() + line[1:] for line in report_lines(result, sandbox, staff=True)]
    return lines + ["tutor: " + finding for finding in result.vectorisation]  # never in results.json


def record_text(result: Result) -> str:
    """E.g. 'seed 123, kit commit 1a2b..., handout 0f3c..., 2.4 s': what a regrade of this result needs."""
    record = result.record
    return "seed {}, kit commit {}, handout {}, {} s".format(
        record.get("seed", "?"), record.get("kit commit", "?"), record.get("handout", "?"), result.seconds)


def gradescope(result: Result, sandbox: sandboxes.Sandbox, course: courses.Course = courses.Course()) -> dict:
    """Gradescope's results.json (its documented fields only at the top and in each test): the score is the
    points of record; the visibility of each test and of the output is the course file's."""
    extra = {"record": dict(result.record, seconds=result.seconds),
             "integrity": [safe_text(text) for text in result.integrity],
             "gaps not taken": [safe_text(text) for text in result.policy],
             "notes": [safe_text(text) for text in result.notes], "name": result.name,
             "platform": result.platform, "sandbox": sandbox.describe(), "sandbox notes": list(sandbox.notes)}
    late = result.late
    hidden = {task.key for task in TASKS if task.kind != "tutor" and course.visibility.of(task.key) != "visible"}
    # The points earned are left out of the late line, and a hidden task's gap out of the notes.
    output = "\n".join(report_lines(result, sandbox, hidden=hidden) +
                       ([late.line(amounts=not hidden)] if late is not None else []))
    extra["points"] = points_cells(result)
    if late is not None:
        extra["late"] = late.record()
    if result.error:
        extra["error"] = safe_text(result.error)
        text = "\n".join(part for part in (extra["error"], output) if part)
        graded = {"score": 0, "output": text, "extra_data": extra, "tests": []}
    else:
        graded = points.gradescope_results(result.rows, output=output, extra_data=extra,
                                           visibility=course.visibility.of)
    graded = tutor_points.gradescope(graded, result)
    graded["score"] = totals.of_record(result)
    graded["execution_time"] = result.seconds  # Gradescope's field: seconds the grading took
    # Plain text: the output and the tests' messages quote text a submission controls, which Markdown would render.
    graded.update(visibility=course.visibility.tests, stdout_visibility=course.visibility.output,
                  output_format="text", test_output_format="text")
    return graded


def write_csv(results: List[Result], path: str, sandbox: sandboxes.Sandbox) -> None:
    keys = [task.key for task in TASKS]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["name"] + keys + ["total", "late penalty", "points of record", "submitted", "due",
                                           "submission time from", "integrity findings", "error", "sandbox notes",
                                           "seed", "kit commit", "handout", "python", "seconds", "previous total"])
        for result in results:
            # A gap not taken counts as a finding for a tutor (the terminal report and results.json name it);
            # without a sandbox, every row says so in its error column.
            error = result.error or ("graded without a sandbox" if sandbox.mode == "none" else "")
            writer.writerow([csv_cell(result.name)] + [points_of(result, key) for key in keys] +
                            [totals.earned(result)] + late_cells(result) +
                            [result.findings(), csv_cell(error), csv_cell("; ".join(sandbox.notes))] +
                            [result.record.get(key, "") for key in ("seed", "kit commit", "handout", "python")] +
                            [result.seconds, result.record.get("previous total", "")])


def late_cells(result: Result) -> list:
    """late penalty, points of record, submitted, due, and where the time came from ("" without a policy)."""
    late = result.late
    if late is None:
        return ["", totals.of_record(result), "", "", ""]
    return [tutor_points.number(late.penalty), totals.of_record(result), courses.stamp(late.submitted) if late.submitted
            else "", courses.stamp(late.due) if late.due else "", late.source]


def export_to_lms(results: List[Result], roster: lms.Roster, course: courses.Course, canvas: Optional[str],
                  moodle: Optional[str]) -> List[str]:
    """Write the LMS files; the lines that say what was written and who is on one side only."""
    names = [csv_cell(result.name) for result in results]
    # Two folders whose names read the same (a space or an invisible character apart) cannot be told apart by
    # the roster: neither is exported.
    twice = sorted({name for name in names if names.count(name) > 1})
    matching = lms.match(roster, [name for name in names if name not in twice], course.lms.folder_prefix)
    keys = [task.key for task in TASKS]
    cells = {name: dict({key: points_of(result, key) for key in keys}, **{
        "points of record": totals.of_record(result),
        "late penalty": -result.late.penalty if result.late is not None else ""})
        for name, result in zip(names, results)}
    possible = {task.key: task.points for task in TASKS}
    possible.update({"points of record": total("code") + total("tutor"), "late penalty": None})
    titles = lms.columns(course.lms, keys, course.late is not None)
    lines = []
    if canvas:
        lms.write_canvas(canvas, matching, titles, cells, possible)
        lines.append("grade: Canvas's gradebook import: {} ({} students)".format(canvas, len(matching.pairs)))
    if moodle:
        lms.write_moodle(moodle, matching, titles, cells)
        lines.append("grade: Moodle's grade import: {} ({} students)".format(moodle, len(matching.pairs)))
    lines += ["grade: not in the roster, so in no LMS file: {}".format(name) for name in matching.no_roster_row]
    lines += ["grade: two submissions are named {}: neither is in an LMS file; rename their folders".format(name)
              for name in twice]
    lines += ["grade: in the roster but not graded, so in no LMS file: {}".format(row)
              for row in matching.no_submission]
    return lines


def summary(results: List[Result]) -> List[str]:
    keys = [task.key for task in TASKS if task.kind != "tutor"]
    width = max([len("name")] + [len(result.name) for result in results])
    header = "{:<{}}  {}  total  findings".format("name", width, " ".join("{:>2}".format(
        next(task for task in TASKS if task.key == key).number or key[0]) for key in keys))
    late = any(result.late is not None for result in results)
    lines = [header.replace("total", "total  record") if late else header]
    for result in results:
        cells = " ".join("{:>2}".format(points_of(result, key)) for key in keys)
        error = "  " + safe_text(result.error) if result.error else ""
        earned = totals.earned(result)
        points_text = "{:>5}  {:>6}".format(earned, totals.of_record(result)) if late else "{:>5}".format(earned)
        lines.append("{:<{}}  {}  {}  {:>8}{}".format(result.name, width, cells, points_text,
                                                      result.findings(), error))
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    os.umask(PRIVATE_UMASK)
    try:  # a filled-in file with a mistake stops here, before the class is graded
        tutor = tutor_points.read(args.tutor_points, [csv_cell(submission_name(path)) for path in args.submissions]
                                  ) if args.tutor_points else None
    except tutor_points.TutorPointsError as error:
        print("grade: --tutor-points: {}".format(error), file=sys.stderr)
        return 2
    try:
        previous = regrade.read(args.previous) if args.previous else None
    except regrade.PreviousError as error:
        print("grade: --previous: {}".format(error), file=sys.stderr)
        return 2
    if (args.canvas or args.moodle) and not args.roster:
        print("grade: --canvas and --moodle need --roster FILE (tools/lms.py says what it holds)", file=sys.stderr)
        return 2
    try:  # the course's files are read before the class is graded, so that a mistake in them costs no run
        course = courses.read(args.course)
        metadata = submission_times.from_gradescope(args.gradescope_metadata) if args.gradescope_metadata else None
        pushes = submission_times.read_pushes(args.pushes) if args.pushes else {}
        roster = lms.read_roster(args.roster) if args.roster else None
    except (courses.CourseError, lms.RosterError) as error:
        print("grade: {}".format(error), file=sys.stderr)
        return 2
    if args.report:
        try:
            from tools.report import site  # Jinja2 and matplotlib: needed for the report only
        except ImportError as error:
            print("grade: --report needs Jinja2 and matplotlib (pip install -r requirements-dev.txt): {}".format(
                error), file=sys.stderr)
            return 2
    limits = testrun.DEFAULT_LIMITS._replace(per_test_seconds=args.timeout, run_seconds=args.run_limit,
                                             memory_mb=args.memory_mb)
    try:
        sandbox = sandboxes.choose("none" if args.no_sandbox else args.sandbox, limits,
                                   private=[path for path in args.submissions if os.path.isdir(path)],
                                   python=args.python)
        grader = Grader(limits, sandbox, args.python, keep=args.keep, seed=args.seed, course=course,
                        metadata=metadata)
    except (handout.HandoutError, RuntimeError, OSError) as error:
        print("grade: cannot start: {}".format(error), file=sys.stderr)
        return 2
    print("grade: sandbox: {}; Python: {}".format(sandbox.describe(), args.python), file=sys.stderr)
    # SIGTERM (a class run cancelled, Gradescope's timeout): every run is killed and reaped, nothing is written.
    signal.signal(signal.SIGTERM, lambda number, frame: sandboxes.stop_all())
    results = grade_all(grader, args.submissions, args.jobs)
    if sandboxes.STOPPED.is_set():
        print("grade: stopped by SIGTERM: every run was killed; no results written", file=sys.stderr)
        return 128 + signal.SIGTERM
    # Every sandboxed process has ended by now (each run waits for its own); only now are results written.
    for result in results:
        if tutor is not None:
            tutor_points.merge(result, tutor.get(csv_cell(result.name)))
        apply_course(result, course, pushes)
        if not args.quiet:
            print("\n".join(report_text(result, sandbox)) + "\n")
        if result.traceback:
            print(result.traceback, file=sys.stderr)
    print("\n".join(summary(results)))
    changes = []
    if previous is not None:
        now = OrderedDict((csv_cell(result.name), points_cells(result)) for result in results)
        why = {csv_cell(result.name): {row.task.key: safe_text(row.detail, 160) for row in result.rows or []}
               for result in results}
        changes = regrade.lines(regrade.compare(previous, now), args.previous, why)
        for result in results:
            before = previous.get(csv_cell(result.name))
            result.record["previous total"] = before["total"] if before else ""
        print("\n".join(changes))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(gradescope(results[0], sandbox, course), file, indent=2)
    if args.csv:
        write_csv(results, args.csv, sandbox)
    if roster is not None:
        try:
            print("\n".join(export_to_lms(results, roster, course, args.canvas, args.moodle)), file=sys.stderr)
        except (lms.RosterError, OSError) as error:
            print("grade: {}".format(error), file=sys.stderr)
            return 2
    if args.report:
        site.write_site(args.report, results, sandbox.describe(), graded_without_sandbox=sandbox.mode == "none",
                        sandbox_notes=sandbox.notes, changes=changes, course=course, published=args.published)
        tutor_points.write_template(os.path.join(args.report, "tutor_points.csv"),
                                    [csv_cell(result.name) for result in results], tutor)
        print("grade: the class report is in {}".format(os.path.join(args.report, "index.html")), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
