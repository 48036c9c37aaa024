"""Build the Gradescope autograder zip around tools/grade.py:

    python tools/gradescope/build_autograder_zip.py autograder.zip

The zip holds setup.sh and run_autograder at its top level (where Gradescope looks for them) and every
file git tracks in this repository next to them, hidden tests included; Gradescope unpacks it into
/autograder/source. Commit first: files git does not track are left out.
"""
import argparse
import os
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TOP_LEVEL = ("setup.sh", "run_autograder")


def tracked_files(repo: str) -> list:
    output = subprocess.run(["git", "ls-files", "-z"], cwd=repo, check=True, stdout=subprocess.PIPE).stdout
    return sorted(path for path in output.decode("utf-8").split("\0") if path and os.path.isfile(
        os.path.join(repo, path)))


def build(target: str, repo: str = REPO) -> list:
    """Write the zip; returns the names in it."""
    names = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in TOP_LEVEL:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # Gradescope runs them as programs
            with open(os.path.join(HERE, name), "rb") as file:
                archive.writestr(info, file.read())
            names.append(name)
        for path in tracked_files(repo):
            if path not in TOP_LEVEL:
                archive.write(os.path.join(repo, path), path)
                names.append(path)
    return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", help="the zip file to write, e.g. autograder.zip")
    args = parser.parse_args(argv)
    names = build(args.target)
    print("wrote {} with {} files; upload it as the assignment's autograder on Gradescope".format(
        args.target, len(names)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
