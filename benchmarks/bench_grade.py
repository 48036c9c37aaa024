"""Time tools/grade.py on a class of complete submissions: seconds per submission, sandbox included.

    python benchmarks/bench_grade.py                    # 12 submissions, --jobs 2, the sandbox grade.py chooses
    python benchmarks/bench_grade.py --count 20 --jobs 1 --sandbox user

Each submission is the reference solution in the handout's layout, with feedback.md answered. The figure is the
wall time of one grade.py run (start-up and the collection of the graded tests included) divided by the number
of submissions. The target (at most 2 s per submission with --jobs 2 on a 2-core machine) is reported, never
asserted.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from grading.tasks import total  # noqa: E402
from tools import handout  # noqa: E402

TARGET_SECONDS = 2.0


def write_class(root: str, count: int) -> list:
    files = handout.build_handout(cut=False)
    files["feedback.md"] = files["feedback.md"].replace(b"_Replace this line with your answer._", b"none")
    paths = []
    for number in range(count):
        path = os.path.join(root, "student_{:02d}".format(number))
        handout.write_files(files, path)
        paths.append(path)
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=12, help="submissions (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="grade.py --jobs (default: %(default)s)")
    parser.add_argument("--sandbox", default="auto", help="grade.py --sandbox, or none for --no-sandbox")
    parser.add_argument("--python", help="grade.py --python: the students' Python (default: grade.py's)")
    args = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix="bench-grade-")
    os.chmod(root, 0o700)
    try:
        paths = write_class(root, args.count)
        sandbox = ["--no-sandbox"] if args.sandbox == "none" else ["--sandbox", args.sandbox]
        sandbox += ["--python", args.python] if args.python else []
        started = time.perf_counter()
        done = subprocess.run([sys.executable, os.path.join(REPO, "tools", "grade.py"), "--quiet", "--jobs",
                               str(args.jobs)] + sandbox + paths, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(root, ignore_errors=True)
    lines = done.stdout.splitlines()
    chosen = next((line for line in lines if line.startswith("grade: sandbox:")), "")
    totals = {line.split()[-2] for line in lines if line.startswith("student_")}
    print(chosen)
    print("{} submissions, --jobs {}: {:.1f} s in all, {:.2f} s per submission (target <= {:.0f} s: {}); "
          "totals {}".format(args.count, args.jobs, seconds, seconds / args.count, TARGET_SECONDS,
                             "met" if seconds / args.count <= TARGET_SECONDS else "MISSED", sorted(totals)))
    if done.returncode != 0 or totals != {str(total("code") + total("bonus"))}:
        print(done.stdout)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
