"""The grading lifecycle a course runs after the grade: a late policy from the course file (tools/course.ini),
submission times from Gradescope's metadata or a clone's commit, the files Canvas and Moodle import (tools/lms.py),
Gradescope's visibility settings in results.json and on the student pages.

The class: ten clones of a complete submission, committed at set times around one deadline, two of them with an
extension, one pushed after the deadline by the server's record; the roster lacks one of them and has one student
who did not submit. The pages are opened in headless Chromium, as test_class_report does.
"""
import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from grading.tasks import CODE_TASKS, TASKS, total
from tools import course as courses, lms, submitted as submission_times
from tools.result import Result
from tools.tests.test_class_report import browser, browser_missing, opened, visit  # noqa: F401  (browser: fixture)
from tools.tests.test_grade import answered_feedback, make_handout

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRADE = os.path.join(REPO, "tools", "grade.py")
SANDBOX = os.environ.get("GRADE_TEST_SANDBOX", "auto")
ALL = [task.key for task in CODE_TASKS]
DUE = "2027-01-15T23:59+01:00"
COURSE = """[deadline]
due = {due}
grace_minutes = 15
penalty_percent_per_day = 10
max_penalty_percent = 30
extensions = extensions.csv

[visibility]
tests = visible
output = after_published

[visibility.tasks]
check_gradients = after_due_date

[lms]
assignment = Exercise 3
canvas_assignment_id = 4242
""".format(due=DUE)
# Every submission is complete, its feedback answered: 11 points earned.
EARNED = total("code") + total("bonus")
# name: (commit time, the late penalty in % of the points earned)
CLASS = {
    "s01": ("2027-01-15T12:00+01:00", 0), "s02": ("2027-01-14T09:30+01:00", 0),
    "s03": ("2027-01-15T23:00+01:00", 0),  # pushed after the deadline (the pushes file): a note, no penalty
    "s04": ("2027-01-16T00:10+01:00", 0),  # within the 15 minutes' grace
    "s05": ("2027-01-16T00:20+01:00", 10),  # 1 day started after due + grace
    "s06": ("2027-01-17T10:00+01:00", 20),  # 2 days
    "s07": ("2027-01-25T10:00+01:00", 30),  # 10 days: the cap
    "s08": ("2027-01-19T18:00+01:00", 0),  # an extension to the 20th
    "s09": ("2027-01-21T08:00+01:00", 10),  # an extension to the 20th, a day late after it
    "s10": ("2027-01-15T20:00+01:00", 0),  # not in the roster
}
ROSTERED = sorted(CLASS)[:-1]
EXTENSIONS = "name,due\ns08,2027-01-20T23:59+01:00\ns09,2027-01-20T23:59+01:00\n"
PUSHES = "name,pushed at\ns03,2027-01-16T09:00+01:00\ns01,2027-01-15T12:05+01:00\n"
ROSTER_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Email address", "submission"]
pytestmark = pytest.mark.timeout(400)


def commit(folder, when):
    environment = dict(os.environ, GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when, GIT_AUTHOR_NAME="Student",
                       GIT_AUTHOR_EMAIL="student@example.org", GIT_COMMITTER_NAME="Student",
                       GIT_COMMITTER_EMAIL="student@example.org")
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "my solution"]):
        subprocess.run(command, cwd=str(folder), env=environment, check=True, stdout=subprocess.PIPE)


def write_course(folder):
    (folder / "course.ini").write_text(COURSE, encoding="utf-8")
    (folder / "extensions.csv").write_text(EXTENSIONS, encoding="utf-8")
    return folder / "course.ini"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("the clones are made with git")
    base = tmp_path_factory.mktemp("lifecycle")
    complete = make_handout(base / "complete", fill=ALL)
    answered_feedback(complete)
    (complete / "submission.pdf").write_bytes(b"%PDF-1.4\n% the written part\n")
    for name, (when, _) in CLASS.items():
        shutil.copytree(str(complete), str(base / "class" / name))
        if name != "s01":  # only s01 hands in its written part
            (base / "class" / name / "submission.pdf").unlink()
        commit(base / "class" / name, when)
    course = write_course(base)
    (base / "pushes.csv").write_text(PUSHES, encoding="utf-8")
    with open(str(base / "roster.csv"), "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(ROSTER_COLUMNS)
        for index, name in enumerate(ROSTERED + ["s11"], start=1):
            writer.writerow(["Student {}".format(index), 100 + index, "sis{}".format(index), "login{}".format(index),
                             "A", "{}@example.org".format(name), name])
    out = {name: base / name for name in ("grades.csv", "canvas.csv", "moodle.csv", "site")}
    done = subprocess.run(
        [sys.executable, GRADE, "--jobs", "2", "--sandbox", SANDBOX, "--course", str(course), "--pushes",
         str(base / "pushes.csv"), "--roster", str(base / "roster.csv"), "--canvas", str(out["canvas.csv"]),
         "--moodle", str(out["moodle.csv"]), "--csv", str(out["grades.csv"]), "--report", str(out["site"])] +
        [str(base / "class" / name) for name in CLASS],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=380)
    assert done.returncode == 0, done.stdout
    with open(str(out["grades.csv"]), newline="", encoding="utf-8") as file:
        rows = {row["name"]: row for row in csv.DictReader(file)}
    return dict(out, output=done.stdout, rows=rows, base=base)


def read_csv(path):
    with open(str(path), newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def of_record(name):
    return round(EARNED * (1 - CLASS[name][1] / 100), 2)


def test_the_late_policy_is_its_own_line_in_the_csv(graded):
    for name, (when, percent) in CLASS.items():
        row = graded["rows"][name]
        assert row["total"] == str(EARNED), (name, row)
        assert float(row["late penalty"]) == round(EARNED * percent / 100, 2), (name, row["late penalty"])
        assert float(row["points of record"]) == of_record(name), (name, row["points of record"])
        assert row["submitted"] == courses.stamp(courses.parse_time(when, name))
        assert row["submission time from"] == submission_times.COMMIT
    assert graded["rows"]["s08"]["due"] == "2027-01-20 23:59+01:00" and graded["rows"]["s01"]["due"] == \
        "2027-01-15 23:59+01:00"


def test_a_push_after_the_deadline_is_noted_and_a_push_before_it_is_not(graded):
    assert "pushed at 2027-01-16 09:00+01:00, after the deadline" in graded["output"]
    assert graded["output"].count("pushed at") == 1


def test_the_canvas_file_is_canvas_s_gradebook_import(graded):
    table = read_csv(graded["canvas.csv"])
    # Canvas's import: the identity columns of its own export first, an assignment column "Name (id)", the
    # optional Points Possible row, then one row per student matched on ID, SIS User ID or SIS Login ID.
    assert table[0] == list(lms.CANVAS_IDENTITY) + ["Exercise 3 (4242)"]
    assert table[1] == ["Points Possible", "", "", "", "", str(total("code") + total("tutor"))]
    students = table[2:]
    assert [row[0] for row in students] == ["Student {}".format(index) for index in range(1, len(ROSTERED) + 1)]
    assert all(row[1].isdigit() and row[2] and row[3] for row in students)
    assert {row[3]: float(row[5]) for row in students} == {
        "login{}".format(index): of_record(name) for index, name in enumerate(ROSTERED, start=1)}


def test_the_moodle_file_is_moodle_s_csv_grade_import(graded):
    table = read_csv(graded["moodle.csv"])
    # Moodle maps a column to a user field (here the e-mail address) and each further column to a grade item.
    assert table[0] == ["Email address", "Exercise 3 (4242)"]  # the roster has no ID number or Username column
    assert {row[0]: float(row[1]) for row in table[1:]} == {
        "{}@example.org".format(name): of_record(name) for name in ROSTERED}


def test_names_on_one_side_only_are_listed_never_guessed(graded):
    assert "grade: not in the roster, so in no LMS file: s10" in graded["output"]
    assert "grade: in the roster but not graded, so in no LMS file: submission s11" in graded["output"]
    assert "s10" not in graded["canvas.csv"].read_text() and "s11@" not in graded["moodle.csv"].read_text()


def test_the_student_pages_follow_the_visibility_settings_and_show_the_late_line(graded, browser):  # noqa: F811
    pages = {row["name"]: row for row in csv.DictReader(open(str(graded["site"] / "pages.csv"), encoding="utf-8"))}
    context = browser.new_context()
    try:
        page = opened(context)
        visit(page, graded["site"] / pages["s06"]["student page"])
        text = page.inner_text("body")
        assert page.problems == []
        # The deadline is in the future here: check_gradients is after_due_date, the notes after_published.
        assert "shown after the deadline (2027-01-15 23:59+01:00)" in text
        assert "What the grader noted: shown when the grades are published" in text
        assert "2 days late, a penalty of 20 % of the points earned" in text
        assert "Total: shown once every task's points are shown" in text and "earned:" not in text
        hidden = page.locator("tr.hidden")
        assert hidden.count() == 1 and "check_gradients" in hidden.inner_text()
        # The tutor sees everything: the points of record, the late line and the written part's link.
        visit(page, graded["site"] / pages["s01"]["tutor page"])
        assert page.problems == []
        link = page.locator("a", has_text="submission.pdf")
        assert link.count() == 1
        target = graded["site"] / "tutor" / link.get_attribute("href")
        assert target.read_bytes().startswith(b"%PDF-")
        assert page.locator("math").count() > 5  # the grading notes' formulas, rendered as MathML
        visit(page, graded["site"] / pages["s06"]["tutor page"])
        assert "no submission.pdf in the submission" in page.inner_text("body")
        assert "20 % of 11 earned: penalty 2.2, points of record 8.8" in page.inner_text("body")
        visit(page, graded["site"] / "index.html")
        assert page.locator("th", has_text="of record").count() == 1
    finally:
        context.close()


def test_results_json_has_gradescope_s_fields_the_points_of_record_and_the_visibility(tmp_path):
    folder = make_handout(tmp_path / "submission", fill=ALL)
    (tmp_path / "submission_metadata.json").write_text(json.dumps({
        "id": 1, "created_at": "2027-01-17T10:00:00.000000+01:00", "submission_method": "upload",
        "assignment": {"due_date": "2027-01-15T23:59:00.000000+01:00", "late_due_date": None, "title": "Exercise 3",
                       "total_points": "16.0"},
        "users": [{"email": "student@example.org", "id": 1, "name": "A Student"}], "previous_submissions": []}))
    course = write_course(tmp_path)
    results = tmp_path / "results.json"
    done = subprocess.run([sys.executable, GRADE, "--sandbox", SANDBOX, "--course", str(course), "--json",
                           str(results), "--gradescope-metadata", str(tmp_path / "submission_metadata.json"),
                           str(folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=280)
    assert done.returncode == 0, done.stdout
    graded = json.loads(results.read_text(encoding="utf-8"))
    import jsonschema

    jsonschema.validate(graded, GRADESCOPE_RESULTS)
    # 10 earned (no feedback), 2 days late by Gradescope's clock: 20 %.
    assert graded["extra_data"]["late"]["earned"] == 10 and graded["score"] == 8
    assert graded["extra_data"]["late"]["source"] == submission_times.GRADESCOPE
    assert graded["stdout_visibility"] == "after_published" and graded["visibility"] == "visible"
    by_name = {test["name"]: test for test in graded["tests"]}
    assert by_name["Task 6: check_gradients (lib/gradient_utilities.py)"]["visibility"] == "after_due_date"
    assert by_name["Task 1: zero_grad (lib/gradient_utilities.py)"]["visibility"] == "visible"
    # While a test's points are hidden, the output's late line leaves the points earned out.
    assert "a penalty of 20 % of the points earned" in graded["output"] and "10 earned" not in graded["output"]


FORMATS = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
VISIBILITY = {"enum": list(courses.VISIBILITIES)}
# Gradescope's results.json, as its autograder specification documents it: these fields and no others.
GRADESCOPE_RESULTS = {
    "type": "object", "additionalProperties": False, "required": ["tests"],
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number"}, "output": {"type": "string"},
        "output_format": FORMATS, "test_output_format": FORMATS, "test_name_format": FORMATS,
        "visibility": VISIBILITY, "stdout_visibility": VISIBILITY, "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "properties": {"score": {"type": "number"}, "max_score": {"type": "number"},
                           "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
                           "name_format": FORMATS, "number": {"type": "string"}, "output": {"type": "string"},
                           "output_format": FORMATS, "tags": {"type": "array"}, "visibility": VISIBILITY,
                           "extra_data": {"type": "object"}}}}}}


def test_the_late_policy_counts_started_days_after_the_grace_and_keeps_to_its_cap():
    policy = courses.LatePolicy(due=courses.parse_time(DUE, "due"), grace=courses.datetime.timedelta(minutes=15),
                                percent_per_day=10, max_percent=30)

    def late(when, earned=9):
        return courses.apply_late_policy(policy, None, courses.parse_time(when, "t"), earned, "test")

    assert late("2027-01-16T00:14+01:00").penalty == 0  # due + grace: still on time
    assert (late("2027-01-16T00:15+01:00").days, late("2027-01-16T00:15+01:00").penalty) == (1, 0.9)
    assert late("2027-01-17T00:14+01:00").days == 1 and late("2027-01-17T00:15+01:00").days == 2
    assert late("2027-01-15T23:16Z").days == 1  # the same moment in another offset
    assert late("2027-02-15T00:00+01:00").percent == 30 and late("2027-02-15T00:00+01:00").of_record == 6.3
    unknown = courses.apply_late_policy(policy, None, None, 9, submission_times.UNKNOWN)
    assert unknown.penalty == 0 and "no submission time is known" in unknown.line()
    assert courses.apply_late_policy(None, None, None, 9, "test") is None


@pytest.mark.parametrize("text, message", [
    ("[deadline]\ndue = 2027-01-15T23:59\n", "has no UTC offset"),
    ("[deadline]\ngrace_minutes = 5\n", "needs due ="),
    ("[deadline]\ndue = 2027-01-15T23:59Z\npenalty_percent_per_day = ten\n", "is not a number"),
    ("[deadline]\ndue = 2027-01-15T23:59Z\npenalty_per_day = 10\n", "has no setting 'penalty_per_day'"),
    ("[visibility]\ntests = after_deadline\n", "Gradescope's values are hidden, after_due_date"),
    ("[visibility.tasks]\nrelu = hidden\n", "relu: no such task; the tasks are zero_grad"),
    ("[lms]\ncolumns = all\n", "it is total or tasks"),
    ("[grading]\n", "unknown section [grading]"),
])
def test_a_course_file_with_a_mistake_is_refused_by_name(tmp_path, text, message):
    (tmp_path / "course.ini").write_text(text)
    with pytest.raises(courses.CourseError) as raised:
        courses.read(str(tmp_path / "course.ini"))
    assert message in str(raised.value) and "course.ini" in str(raised.value)


def test_the_shipped_course_file_reads_and_shows_everything():
    course = courses.read(courses.DEFAULT)
    assert course.late is None and course.lms.assignment == "Exercise 3"
    assert all(course.visibility.of(task.key) == "visible" for task in TASKS) and course.visibility.output == "visible"


def test_visibility_is_decided_as_gradescope_does():
    assert [courses.shown(value, due_passed=False, published=False) for value in courses.VISIBILITIES] == [
        False, False, False, True]
    assert [courses.shown(value, due_passed=True, published=True) for value in courses.VISIBILITIES] == [
        False, True, True, True]


def test_gradescope_s_metadata_gives_the_time_and_a_submitter_s_own_due_date(tmp_path):
    metadata = {"created_at": "2027-01-16T08:00:00.123456-08:00",
                "assignment": {"due_date": "2027-01-15T23:00:00.000000-08:00"},
                "users": [{"email": "a@example.org", "assignment": {"due_date": "2027-01-17T23:00:00-08:00"}},
                          {"email": "b@example.org"}]}
    (tmp_path / "metadata.json").write_text(json.dumps(metadata))
    found = submission_times.from_gradescope(str(tmp_path / "metadata.json"))
    assert found.source == submission_times.GRADESCOPE
    assert found.time == courses.parse_time("2027-01-16T08:00:00.123456-08:00", "t")
    assert found.due == courses.parse_time("2027-01-17T23:00:00-08:00", "t")
    (tmp_path / "metadata.json").write_text("{}")
    with pytest.raises(courses.CourseError):
        submission_times.from_gradescope(str(tmp_path / "metadata.json"))


def test_a_clone_s_commit_time_is_read_without_running_anything_it_configures(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("the clone is made with git")
    pytest.importorskip("dulwich")
    (tmp_path / "clone").mkdir()
    (tmp_path / "clone" / "a.txt").write_text("a\n")
    commit(tmp_path / "clone", "2027-01-16T10:00+01:00")
    marker = tmp_path / "ran"
    with open(str(tmp_path / "clone" / ".git" / "config"), "a") as file:
        file.write("[core]\n\tfsmonitor = touch {0}\n[log]\n\tshowSignature = true\n[gpg]\n\tprogram = touch {0}\n"
                   .format(marker))
    hook = tmp_path / "clone" / ".git" / "hooks" / "post-checkout"
    hook.write_text("#!/bin/sh\ntouch {}\n".format(marker))
    hook.chmod(0o755)
    found = submission_times.from_clone(str(tmp_path / "clone"))
    assert found.time == courses.parse_time("2027-01-16T10:00+01:00", "t") and found.source == submission_times.COMMIT
    assert not marker.exists()
    assert submission_times.from_clone(str(tmp_path)).time is None  # no clone: no time, said so
    (tmp_path / "broken" / ".git").mkdir(parents=True)
    assert "could not be read" in submission_times.from_clone(str(tmp_path / "broken")).source


def test_a_roster_without_a_name_column_or_with_a_name_twice_is_refused(tmp_path):
    (tmp_path / "roster.csv").write_text("Student,ID\nA,1\n")
    with pytest.raises(lms.RosterError, match="needs a column submission"):
        lms.read_roster(str(tmp_path / "roster.csv"))
    (tmp_path / "roster.csv").write_text("submission,ID\na,1\na,2\n")
    with pytest.raises(lms.RosterError, match="line 3: submission a is on line 2 too"):
        lms.read_roster(str(tmp_path / "roster.csv"))


def test_github_classroom_folders_match_by_the_course_s_prefix_only(tmp_path):
    (tmp_path / "roster.csv").write_text("github_username,ID\nalice,1\nbob,2\n")
    roster = lms.read_roster(str(tmp_path / "roster.csv"))
    found = lms.match(roster, ["exercise-3-alice", "exercise-3-Bob", "alice"], folder_prefix="exercise-3-")
    assert [name for _, name in found.pairs] == ["exercise-3-alice"]
    assert found.no_roster_row == ["exercise-3-Bob", "alice"] and found.no_submission == ["github_username bob, ID 2"]


def test_a_commit_time_out_of_range_or_a_linked_git_gives_no_time_and_no_text_of_the_repository(tmp_path):
    # Red team: git (and GitHub's fsck) take a committer time in the year 11476 or an offset of +99:59, which
    # crashed the whole class run in the grader's process; a .git/HEAD linked to a file put that file's first
    # line into the student's page through Dulwich's message.
    if shutil.which("git") is None:
        pytest.skip("the clones are made with git")
    pytest.importorskip("dulwich")
    for name, committer in (("year", "300000000000 +0000"), ("offset", "1800000000 +9959")):
        clone = tmp_path / name
        clone.mkdir()
        (clone / "a.txt").write_text("a\n")
        commit(clone, "2027-01-16T10:00+01:00")
        tree = subprocess.run(["git", "rev-parse", "HEAD^{tree}"], cwd=str(clone), stdout=subprocess.PIPE,
                              universal_newlines=True, check=True).stdout.strip()
        (tmp_path / "commit.txt").write_text("tree {}\nauthor s <s@x> 1800000000 +0100\ncommitter s <s@x> {}\n\n"
                                             "x\n".format(tree, committer))
        forged = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--literally",
                                 str(tmp_path / "commit.txt")], cwd=str(clone), stdout=subprocess.PIPE,
                                universal_newlines=True, check=True)
        subprocess.run(["git", "update-ref", "HEAD", forged.stdout.strip()], cwd=str(clone), check=True)
        found = submission_times.from_clone(str(clone))
        assert found.time is None and found.source == "no submission time: " + \
            submission_times.COMMIT_ERRORS["out of range"], (name, found)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET first line\n")
    linked = tmp_path / "year"
    (linked / ".git" / "HEAD").unlink()
    (linked / ".git" / "HEAD").symlink_to(secret)
    found = submission_times.from_clone(str(linked))
    assert found.time is None and "TOP-SECRET" not in found.source and "not a plain folder" in found.source
    (tmp_path / "pointer").mkdir()
    (tmp_path / "pointer" / ".git").write_text("gitdir: {}\n".format(tmp_path / "offset" / ".git"))
    assert "not a plain folder" in submission_times.from_clone(str(tmp_path / "pointer")).source


def test_a_hard_linked_or_symlinked_submission_pdf_is_not_copied_into_the_report(tmp_path):
    pytest.importorskip("jinja2")
    from tools.report import site

    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF-1.4 the grader's own file\n")
    for name, make in (("hard", lambda path: os.link(str(secret), str(path))),
                       ("soft", lambda path: path.symlink_to(secret))):
        folder = tmp_path / name
        folder.mkdir()
        make(folder / "submission.pdf")
        copied = site.copy_pdf(Result(name, str(folder), root=str(folder)), str(tmp_path / (name + "-copy.pdf")))
        assert not copied["found"] and "not read" in copied["why"], copied
        assert not (tmp_path / (name + "-copy.pdf")).exists()


def test_two_submissions_whose_names_read_the_same_go_into_no_lms_file(tmp_path):
    from tools import grade

    (tmp_path / "roster.csv").write_text("submission,ID,Email address\nbob,1,bob@example.org\nann,2,ann@example.org\n")
    roster = lms.read_roster(str(tmp_path / "roster.csv"))
    results = [Result(name, "/submissions/" + name, tutor={}) for name in ("bob", "bob", "ann")]
    lines = grade.export_to_lms(results, roster, courses.Course(), str(tmp_path / "canvas.csv"),
                                str(tmp_path / "moodle.csv"))
    assert "grade: two submissions are named bob: neither is in an LMS file; rename their folders" in lines
    assert [row[0] for row in read_csv(tmp_path / "moodle.csv")] == ["Email address", "ann@example.org"]


def test_the_notes_say_nothing_of_a_task_whose_row_is_hidden():
    from tools.rebuild import GapResult
    from tools.report.findings import student_lines

    task = next(task for task in CODE_TASKS if task.key == "check_gradients")
    result = Result("ada", "/submissions/ada", gaps={
        task.gap: GapResult(task, "rejected", "gap 6 (check_gradients), line 3: not taken", None)})
    assert student_lines(result) == ["Gap: gap 6 (check_gradients), line 3: not taken"]
    assert student_lines(result, hidden={"check_gradients"}) == []
