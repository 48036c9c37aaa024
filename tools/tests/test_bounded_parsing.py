"""Every step of the grader's own process that reads submitted text is linear, or runs in a child process with a
time and memory limit: no submission of files of at most 1 MB holds a grading worker for long.

Each bound is tested on an input for which the code before it took minutes (measured on this 2-core machine at a
smaller size and scaled by its quadratic growth), with a limit that holds on a loaded machine.
"""
import random
import re
import time

import pytest

from grading import gaps, points, style
from grading.gaps import MAX_NAME_CHARACTERS, Scopes, student_gaps, width, without_gap_bodies
from tools import handout
from tools.rebuild import DIFF_SLACK, compare_outside_gaps, rebuild
from tools.report import site
from tools.submission import Submission

MEGABYTE = 1024 * 1024
# What a loaded 2-core machine takes at most for a linear pass over 1 MB (it takes well under a second here).
LINEAR_SECONDS = 10
# pycodestyle's continuation-line check is quadratic in the depth of a bracketed literal: 0.22 s for a depth of
# 2,000, so about 9 minutes for this one (400 kB).
NESTED = "x = " + "[\n" * 100000 + "]\n" * 100000
TEST_BOUND = style.Bound(seconds=5, memory_mb=1024)


def timed(function, *args):
    started = time.time()
    result = function(*args)
    return result, time.time() - started


# ---------------------------------------------------------------- feedback.md: HTML comments, headings

OLD_COMMENT = re.compile(r"<!--.*?-->", re.S)
OLD_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def test_comments_are_stripped_in_linear_time():
    # The regular expression took 6.3 s for 80 kB of '<!--' and grows with its square: about 18 minutes for 1 MB.
    text = "<!--" * (MEGABYTE // 4)
    sections, seconds = timed(points.markdown_sections, text)
    assert seconds < LINEAR_SECONDS and sections == {"": text}  # an unclosed comment stays, as it did


def test_the_feedback_row_of_a_megabyte_of_comment_openers_is_quick(tmp_path):
    (tmp_path / "grading").mkdir()
    (tmp_path / "grading" / "feedback_template.md").write_text("# Feedback\n\n## Helpful?\n\n<!-- answer -->\n")
    (tmp_path / "feedback.md").write_text("# Feedback\n\n## Helpful?\n\nYes.\n" + "<!--" * (MEGABYTE // 4))
    row, seconds = timed(points.feedback_row, str(tmp_path))
    assert seconds < LINEAR_SECONDS and row.points == 1  # answered: an unclosed comment is text


def test_stripping_comments_and_reading_headings_is_what_the_regular_expressions_did():
    rng = random.Random(7)
    pieces = ["<!--", "-->", "<!-->", "--", "-", ">", "<", "!", "a", " ", "\n", "#", "## "]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(12)))
        assert points.strip_comments(text) == OLD_COMMENT.sub("", text), repr(text)
    pieces = ["#", "##", "#######", " ", "\t", "a", "b c", "?", "#a", "\u00a0"]
    for _ in range(3000):
        line = "".join(rng.choice(pieces) for _ in range(rng.randrange(8)))
        old = OLD_HEADING.match(line)
        sections = points.markdown_sections(line + "\nbody")
        if old:
            assert sections.get(old.group(1)) == "body", repr(line)
        else:
            assert sections == {"": " ".join((line + " body").split())}, repr(line)


# ---------------------------------------------------------------- gap markers

def old_enclosing_name(lines, index):
    """The walk back over the lines above a marker that student_gaps did for every gap (the reference here)."""
    limit = width(gaps._leading(lines[index]))
    parts, kinds = [], []
    for line in reversed(lines[:index]):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = width(gaps._leading(line))
        if indent >= limit:
            continue
        match = gaps.DEFINITION.match(line)
        if match:
            parts.append(match.group("name"))
            kinds.append(match.group("kind"))
        limit = indent
        if indent == 0:
            break
    if "def" not in kinds:
        return None
    return ".".join(reversed(parts[kinds.index("def"):]))


def test_the_one_pass_finds_the_function_that_the_walk_back_found():
    rng = random.Random(3)
    kinds = ["def f{}():", "class C{}:", "async def g{}():", "if x:", "x = {}", "# comment", "", "\t\tdef t{}():"]
    for _ in range(300):
        lines = [" " * rng.choice((0, 4, 8, 12)) + rng.choice(kinds).format(number) for number in range(40)]
        scopes = Scopes()
        for index, line in enumerate(lines):
            for indent in (0, 2, 4, 8, 12, 16):
                marker = " " * indent + "# START TODO"
                assert scopes.function_at(indent) == old_enclosing_name(lines[:index] + [marker], index), (
                    lines[:index], indent)
            scopes.add(line)


def many_marker_pairs(pairs: int = 24000) -> str:
    # The walk back over every line above a marker took 12 s for 6,000 pairs, and grows with their square: about
    # 3 minutes for these (1 MB).
    return "def f():\n" + "    # START TODO\n    x = 1\n    # END TODO\n" * pairs


def test_many_marker_pairs_are_read_in_linear_time():
    text = many_marker_pairs()
    assert len(text) <= MEGABYTE
    (found, problems), seconds = timed(student_gaps, text, "lib/a.py")
    assert seconds < LINEAR_SECONDS
    assert found == {} and len(problems) == 23999 and problems[0].endswith("a second gap in f")
    _, seconds = timed(without_gap_bodies, text, "lib/a.py")
    assert seconds < LINEAR_SECONDS


def test_many_marker_pairs_in_a_submitted_file_are_rebuilt_in_linear_time():
    files = handout.build_handout(cut=True)
    path = "lib/activations.py"
    text = files[path].decode("utf-8") + "\n\n" + many_marker_pairs()[:MEGABYTE - len(files[path]) - 2]
    built, seconds = timed(rebuild, files, Submission(".", {path: text}, [path], []))
    assert seconds < 3 * LINEAR_SECONDS  # a few linear passes: the markers, the code around the gaps, a diff
    assert built.gaps["ReLU.backward"].status == "empty"
    assert "lib/activations.py:{}: a second gap in f".format(text.count("\n", 0, text.rindex("# START")) + 1) \
        in built.findings


def test_a_gap_under_long_names_is_not_read_and_costs_no_more_than_its_lines():
    outer = "".join("{}class {}:\n".format("    " * depth, "N" * 20000 + str(depth)) for depth in range(10))
    inner = "    " * 10 + "def g():\n" + "    " * 11 + "# START TODO\n" + "    " * 11 + "# END TODO\n"
    text = outer + inner * ((MEGABYTE - len(outer)) // len(inner))
    (found, problems), seconds = timed(student_gaps, text, "lib/a.py")
    assert seconds < LINEAR_SECONDS and found == {}
    assert "longer than {} characters".format(MAX_NAME_CHARACTERS) in problems[0]


# ---------------------------------------------------------------- pycodestyle

def test_a_pathological_file_ends_at_the_style_check_limit():
    found, seconds = timed(style.check, {"lib/a.py": NESTED}, 120, TEST_BOUND)
    assert not found.finished and "did not finish within 5 s" in found.why
    assert seconds < TEST_BOUND.seconds + LINEAR_SECONDS


def test_the_style_check_stops_at_its_memory_limit():
    found = style.check({"lib/a.py": NESTED}, 120, style.Bound(seconds=60, memory_mb=100))
    assert not found.finished and found.why == "pycodestyle ran out of memory (100 MB)"


def test_the_bounded_check_finds_what_the_check_in_this_process_finds():
    sources = {"a.py": "x=1\nimport os\n", "b.py": "def f():\n\treturn [1,\n    2]\n" + "y = 2" * 30 + "\n"}
    bounded, local = style.check(sources, 120, style.GRADER), style.check(sources, 120)
    assert bounded == local and bounded.finished
    assert {"E225", "E402", "W191", "E128", "E501"} <= {problem.code for problem in local.problems}
    master = {path: style.read_source(path) for path in points.python_files(handout.REPO)}
    assert style.check(master, points.max_line_length(handout.REPO), style.GRADER) == style.Style([], {}, True, "")


def student_root(tmp_path, script: str):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.py").write_text("x = 1\n")
    (tmp_path / "setup.cfg").write_text("[pycodestyle]\nmax-line-length = 120\n")
    (tmp_path / "run_me.py").write_text(script)
    return str(tmp_path)


def test_a_pathological_file_costs_the_style_bonus_with_the_reason(tmp_path):
    row, seconds = timed(points.code_style_row, student_root(tmp_path, NESTED), 1, TEST_BOUND)
    assert row.points == 0 and row.status == "failed" and "pycodestyle did not finish within 5 s" in row.detail
    assert seconds < TEST_BOUND.seconds + LINEAR_SECONDS


def test_an_honest_file_keeps_the_style_bonus_within_the_bound(tmp_path):
    script = "values = [\n" + "    [1, 2],\n" * 2000 + "]\n"
    row = points.code_style_row(student_root(tmp_path, script), 1, style.GRADER)
    assert row.points == 1 and row.status == "passed"


def test_the_report_marks_nothing_where_pycodestyle_does_not_finish(monkeypatch):
    monkeypatch.setattr(style, "GRADER", TEST_BOUND)
    text = "def f():\n    # START TODO\n    x=1\n    # END TODO\n" + NESTED
    marks, seconds = timed(site.style_in_gaps, {"lib/a.py": text}, 120)
    assert marks == {"f": []} and seconds < TEST_BOUND.seconds + LINEAR_SECONDS
    assert site.style_in_gaps({"lib/a.py": text[:text.index("x = [")]}, 120) == {
        "f": [{"line": 1, "column": 6, "text": "E225 missing whitespace around operator"}]}


# ---------------------------------------------------------------- the diff of a finding

def test_the_diff_of_code_outside_the_gaps_is_bounded_by_the_handout():
    # difflib took 5 s for 180,000 short lines against 300 that each occur in them, in reverse order, and grows
    # with the submission's lines times the square of the handout's.
    expected = "".join("v{} = {}\n".format(number, number) for number in range(300))
    block = "".join(reversed(expected.splitlines(True)))
    got = block * (MEGABYTE // len(block))
    finding, seconds = timed(compare_outside_gaps, "tests/a.py", expected, got)
    assert seconds < LINEAR_SECONDS
    assert len(finding) == 1 and "+ lines" in finding[0], finding
    assert DIFF_SLACK < len(got.splitlines()) - 300


def test_the_hours_answer_is_read_in_linear_time():
    # One search: a match needs only digits, so no start position is tried against the rest of the answer.
    for answer in ("1" * MEGABYTE, " - " * (MEGABYTE // 3), "1 -" * (MEGABYTE // 3)):
        _, seconds = timed(site.hours_of, answer)
        assert seconds < LINEAR_SECONDS


# ---------------------------------------------------------------- reading and rebuilding: a child process each

def megabytes_of_gap_code(root, name):
    """A complete submission in root/name whose every gap file holds about 1 MB (the reader's cap) of gap code:
    about 15 s of parsing per file on this machine."""
    from grading.gaps import fill_gaps, gap_bodies
    from grading.tasks import CODE_TASKS

    files = handout.build_handout(cut=False)
    by_file = {}
    for task in CODE_TASKS:
        by_file.setdefault(task.file, []).append(task)
    for path, tasks in by_file.items():
        text = files[path].decode("utf-8")
        bodies = gap_bodies(text)
        for task in tasks:
            body = bodies[task.gap]
            indent = body[0][:len(body[0]) - len(body[0].lstrip())]
            room = (MEGABYTE - len(text) - 1000) // len(tasks)
            bodies[task.gap] = [indent + "x = [1, 2, 3]"] * (room // (len(indent) + 14)) + body
        files[path] = fill_gaps(text, bodies).encode("utf-8")
    handout.write_files(files, str(root / name))
    return str(root / name)


@pytest.mark.timeout(120)
def test_a_submission_is_read_in_a_child_process_within_its_bound_and_no_other_waits(tmp_path):
    # Before, the grader parsed every submission in its own process, one at a time (CPython's parser is not safe
    # in two threads): five files of 1 MB of gap code held the lock for over a minute, and every other worker
    # waited. Now each reading is a child process of its own, within rebuild.READING.
    from concurrent.futures import ThreadPoolExecutor

    from grading.bounded import Bound
    from tools.rebuild import READING, ReadingFailed, read_and_rebuild

    huge = megabytes_of_gap_code(tmp_path, "huge")
    small = tmp_path / "small"
    handout.write_files(handout.build_handout(cut=False), str(small))
    given = handout.build_handout(cut=True)
    wanted = [path for path in given if path.endswith(".py")] + [points.FEEDBACK_FILE]
    started = time.time()
    try:
        read_and_rebuild(huge, given, wanted, Bound(seconds=3, memory_mb=READING.memory_mb))
    except ReadingFailed as stopped:
        assert str(stopped) == "reading the submission did not finish within 3 s"
    else:
        raise AssertionError("five files of 1 MB of gap code were read within 3 s: make the input larger")
    assert time.time() - started < 3 + LINEAR_SECONDS

    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(timed, read_and_rebuild, huge, given, wanted, Bound(seconds=8, memory_mb=2048))
        time.sleep(0.5)
        (submitted, built), seconds = timed(read_and_rebuild, str(small), given, wanted)
        assert not slow.done(), "the huge submission was read in 0.5 s: make it larger"
        assert seconds < LINEAR_SECONDS, "a small submission waited {:.1f} s for the huge one".format(seconds)
        assert {gap.status for gap in built.gaps.values()} == {"filled"} and not built.findings, built
        try:
            slow.result()
        except ReadingFailed:
            pass  # what counts is that the small one did not wait
