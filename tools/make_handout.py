"""Write the student's handout, generated from this repository (the reference solution):

    python tools/make_handout.py OUTDIR            # OUTDIR must be empty or missing
    python tools/make_handout.py OUTDIR --force    # replace what OUTDIR holds (its .git folder stays)

Only the files that tools/handout_manifest.txt lists go in. In every Python file each gap keeps its
`START TODO` / `END TODO` marker lines and its leading instruction comments; its code becomes
`raise NotImplementedError("<function> is not implemented yet")`. Markdown files lose the blocks between
`<!-- instructor-only:start -->` and `<!-- instructor-only:end -->`.

Before writing, it proves the handout works, in temporary copies: the reference solution passes every
graded test (hidden ones too); with the gaps cut, every graded test fails with its gap's not-implemented
message; the handout's tests collect without errors; and pycodestyle finds nothing (with setup.cfg's line length).
"""
import argparse
import os
import shutil
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from grading import points  # noqa: E402  (after the repository root is on sys.path)
from grading.tasks import CODE_TASKS, TASK_BY_GAP  # noqa: E402  (after the repository root is on sys.path)
from tools import handout, testrun  # noqa: E402

HIDDEN_TESTS = os.path.join("tests", "hidden")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", help="the folder to write the handout into")
    parser.add_argument("--force", action="store_true", help="write into a non-empty OUTDIR, replacing its files")
    return parser.parse_args(argv)


def copy_hidden_tests(target: str) -> None:
    source = os.path.join(REPO, HIDDEN_TESTS)
    if os.path.isdir(source):
        shutil.copytree(source, os.path.join(target, HIDDEN_TESTS),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def check_gap_names(files: dict) -> None:
    """Every task of grading/tasks.py has its gap, in its file, and there are no other gaps."""
    found = handout.gaps_by_name(files)
    expected = {task.gap: task.file for task in CODE_TASKS}
    problems = ["gap {} of task {} should be in {}, found {}".format(gap, TASK_BY_GAP[gap].number, path,
                                                                     found.get(gap, "nowhere"))
                for gap, path in expected.items() if found.get(gap) != path]
    problems += ["{}: gap {} belongs to no task of grading/tasks.py".format(path, gap)
                 for gap, path in found.items() if gap not in expected]
    if problems:
        raise handout.HandoutError("; ".join(problems))


def expected_failure(nodeid: str, task_key: str, message: str) -> bool:
    """A graded test of the cut handout must fail with the not-implemented message of its gap or another's."""
    own = next(task for task in CODE_TASKS if task.key == task_key)
    first = message.strip().splitlines()[-1] if message.strip() else ""
    return (first.startswith(own.gap + " is not implemented yet")
            or (first.startswith("This test of {} needs ".format(own.gap)) and "is not implemented yet" in first))


def prove(files_solution: dict, files_cut: dict, workdir: str) -> list:
    """The checks before writing; returns a list of problems (empty when the handout is right)."""
    solution_dir, cut_dir, plain_dir = (os.path.join(workdir, name) for name in ("solution", "cut", "handout"))
    handout.write_files(files_solution, solution_dir)
    handout.write_files(files_cut, cut_dir)
    handout.write_files(files_cut, plain_dir)
    copy_hidden_tests(solution_dir)
    copy_hidden_tests(cut_dir)
    limits = testrun.DEFAULT_LIMITS
    graded = ["-m", testrun.marker_expression()] + testrun.graded_test_files(solution_dir)
    # The code here is ours, so one pytest process per check is enough; the three run at once.
    checks = {"solution": (solution_dir, graded), "cut": (cut_dir, graded), "collect": (plain_dir, ["--collect-only"])}
    results = {}

    def run(name):
        root, args = checks[name]
        log = os.path.join(workdir, name + ".jsonl")
        output = os.path.join(workdir, name + ".txt")
        verdict = testrun.run_once(root, args, log, limits, output, scratch=os.path.join(workdir, name + "-run"))
        with open(output, encoding="utf-8", errors="replace") as file:
            results[name] = (verdict, testrun.read_log(log), file.read()[-2000:])

    threads = [threading.Thread(target=run, args=(name,)) for name in checks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    problems = []
    for name in ("solution", "cut"):
        verdict, log, output = results[name]
        if verdict != "finished" or log.errors:
            problems.append("the graded tests of the {} did not run through ({}):\n{}".format(name, verdict, output))
    expected = results["solution"][1].collected
    missing = sorted({task.key for task in CODE_TASKS} - set(expected.values()))
    problems += ["task {} has no graded test".format(key) for key in missing]
    for nodeid, task_key in expected.items():
        outcome = results["solution"][1].outcomes.get(nodeid, {"outcome": "not run", "message": ""})
        if outcome["outcome"] != "passed":
            problems.append("the reference solution fails {} ({}): {}".format(
                nodeid, outcome["outcome"], outcome["message"].strip()[-300:]))
        outcome = results["cut"][1].outcomes.get(nodeid, {"outcome": "not run", "message": ""})
        if outcome["outcome"] != "failed" or not expected_failure(nodeid, task_key, outcome["message"]):
            problems.append("in the handout, {} should fail with a not-implemented message, it gave {}: {}".format(
                nodeid, outcome["outcome"], outcome["message"].strip()[-300:]))
    verdict, log, output = results["collect"]
    if verdict != "finished" or log.errors:
        problems.append("the handout's tests do not collect ({}):\n{}".format(verdict, output))
    problems += pycodestyle_problems(plain_dir)
    return problems


def pycodestyle_problems(root: str) -> list:
    import pycodestyle

    paths = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        paths += [os.path.join(directory, name) for name in sorted(names) if name.endswith(".py")]
    problems = []

    class Report(pycodestyle.BaseReport):
        def error(self, line_number, offset, text, check):
            code = super().error(line_number, offset, text, check)
            if code:
                problems.append("pycodestyle: {}:{}:{}: {}".format(
                    os.path.relpath(self.filename, root), line_number, offset + 1, text))
            return code

    guide = pycodestyle.StyleGuide(max_line_length=points.max_line_length(root), quiet=True, config_file=False,
                                   parse_argv=False, reporter=Report)
    guide.check_files(paths)
    return problems


def prepare_outdir(outdir: str, force: bool) -> None:
    if os.path.isdir(outdir) and os.listdir(outdir):
        if not force:
            raise handout.HandoutError("{} is not empty; pass --force to replace its files".format(outdir))
        for name in os.listdir(outdir):
            if name == ".git":
                continue  # the handout repository's history stays
            path = os.path.join(outdir, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    elif os.path.exists(outdir) and not os.path.isdir(outdir):
        raise handout.HandoutError("{} exists and is not a folder".format(outdir))
    os.makedirs(outdir, exist_ok=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.time()
    outdir = os.path.abspath(args.outdir)
    try:
        if outdir == REPO:
            raise handout.HandoutError("OUTDIR must not be the repository itself")
        if os.path.isdir(outdir) and os.listdir(outdir) and not args.force:
            raise handout.HandoutError("{} is not empty; pass --force to replace its files".format(outdir))
        files_cut = handout.build_handout(cut=True)
        files_solution = handout.build_handout(cut=False)
        check_gap_names(files_cut)
        workdir = tempfile.mkdtemp(prefix="make-handout-")
        try:
            problems = prove(files_solution, files_cut, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if problems:
            print("make_handout: the handout is not right, nothing was written:", file=sys.stderr)
            for problem in problems:
                print("  - " + problem, file=sys.stderr)
            return 1
        prepare_outdir(outdir, args.force)
        handout.write_files(files_cut, outdir)
    except handout.HandoutError as error:
        print("make_handout: {}".format(error), file=sys.stderr)
        return 1
    print("make_handout: wrote {} files with {} gaps to {} in {:.1f} s; the solution passes every graded test, "
          "the handout fails each with its not-implemented message".format(
              len(files_cut), len(CODE_TASKS), outdir, time.time() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
