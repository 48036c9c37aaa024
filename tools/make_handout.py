"""Write the student's handout, generated from this repository (the reference solution):

    python tools/make_handout.py OUTDIR            # OUTDIR must be empty or missing
    python tools/make_handout.py OUTDIR --force    # replace what OUTDIR holds (its .git folder stays)

Only the files that tools/handout_manifest.txt lists go in. In every Python file each gap keeps its
`START TODO` / `END TODO` marker lines and its leading instruction comments; its code becomes
`raise NotImplementedError("<function> is not implemented yet")`. README.md loses its last section, the pointer
to the instructor's guide (tools/handout.py builds the files; this tool proves them and writes them).

Before writing, it refuses a code task of grading/tasks.py without its gap, its value check or a test marked for it,
code tasks not numbered 1, 2, ... in order, and a test marker no task has, and proves, in
temporary copies (see prove()), that the reference solution passes every graded test and value check, that each
fails in the cut handout with its gap's not-implemented message, that each task's tests and value check need no
gap but those its task declares, that the tests collect, and that pycodestyle finds nothing.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from grading import points, style, value_checks, values  # noqa: E402  (after the repository root is on sys.path)
from grading.gaps import fill_gaps, gap_bodies  # noqa: E402
from grading.points import NOT_IMPLEMENTED  # noqa: E402
from grading.tasks import CODE_TASKS, REGISTRY_PROBLEMS, TASK_BY_GAP, TASKS_BY_KEY, VALUE_CHECKS  # noqa: E402
from tools import handout, solution_copies, testrun  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", help="the folder to write the handout into")
    parser.add_argument("--force", action="store_true", help="write into a non-empty OUTDIR, replacing its files")
    return parser.parse_args(argv)


def check_registry(files: dict) -> None:
    """Every code task of grading/tasks.py has its gap, in its file, and a value check; there are no other gaps."""
    from grading import checks  # noqa: F401  (importing it registers the value checks)

    found = handout.gaps_by_name(files)
    expected = {task.gap: task.file for task in CODE_TASKS}
    problems = list(REGISTRY_PROBLEMS)
    problems += ["gap {} of task {} should be in {}, found {}".format(
        gap, TASK_BY_GAP[gap].number, path, found.get(gap, "nowhere"))
        for gap, path in expected.items() if found.get(gap) != path]
    problems += ["{}: gap {} belongs to no task of grading/tasks.py".format(path, gap)
                 for gap, path in found.items() if gap not in expected]
    problems += ["task {} ({}) has no value check: register one in grading/checks.py with "
                 "@value_check({!r})".format(task.number, task.key, task.key)
                 for task in CODE_TASKS if task.key not in VALUE_CHECKS]
    problems += ["task {} needs {!r}, which is no code task".format(task.key, need)
                 for task in CODE_TASKS for need in task.needs if need not in TASKS_BY_KEY]
    numbers = [task.number for task in CODE_TASKS]
    if numbers != list(range(1, len(CODE_TASKS) + 1)):
        problems.append("the code tasks are numbered {}, expected 1 to {} in the order of grading/tasks.py, each "
                        "once".format(numbers, len(CODE_TASKS)))
    if problems:
        raise handout.HandoutError("; ".join(problems))


def expected_failure(task_key: str, outcome: dict) -> bool:
    """In the cut handout, a graded test or value check must fail on the empty gap of its own task, or of a task
    it declares in `needs`: the outcome's NOT_IMPLEMENTED property names that task."""
    missing = outcome.get("properties", {}).get(NOT_IMPLEMENTED)
    return outcome["outcome"] == "failed" and missing in (task_key,) + tuple(TASKS_BY_KEY[task_key].needs)


def only(files_solution: dict, files_cut: dict, keys) -> dict:
    """The handout with the reference solution in the gaps of the tasks `keys` only."""
    files = dict(files_cut)
    for task in (TASKS_BY_KEY[key] for key in keys):
        path = task.file
        bodies = gap_bodies(files_solution[path].decode("utf-8"), path)
        files[path] = fill_gaps(files[path].decode("utf-8"), {task.gap: bodies[task.gap]}, path).encode("utf-8")
    return files


def prove(files_solution: dict, files_cut: dict, workdir: str) -> list:
    """The checks before writing; returns a list of problems (empty when the handout is right).

    - the reference solution passes every graded test and value check, and its value checks' outputs in a test
      process equal those computed here (so the grader's comparison is sound);
    - with the gaps cut, every graded test and value check fails with the not-implemented message of its own gap or
      of one its task declares in `needs`;
    - for each task, a handout with only that task's gap and its needs filled passes all of the task's tests and
      its value check: a task's tests and check use no other gap than it declares;
    - the handout's tests collect without errors, and pycodestyle finds nothing.
    """
    seed = int.from_bytes(os.urandom(4), "little")
    trees = {"solution": (files_solution, ["-m", testrun.marker_expression()]),
             "cut": (files_cut, ["-m", testrun.marker_expression()]),
             # --strict-markers: a misspelt task marker stops the collection, naming the marker, instead of
             # leaving its test out of every task.
             "collect": (files_cut, ["--collect-only", "--strict-markers"])}
    for task in CODE_TASKS:
        trees["only " + task.key] = (only(files_solution, files_cut, (task.key,) + tuple(task.needs)),
                                     ["-m", task.key])
    results = {}

    def run(name):
        files, args = trees[name]
        root = os.path.join(workdir, name.replace(" ", "-"))
        handout.write_files(files, root)
        log = os.path.join(workdir, name + ".jsonl")
        output = os.path.join(workdir, name + ".txt")
        extra = [] if name == "collect" else ["--value-seed", str(seed), "tests", testrun.VALUE_CHECKS]
        verdict = testrun.run_once(root, args + extra, log, testrun.DEFAULT_LIMITS, output,
                                   scratch=os.path.join(workdir, name.replace(" ", "-") + "-run"))
        with open(output, encoding="utf-8", errors="replace") as printed:
            results[name] = (verdict, testrun.read_log(log), printed.read()[-2000:])

    # Our own code: one pytest process per check, two at a time.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, trees))

    problems = []
    for name in trees:
        verdict, log, output = results[name]
        if verdict != "finished" or log.errors:
            problems.append("the graded tests of the {} did not run through ({}):\n{}".format(name, verdict, output))
    expected = results["solution"][1].collected
    # A value check is no test: a task without one would be counted as passing no test at all, and lose its points.
    tested = {key for nodeid, key in expected.items() if not nodeid.startswith(testrun.VALUE_CHECKS)}
    problems += ["task {} ({}) has no graded test: mark its tests with @pytest.mark.{}".format(
        task.number, task.key, task.key) for task in CODE_TASKS if task.key not in tested]
    for nodeid, task_key in expected.items():
        for name in ("solution", "only " + task_key):
            outcome = results[name][1].outcomes.get(nodeid, {"outcome": "not run", "message": ""})
            if outcome["outcome"] != "passed":
                problems.append("with {}, {} fails ({}): {}".format(
                    "the reference solution" if name == "solution" else "only the gaps task {} declares".format(
                        task_key), nodeid, outcome["outcome"], outcome["message"].strip()[-300:]))
            elif nodeid.startswith(testrun.VALUE_CHECKS):
                difference = values.compare(value_checks.outputs(task_key, seed),
                                            outcome.get("properties", {}).get("values"))
                if difference:
                    problems.append("{}: the reference's outputs in a test process differ from those computed by "
                                    "the grader ({}): is the check deterministic given its rng?".format(
                                        nodeid, difference))
        outcome = results["cut"][1].outcomes.get(nodeid, {"outcome": "not run", "message": ""})
        if not expected_failure(task_key, outcome):
            problems.append("in the handout, {} should fail with the not-implemented message of its gap (or of one "
                            "its task declares in needs), it gave {}: {}".format(
                                nodeid, outcome["outcome"], outcome["message"].strip()[-300:]))
    verdict, log, output = results["collect"]
    if verdict != "finished" or log.errors:
        problems.append("the handout's tests do not collect ({}):\n{}".format(verdict, output))
    problems += pycodestyle_problems(os.path.join(workdir, "collect"))
    return problems


def pycodestyle_problems(root: str) -> list:
    """What pycodestyle finds in the handout's Python files (our own: checked in this process)."""
    paths = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        paths += [os.path.join(directory, name) for name in sorted(names) if name.endswith(".py")]
    found = style.check({path: style.read_source(path) for path in paths}, points.max_line_length(root))
    return ["pycodestyle: {}:{}:{}: {} {}".format(os.path.relpath(problem.path, root), problem.line, problem.column,
                                                  problem.code, problem.text) for problem in found.problems]


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


def refresh_master_readme() -> bool:
    """The master's README.md with its registry blocks rendered from grading/tasks.py, as the handout's are;
    whether it changed."""
    path = os.path.join(REPO, "README.md")
    with open(path, encoding="utf-8", newline="") as file:
        text = file.read()
    rendered = handout.with_registry_blocks(text)
    if rendered == text:
        return False
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write(rendered)
    return True


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
        check_registry(files_cut)
        copies = solution_copies.in_handout(files_cut, files_solution)
        if copies:
            raise handout.HandoutError("code outside the gaps gives an answer away: " + "; ".join(copies))
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
        refreshed = refresh_master_readme()
    except handout.HandoutError as error:
        print("make_handout: {}".format(error), file=sys.stderr)
        return 1
    print("make_handout: wrote {} files with {} gaps to {} in {:.1f} s; the solution passes every graded test, "
          "the handout fails each with its not-implemented message".format(
              len(files_cut), len(CODE_TASKS), outdir, time.time() - started))
    if refreshed:
        print("make_handout: README.md's registry blocks (the task table, the points) were rendered anew from "
              "grading/tasks.py: commit them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
