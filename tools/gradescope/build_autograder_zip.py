"""Build the Gradescope autograder zip around tools/grade.py:

    python tools/gradescope/build_autograder_zip.py autograder.zip

The zip holds setup.sh and run_autograder at its top level (where Gradescope looks for them), every file git
tracks in this repository next to them, and KIT_COMMIT, the commit it was built from (the grader's record names
it); Gradescope unpacks it into /autograder/source. Commit first: the builder refuses a tree whose tracked files
have changes that are not committed (the zip would hold them as they are on disk), and it lists the files git does
not track, which it leaves out.
"""
import argparse
import os
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TOP_LEVEL = ("setup.sh", "run_autograder")
# The commit the zip was built from, at its top (tools/grade.py's kit_commit reads it where there is no git).
COMMIT_FILE = "KIT_COMMIT"


def tracked_files(repo: str) -> list:
    output = subprocess.run(["git", "ls-files", "-z"], cwd=repo, check=True, stdout=subprocess.PIPE).stdout
    return sorted(path for path in output.decode("utf-8").split("\0") if path and os.path.isfile(
        os.path.join(repo, path)))


def tree_state(repo: str) -> tuple:
    """(changed, untracked): the tracked files that differ from the last commit, staged or not (each with git's
    two-letter status), and the files git neither tracks nor ignores."""
    output = subprocess.run(["git", "status", "--porcelain=v1", "-z", "--untracked-files=all"], cwd=repo,
                            check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    fields = output.decode("utf-8").split("\0")
    changed, untracked = [], []
    while fields:
        field = fields.pop(0)
        if not field:
            continue
        status, path = field[:2], field[3:]
        if status == "??":
            untracked.append(path)
            continue
        if "R" in status or "C" in status:
            # With -z a rename's or copy's source comes as a field of its own.
            path = "{} (from {})".format(path, fields.pop(0))
        changed.append("{} {}".format(status, path))
    return changed, untracked


def build(target: str, repo: str = REPO) -> list:
    """Write the zip of the tracked files as they are on disk (main() checks first that they are committed);
    returns the names in it."""
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
        # The zip holds no .git: the grader's record names the commit it was built from by this file.
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, stdout=subprocess.PIPE,
                              universal_newlines=True).stdout.strip()
        archive.writestr(COMMIT_FILE, head + "\n")
        names.append(COMMIT_FILE)
    return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", help="the zip file to write, e.g. autograder.zip")
    args = parser.parse_args(argv)
    try:
        changed, untracked = tree_state(REPO)
    except (OSError, subprocess.CalledProcessError) as error:
        details = getattr(error, "stderr", None) or b""
        print("build_autograder_zip.py: cannot ask git which files of {} are committed: {} {}".format(
            REPO, error, details.decode("utf-8", "replace").strip()), file=sys.stderr)
        return 2
    # A zip left in the tree by an earlier build is no file the instructor forgot to commit.
    untracked = [path for path in untracked
                 if os.path.abspath(os.path.join(REPO, path)) != os.path.abspath(args.target)]
    if untracked:
        print("left out, as git does not track them (git add and commit them to have them in the zip):")
        for path in untracked:
            print("  " + path)
    if changed:
        print("build_autograder_zip.py: not built: these tracked files have changes that are not committed, and "
              "the zip would hold them as they are on disk, not as committed (git status --short):", file=sys.stderr)
        for path in changed:
            print("  " + path, file=sys.stderr)
        print("Commit them (or undo the changes), then build again.", file=sys.stderr)
        return 1
    names = build(args.target, REPO)
    print("wrote {} with {} files; upload it as the assignment's autograder on Gradescope".format(
        args.target, len(names)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
