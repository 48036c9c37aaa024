"""tools/grade.py --report DIR on a small class, the pages opened in headless Chromium (Debian's, driven by
Playwright for Python), and the pieces of the report and of the tutor points on their own.

The class: an honest, complete submission; the empty handout (in a folder whose name is not UTF-8); one wrong
gap; a correct Linear.backward that loops over the samples; and one whose folder name, a failure message and its
feedback hold HTML. The browser part needs `apt-get install chromium` and `pip install playwright` (Playwright's
own browsers are never downloaded: it runs /usr/bin/chromium); without them it skips and says which is missing.
"""
import csv
import html
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest

from grading import points
from grading.gaps import gap_bodies
from grading.tasks import CODE_TASKS, TASKS, TASKS_BY_KEY, total
from tools import handout, tutor_points
from tools.report import findings
from tools.result import Result
from tools.tests.gap_catalogue import CORRECT, WRONG
from tools.tests.test_grade import answered_feedback, make_handout

REPO = handout.REPO
GRADE = os.path.join(REPO, "tools", "grade.py")
SANDBOX = os.environ.get("GRADE_TEST_SANDBOX", "auto")
ALL = [task.key for task in CODE_TASKS]
LOOP = "a Python loop over the samples?"
HTML_NAME = "Eve <img src=x onerror=alert(1)> <script>alert(2)"
HTML_ERROR = "<img src=x onerror=alert(3)><script>alert(4)</script>"
HTML_FEEDBACK = "<script>alert('feedback')</script><img src=x onerror=alert('feedback')>"
# Set by the page's own alert(): an injected handler or script that ran would leave its number here.
CATCH_ALERTS = "window.__alerts = []; window.alert = function (message) { window.__alerts.push(String(message)); };"
pytestmark = pytest.mark.timeout(300)


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_missing():
    """Why the browser checks cannot run here, or None."""
    missing = []
    if chromium() is None:
        missing.append("Debian's chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python (pip install playwright)")
    return "the browser checks need " + " and ".join(missing) if missing else None


def one_wrong(key):
    label, body = WRONG[key][0]
    return body


def loop_over_samples():
    return next(body for label, body in CORRECT["linear_backward"] if "loop over samples" in label)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Grade the class with --report and --tutor-points, as an instructor would; {names, site, csv, ...}."""
    root = tmp_path_factory.mktemp("class")
    folders = {}
    folders["ada_complete"] = make_handout(root / "ada_complete", fill=ALL)
    answered_feedback(folders["ada_complete"])
    text = (folders["ada_complete"] / "feedback.md").read_text(encoding="utf-8")
    (folders["ada_complete"] / "feedback.md").write_text(text.replace(
        "## Duration (hours)?\n\nNone, thanks.", "## Duration (hours)?\n\n6,5 hours"), encoding="utf-8")
    empty = os.fsdecode(os.path.join(os.fsencode(str(root)), b"ben_caf\xe9_empty"))
    folders["ben_caf\\xe9_empty"] = make_handout(empty)
    folders["cy_wrong_gap"] = make_handout(root / "cy_wrong_gap", fill=ALL,
                                           bodies={"cross_entropy_backward": one_wrong("cross_entropy_backward")})
    folders["dee_loops"] = make_handout(root / "dee_loops", fill=ALL, bodies={"linear_backward": loop_over_samples()})
    answered_feedback(folders["dee_loops"])
    text = (folders["dee_loops"] / "feedback.md").read_text(encoding="utf-8")
    (folders["dee_loops"] / "feedback.md").write_text(text.replace(
        "## Duration (hours)?\n\nNone, thanks.", "## Duration (hours)?\n\nabout 8-10"), encoding="utf-8")
    # Zipped one folder down, with a line changed outside the gaps: the student page shows the note and the
    # finding, as Gradescope's output does.
    inner = make_handout(root / "fay_one_folder_down" / "exercise3-main", fill=ALL)
    answered_feedback(inner)
    path = inner / "lib" / "activations.py"
    path.write_text(path.read_text(encoding="utf-8").replace("h = np.tanh(z)", "h = np.tanh(1.0 * z)"),
                    encoding="utf-8")
    folders["fay_one_folder_down"] = root / "fay_one_folder_down"
    folders[HTML_NAME] = make_handout(root / HTML_NAME, fill=ALL,
                                      bodies={"relu_backward": "raise ValueError({!r})".format(HTML_ERROR)})
    feedback = (folders[HTML_NAME] / "feedback.md").read_text(encoding="utf-8")
    (folders[HTML_NAME] / "feedback.md").write_text(feedback.replace("_Replace this line with your answer._",
                                                                     HTML_FEEDBACK), encoding="utf-8")
    tutor_file = root / "filled.csv"
    tutor_file.write_text("name;pen_and_paper;questions;remarks\nada_complete;4,5;2;fine\ndee_loops;3;1.5;\n",
                          encoding="utf-8")
    site, grades = root / "site", root / "grades.csv"
    done = subprocess.run([sys.executable, GRADE] + [str(folder) for folder in folders.values()] +
                          ["--jobs", "2", "--quiet", "--sandbox", SANDBOX, "--csv", str(grades), "--report", str(site),
                           "--tutor-points", str(tutor_file)], cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(str(grades), newline="", encoding="utf-8") as file:
        rows = {row["name"]: row for row in csv.DictReader(file)}
    with open(str(site / "pages.csv"), newline="", encoding="utf-8") as file:
        pages = {row["name"]: row for row in csv.DictReader(file)}
    return {"names": list(folders), "site": site, "csv": rows, "pages": pages, "stdout": done.stdout,
            "stderr": done.stderr}


def read(path) -> str:
    with open(str(path), encoding="utf-8") as file:
        return file.read()


def reference_lines():
    """The stripped, non-comment lines of the reference solution's gaps."""
    solution = handout.build_handout(cut=False)
    lines = set()
    for task in CODE_TASKS:
        for line in gap_bodies(solution[task.file].decode("utf-8"))[task.gap]:
            if line.strip() and not line.strip().startswith("#"):
                lines.add(line.strip())
    return lines


# ---------------------------------------------------------------- the grade: points as before, tutor points merged

def test_points_and_the_merged_tutor_points_in_the_csv(report):
    rows = report["csv"]
    assert sorted(rows) == sorted(report["names"])
    autograded = total("code") + total("bonus")
    assert rows["ada_complete"]["total"] == str(autograded + 6.5)
    assert (rows["ada_complete"]["pen_and_paper"], rows["ada_complete"]["questions"]) == ("4.5", "2")
    # The loop earns its points: the vectorisation rule is advice for a tutor, never points.
    assert rows["dee_loops"]["linear_backward"] == str(TASKS_BY_KEY["linear_backward"].points)
    assert rows["dee_loops"]["total"] == str(autograded + 4.5)
    assert rows["cy_wrong_gap"]["cross_entropy_backward"] == "0"
    assert rows["ben_caf\\xe9_empty"]["total"] == "0" and rows["ben_caf\\xe9_empty"]["pen_and_paper"] == ""
    assert rows[HTML_NAME]["relu_backward"] == "0"
    assert rows[HTML_NAME]["linear_backward"] == str(TASKS_BY_KEY["linear_backward"].points)


def test_the_tutor_points_template_holds_every_name_and_keeps_the_filled_in_points(report):
    with open(str(report["site"] / "tutor_points.csv"), newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["name"] + [task.key for task in TASKS if task.kind == "tutor"]
    assert [row[0] for row in rows[1:]] == report["names"]
    assert rows[1] == ["ada_complete", "4.5", "2"] and rows[2][1:] == ["", ""]


def test_the_loop_finding_goes_to_the_tutor_of_the_looping_submission_only(report):
    site, pages = report["site"], report["pages"]
    for name in report["names"]:
        tutor = read(site / pages[name]["tutor page"])
        assert (LOOP in tutor) == (name == "dee_loops"), name
        assert LOOP not in read(site / pages[name]["student page"])
    assert "gap 3 (Linear.backward) runs" in read(site / pages["dee_loops"]["tutor page"])


def test_no_student_page_holds_a_reference_line_or_another_students_name(report):
    site, pages = report["site"], report["pages"]
    lines = reference_lines()
    assert len(lines) >= 10
    for name in report["names"]:
        text = html.unescape(read(site / pages[name]["student page"]))
        assert not [line for line in lines if line in text], name
        others = [other for other in report["names"] if other != name and other in text]
        assert not others, (name, others)


def test_the_student_page_names_the_failed_tasks_marker_and_shows_the_graders_notes(report):
    site, pages = report["site"], report["pages"]
    wrong = html.unescape(read(site / pages["cy_wrong_gap"]["student page"]))
    assert "python -m pytest -m cross_entropy_backward" in wrong and "-m TASK" not in wrong
    assert "python -m pytest -m relu_backward" not in wrong  # a task that passed gets no command
    fay = html.unescape(read(site / pages["fay_one_folder_down"]["student page"]))
    assert "What the grader noted" in fay and "Note: the submission is one folder down" in fay, fay
    assert "Integrity: lib/activations.py" in fay, fay
    assert "What the grader noted" not in read(site / pages["ada_complete"]["student page"])


def test_student_controlled_text_is_escaped_in_every_page(report):
    site = report["site"]
    for path in all_pages(report):
        text = read(path)
        assert "<img src=x" not in text and "<script>alert" not in text, path
    assert html.escape(HTML_ERROR, quote=False) in read(site / report["pages"][HTML_NAME]["student page"])


# ---------------------------------------------------------------- the pages in a browser

@pytest.fixture(scope="module")
def browser():
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        # --no-sandbox: Chromium's own sandbox refuses to start as root (CI runs as root).
        launched = driver.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield launched
        launched.close()


def opened(context):
    """A page whose console errors, page errors and dialogs are collected in page.problems."""
    page = context.new_page()
    page.problems = []
    page.on("console", lambda message: page.problems.append("console: " + message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda error: page.problems.append("page error: {}".format(error)))
    page.on("dialog", lambda dialog: (page.problems.append("dialog: " + dialog.message), dialog.dismiss()))
    return page


def visit(page, path):
    del page.problems[:]
    page.goto(path.as_uri(), wait_until="load")
    return page


def all_pages(report):
    site = report["site"]
    return [site / "index.html"] + sorted((site / "tutor").glob("*.html")) + sorted(
        (site / "students").glob("*.html"))


def test_no_injected_script_runs_even_without_the_pages_content_security_policy(report, browser):
    # bypass_csp: the pages' policy would stop an injected script anyway; here escaping alone must.
    context = browser.new_context(bypass_csp=True)
    context.add_init_script(CATCH_ALERTS)
    try:
        page = opened(context)
        for path in all_pages(report):
            visit(page, path)
            assert page.evaluate("window.__alerts") == [], path
            assert not [problem for problem in page.problems if "dialog" in problem], path
            # The only images are the inline histograms; the only script is the class page's own.
            sources = page.eval_on_selector_all("img", "images => images.map(image => image.getAttribute('src'))")
            assert all(source.startswith("data:image/png;base64,") for source in sources), path
            assert page.eval_on_selector_all("script", "scripts => scripts.length") == (
                1 if path.name == "index.html" else 0), path
    finally:
        context.close()


def test_the_pages_open_without_console_errors_and_every_link_resolves(report, browser):
    context = browser.new_context()
    context.add_init_script(CATCH_ALERTS)
    try:
        page = opened(context)
        for path in all_pages(report):
            visit(page, path)
            assert page.problems == [], (path, page.problems)
            assert page.evaluate("window.__alerts") == [], path
            for href in page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)"):
                url = urllib.parse.urlparse(href)
                assert url.scheme == "file", (path, href)
                target = urllib.request.url2pathname(url.path)
                assert os.path.isfile(target), (path, href)
                if url.fragment:
                    assert page.query_selector("#" + url.fragment) is not None, (path, href)
    finally:
        context.close()


def test_the_class_page_totals_match_the_csv_and_sort(report, browser):
    context = browser.new_context()
    try:
        page = visit(opened(context), report["site"] / "index.html")
        table = "table.sortable tbody tr"
        shown = page.eval_on_selector_all(table, "rows => rows.map(row => [row.cells[0].innerText, "
                                                 "row.querySelector('td.total').innerText])")
        assert dict(shown) == {name: row["total"] for name, row in report["csv"].items()}
        page.click("table.sortable thead th:has-text('total') button")
        totals = page.eval_on_selector_all(table, "rows => rows.map(row => Number(row.querySelector('td.total')"
                                                  ".innerText))")
        assert totals == sorted(totals) and len(totals) == len(report["names"])
        loops = page.eval_on_selector_all(table, "rows => rows.filter(row => row.querySelector('.badge'))"
                                                 ".map(row => row.cells[0].innerText)")
        assert loops == ["dee_loops"]
        text = page.inner_text("body")
        assert "Median 7.75 hours, from 2 answers" in text  # 6,5 and 8-10: 6.5 and 9
        assert HTML_FEEDBACK in text  # shown as text
        assert page.problems == []
    finally:
        context.close()


# ---------------------------------------------------------------- the pieces on their own

def test_a_filled_in_file_with_a_mistake_names_its_row_and_column(tmp_path):
    names = ["ada", "ben", "'=cy"]
    cases = [("name,pen_and_paper,questions\nada,6,1\n", "row 2, column pen_and_paper: '6'"),
             ("name,pen_and_paper,questions\nada,5,1\nzed,1,1\n", "row 3, column name: 'zed' is not one of"),
             ("name,pen_and_paper,questions\nada,5,-1\n", "row 2, column questions: '-1'"),
             ("name,pen_and_paper,questions\nben,five,1\n", "row 2, column pen_and_paper: 'five'"),
             ("name,pen_and_paper,questions\nada,1,1\nada,2,2\n", "row 3, column name: 'ada' is in row 2"),
             ("name,pen_and_paper\nada,1\n", "row 1: no column questions")]
    for text, expected in cases:
        path = tmp_path / "points.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(tutor_points.TutorPointsError) as caught:
            tutor_points.read(str(path), names)
        assert expected in str(caught.value) and str(path) in str(caught.value), (text, caught.value)
    path.write_text("\ufeffname,pen_and_paper,questions,remarks\n'=cy,2.25,,late\n\nada,,0\n", encoding="utf-8")
    assert tutor_points.read(str(path), names) == {"'=cy": {"pen_and_paper": 2.25}, "ada": {"questions": 0.0}}
    done = subprocess.run([sys.executable, GRADE, str(tmp_path), "--tutor-points", str(tmp_path / "missing.csv")],
                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert done.returncode == 2 and "--tutor-points" in done.stderr and "cannot be read" in done.stderr


def test_results_json_gets_the_tutor_points_in_its_score():
    from tools.grade import gradescope
    from tools.sandbox import Sandbox

    code = {task.key: points.Row(task, task.points, "passed", "all passed") for task in CODE_TASKS}
    rows = points.all_rows(code, points.Row(TASKS_BY_KEY["code_style"], 1, "passed", ""),
                           points.Row(TASKS_BY_KEY["feedback"], 0, "failed", "missing"))
    result = Result("ada", "/submissions/ada", rows=rows)
    assert gradescope(result, Sandbox("none"))["score"] == total("code") + 1
    tutor_points.merge(result, {"pen_and_paper": 4.5})
    results = json.loads(json.dumps(gradescope(result, Sandbox("none"))))
    assert results["score"] == total("code") + 1 + 4.5
    assert [(test["name"], test["score"]) for test in results["tests"] if test["name"].startswith("Tutor")] == [
        ("Tutor: " + TASKS_BY_KEY["pen_and_paper"].title, 4.5)]


def test_page_names_are_safe_and_distinct():
    from tools.text import display_name
    from tools.report.site import page_names

    paths = [os.fsdecode(b"/c/caf\xe9"), "/c/café", "/d/café", "/c/../..", "/c/<script>", "/c/日本", "/c/日本語"]
    results = [Result(display_name(os.path.basename(path)), path) for path in paths]
    names = page_names(results + results[:1])
    assert len(set(names)) == len(names)
    assert all(__import__("re").match(r"^[a-z0-9-]+\.html$", name) for name in names), names
    assert names[1].startswith("cafe-") and names[5].startswith("submission-")


def test_the_rule_flags_a_count_that_grows_with_the_batch_and_reads_no_forged_shape():
    small, large = findings.BATCH_SIZES
    outcomes = {"grading/value_checks.py::test_lines_per_batch[linear_backward]": {
        "outcome": "passed", "properties": {"lines": {str(small): 8, str(large): 131}}},
        "grading/value_checks.py::test_lines_per_batch[sequential_backward]": {
        "outcome": "passed", "properties": {"lines": {str(small): 10, str(large): 10}}},
        "grading/value_checks.py::test_lines_per_batch[relu_backward]": {
        "outcome": "passed", "properties": {"lines": {str(small): "2", str(large): [1]}}},
        "grading/value_checks.py::test_lines_per_batch[nonsense]": {"properties": {"lines": {}}}}
    counts = findings.lines_counts(outcomes)
    assert sorted(counts) == ["linear_backward", "sequential_backward"]
    assert findings.vectorisation(counts) == [
        "gap 3 (Linear.backward) runs 8 lines for a batch of 3 and 131 for a batch of 48: " + LOOP]


def test_the_lines_items_are_collected_as_the_grader_names_them_and_carry_no_task_marker(tmp_path):
    from tools.testrun import marker_expression

    def collected(*extra):
        done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                               "grading/value_checks.py"] + list(extra), cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=120)
        return [line for line in done.stdout.splitlines() if "::" in line]

    lines = [nodeid for nodeid in collected() if "test_lines_per_batch" in nodeid]
    assert lines == list(findings.lines_items()) and len(lines) == len(findings.BATCH_CALLS)
    # Not selected by any task's marker: no student's points table and no verdict counts them.
    assert not [nodeid for nodeid in collected("-m", marker_expression()) if "test_lines_per_batch" in nodeid]
