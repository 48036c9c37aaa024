"""The student's handout as files in memory: the manifest's files, gap bodies cut, the README's instructor section
dropped.

tools/make_handout.py writes it to a folder; tools/grade.py compares submissions with it.
"""
import glob
import json
import os
import re
import textwrap
from collections import OrderedDict
from typing import Dict, List, Tuple

from grading.gaps import GapError, cut_gaps, find_gaps, outside_fingerprint
from grading.points import OUTSIDE_GAPS

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST = os.path.join(REPO, "tools", "handout_manifest.txt")

# Refused in the handout even if the manifest names them: the instructor's world.
NEVER_IN_HANDOUT = ("tools/", "solutions/", "benchmarks/", ".ci/", ".github/workflows/ci.yml",
                    "requirements-dev.txt", "docs/")
# ... except these, which the manifest names one by one.
ALLOWED_UNDER_NEVER = ("tools/handout_files/", "docs/figures/")

# The last section of the master's README.md, which the handout's README.md leaves out.
INSTRUCTOR_SECTION = "## For instructors"


class HandoutError(ValueError):
    """The manifest, a gap marker or the README's instructor section is wrong; the message says where."""


def read_manifest(repo: str = REPO, manifest: str = MANIFEST) -> List[Tuple[str, str]]:
    """[(source, destination)], both relative to the repository root with '/' separators, in manifest order."""
    pairs = []
    with open(manifest, encoding="utf-8") as file:
        for number, raw in enumerate(file, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            optional = line.startswith("?")
            entry = line[1:].strip() if optional else line
            if "->" in entry:
                source, destination = (part.strip() for part in entry.split("->", 1))
                matches = [source] if os.path.isfile(os.path.join(repo, source)) else []
                found = [(source, destination)] if matches else []
            else:
                matches = sorted(os.path.relpath(path, repo).replace(os.sep, "/")
                                 for path in glob.glob(os.path.join(repo, entry), recursive=True)
                                 if os.path.isfile(path))
                found = [(path, path) for path in matches if "__pycache__" not in path]
            if not found and not optional:
                raise HandoutError("{}:{}: '{}' matches no file (mark it with '? ' if it may be missing)"
                                   .format(manifest, number, entry))
            for source, destination in found:
                for path in (source, destination):
                    if _instructor_only(path):
                        raise HandoutError("{}:{}: '{}' is instructor-only and never goes into the handout"
                                           .format(manifest, number, path))
                pairs.append((source, destination))
    destinations = [destination for _, destination in pairs]
    duplicates = sorted({d for d in destinations if destinations.count(d) > 1})
    if duplicates:
        raise HandoutError("{}: more than one entry writes {}".format(manifest, ", ".join(duplicates)))
    return pairs


def _instructor_only(path: str) -> bool:
    if path.startswith(ALLOWED_UNDER_NEVER):
        return False
    return any(path.startswith(banned) or path == banned.rstrip("/") for banned in NEVER_IN_HANDOUT)


def student_readme(text: str, path: str = "README.md") -> str:
    """The master's README without its last section, INSTRUCTOR_SECTION (the pointer to docs/instructor.md).

    That section must be there, once, and be the last one: nothing after it could be told from instructor text.
    """
    lines = text.splitlines(keepends=True)
    starts = [index for index, line in enumerate(lines) if line.rstrip() == INSTRUCTOR_SECTION]
    if len(starts) != 1:
        raise HandoutError("{}: expected one '{}' section, found {}".format(path, INSTRUCTOR_SECTION, len(starts)))
    later = [index for index in range(starts[0] + 1, len(lines)) if re.match(r"^#{1,2} ", lines[index])]
    if later:
        raise HandoutError("{}:{}: '{}' must be the README's last section".format(path, later[0] + 1,
                                                                                  INSTRUCTOR_SECTION))
    return "".join(lines[:starts[0]]).rstrip("\n") + "\n"


REGISTRY_BLOCK = re.compile(r"(<!-- registry:(?P<name>\w+) -->\n)(?P<body>.*?)(<!-- /registry:(?P=name) -->)", re.S)


def registry_block(name: str) -> str:
    """The README's text that grading/tasks.py decides: the task table ("tasks") and the points ("points")."""
    from grading.tasks import CODE_TASKS, TASKS, TASKS_BY_KEY, total

    if name == "tasks":
        lines = ["| Task | Gap | File | Points | Run its tests |", "| --- | --- | --- | --- | --- |"]
        lines += ["| {} | `{}` | `{}` | {} | `python -m pytest -m {}` |".format(
            task.number, task.gap, task.file, task.points, task.key) for task in CODE_TASKS]
        needing = [task for task in CODE_TASKS if task.needs]
        sentence = "A good order is the table's. Each task's tests use only its own gap{}".format(
            ", except: " + "; ".join(
                "task {} (`{}`) also runs your {}, so fill {} first: while {} wrong, task {} earns nothing "
                "either".format(
                    task.number, task.gap, " and ".join("gap {}".format(TASKS_BY_KEY[need].number)
                                                        for need in task.needs),
                    "those" if len(task.needs) > 1 else "it", "either is" if len(task.needs) > 1 else "it is",
                    task.number) for task in needing) + "." if needing else ".")
        lines += [""] + textwrap.wrap(sentence, 110)
        return "\n".join(lines) + "\n"
    if name == "points":
        numbers = [task.number for task in CODE_TASKS]
        worth = total("code") + total("tutor")
        lines = ["Exercise 3 is worth {} points plus {} bonus points.".format(worth, total("bonus")),
                 "", "| Part | Points | Graded by |", "| --- | --- | --- |",
                 "| Coding tasks {} to {} (table above) | {} | the tests and the grader's value checks |".format(
                     min(numbers), max(numbers), total("code"))]
        lines += ["| {} | {} | a tutor |".format(task.title, task.points) for task in TASKS if task.kind == "tutor"]
        lines += ["| Bonus: {} | {} | the tests |".format(task.title, task.points) for task in TASKS
                  if task.kind == "bonus"]
        return "\n".join(lines) + "\n"
    raise HandoutError("README.md: no registry block named '{}' (tools/handout.py knows tasks, points)".format(name))


def with_registry_blocks(text: str) -> str:
    """text with every `<!-- registry:NAME -->` block rendered anew from grading/tasks.py."""
    return REGISTRY_BLOCK.sub(lambda match: match.group(1) + registry_block(match.group("name")) + match.group(4),
                              text)


def build_handout(repo: str = REPO, manifest: str = MANIFEST, cut: bool = True) -> "OrderedDict[str, bytes]":
    """{destination path: content} of every handout file. cut=False keeps the reference solution in the gaps."""
    files = OrderedDict()
    for source, destination in read_manifest(repo, manifest):
        with open(os.path.join(repo, source), "rb") as file:
            content = file.read()
        if destination.endswith(".py"):
            text = content.decode("utf-8")
            try:
                content = (cut_gaps(text, source) if cut else text).encode("utf-8")
            except GapError as error:
                raise HandoutError(str(error))
        elif source == "README.md":
            content = with_registry_blocks(student_readme(content.decode("utf-8"), source)).encode("utf-8")
        files[destination] = content
    # What the points table compares the student's files with, to warn of changes outside the gaps.
    fingerprints = {path: outside_fingerprint(content.decode("utf-8"), path) for path, content in files.items()
                    if path.startswith("lib/") and path.endswith(".py")}
    files[OUTSIDE_GAPS] = (json.dumps(fingerprints, indent=1, sort_keys=True) + "\n").encode("utf-8")
    return files


def gaps_by_name(files: Dict[str, bytes]) -> Dict[str, str]:
    """{gap name: path} over the handout's Python files; raises HandoutError for a gap name found twice."""
    found = {}
    for path, content in files.items():
        if path.endswith(".py"):
            for gap in find_gaps(content.decode("utf-8"), path):
                if gap.name in found:
                    raise HandoutError("{}:{}: a second gap named {} (the first is in {})"
                                       .format(path, gap.start + 1, gap.name, found[gap.name]))
                found[gap.name] = path
    return found


def write_files(files: Dict[str, bytes], outdir: str, repo: str = REPO, manifest: str = MANIFEST) -> None:
    """Write the files under outdir, keeping the executable bit of their sources (runtests.sh)."""
    sources = dict((destination, source) for source, destination in read_manifest(repo, manifest))
    for path, content in files.items():
        target = os.path.join(outdir, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as file:
            file.write(content)
        source = os.path.join(repo, sources.get(path, path))
        if os.path.exists(source) and os.access(source, os.X_OK):
            os.chmod(target, 0o755)
