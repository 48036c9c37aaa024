"""The class report: a static site that opens from disk, offline (tools/grade.py --report DIR writes it).

    DIR/index.html              the class page, for the instructor and tutors
    DIR/tutor/<name>.html       one page per submission for its tutor: points, findings, the gaps beside the
                                reference solution, pycodestyle in the gaps, the grading notes of the written part
    DIR/students/<name>.html    one page per submission that may be sent to its student: points and failure
                                lines only, never reference code, nothing about other students
    DIR/pages.csv               name, folder and page of each submission (for sending the student pages)

Every text a submission controls (folder names, failure messages, code, feedback answers) reaches the pages
through Jinja2's autoescaping only; the pages' own style and script are inline, allowed by their hashes in a
Content-Security-Policy that allows nothing else, so that an escaping slip could still run no script. The
histograms are PNG data URIs: the site has no other files.
"""
import base64
import csv
import datetime
import errno
import hashlib
import io
import os
import re
import statistics
import textwrap
import unicodedata
from collections import Counter, OrderedDict
from typing import Dict, List, Optional, Sequence

import jinja2
import latex2mathml.converter as latex_to_mathml
from markupsafe import Markup

from grading import points, style as style_check
from grading.gaps import GapError, gap_bodies, source_lines, student_gaps, without_gap_bodies
from grading.tasks import CODE_TASKS, TASKS, total
from tools import course as courses, handout, totals
from tools.rebuild import first_differences
from tools.report.findings import student_lines
from tools.result import Result
from tools.submission import NotRead, read_below
from tools.text import safe_text, spreadsheet_text
from tools.tutor_points import TUTOR_TASKS, number

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
REFERENCE_ANSWERS = os.path.join(handout.REPO, "solutions", "reference_answers.md")
FEEDBACK_TEMPLATE = os.path.join(handout.REPO, points.FEEDBACK_FILE)
# The written part, copied beside the tutor page (the site is one folder to hand to tutors), up to this size.
PDF_NAME = "submission.pdf"
PDF_BYTES = 50 * 1024 * 1024
# How many of the most common first failure lines the class page shows per task.
COMMON_FAILURES = 5
# The longest feedback answer the class page quotes (a feedback.md may hold up to 1 MB).
ANSWER_CHARACTERS = 1500
# An inline formula of the reference answers: $...$ on one line.
MATHS = re.compile(r"\$([^$\n]+)\$")
NUMBERS = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
HOURS = re.compile(r"(\d+(?:[.,]\d+)?)(?:\s*(?:-|\u2013|to|bis)\s*(\d+(?:[.,]\d+)?))?")


# ---------------------------------------------------------------- names, numbers, lines

def page_names(results: List[Result]) -> List[str]:
    """A file name per submission: its name in lower-case ASCII letters, digits and dashes, then 8 hex digits of a
    hash of its folder's path, so that distinct folders get distinct pages (also names that are not UTF-8, or
    that have no ASCII letter at all) and a page keeps its name from one grading run to the next."""
    taken, names = set(), []
    for result in results:
        ascii_name = unicodedata.normalize("NFKD", result.name).encode("ascii", "ignore").decode("ascii")
        slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-") or "submission"
        digest = hashlib.sha256(os.fsencode(os.path.abspath(result.path))).hexdigest()[:8]
        name, count = "{}-{}".format(slug, digest), 1
        while name in taken:  # the same folder given twice
            count += 1
            name = "{}-{}-{}".format(slug, digest, count)
        taken.add(name)
        names.append(name + ".html")
    return names


def first_failure(row: points.Row) -> str:
    """The line a row gives for what went wrong first: its first failing test's, else its detail."""
    return row.failure or row.detail or ""


def points_text(value) -> str:
    return "\u2013" if value is None else str(number(value))


def excerpt(lines: List[str], line: int, around: int = 2) -> List[dict]:
    """[{number, text, marked}] of the lines around a 1-based line number."""
    first, last = max(1, line - around), min(len(lines), line + around)
    return [{"number": index, "text": lines[index - 1], "marked": index == line} for index in range(first, last + 1)]


# ---------------------------------------------------------------- what the pages show

def reference_bodies() -> Dict[str, List[str]]:
    """{gap name: the reference solution's lines between the markers}, from the master's lib/."""
    solution = handout.build_handout(cut=False)
    bodies = {}
    for task in CODE_TASKS:
        bodies.update(gap_bodies(solution[task.file].decode("utf-8"), task.file))
    return bodies


def style_in_gaps(sources: Dict[str, str], max_line_length: int) -> Dict[str, List[dict]]:
    """{gap name: [{line, column, text}]} of what pycodestyle finds inside the gaps of a student's files {path:
    text} (the line numbered from the first line after START TODO, as the grader's messages number them), checked
    within the grader's bound; nothing where pycodestyle did not finish (the bonus row says why)."""
    found = style_check.check(sources, max_line_length, style_check.GRADER)
    marks = {}
    for path, text in sources.items():
        in_file = [problem for problem in found.problems if problem.path == path]
        for name, (body, _, start) in student_gaps(text, path)[0].items():
            marks[name] = [{"line": problem.line - start, "column": problem.column,
                            "text": "{} {}".format(problem.code, problem.text)} for problem in in_file
                           if start < problem.line <= start + len(body)]
    return marks


def finding_context(finding: str, result: Result, handout_cut: Dict[str, bytes]) -> dict:
    """A finding with the lines it names: a file's lines around 'path:line', the changed lines of a file whose
    code outside the gaps differs, or a gap's lines around 'gap N (name), line L'."""
    sources = result.sources
    context = {"text": finding, "lines": [], "diff": []}
    match = re.match(r"^(?P<path>[^:\s]+\.py):(?P<line>\d+): ", finding)
    if match and match.group("path") in sources:
        context["lines"] = excerpt(source_lines(sources[match.group("path")]), int(match.group("line")))
        return context
    match = re.match(r"^(?P<path>[^:\s]+\.py): code outside the gaps differs", finding)
    if match and match.group("path") in sources and match.group("path") in handout_cut:
        path = match.group("path")
        try:
            expected = source_lines(without_gap_bodies(handout_cut[path].decode("utf-8"), path))
            got = source_lines(without_gap_bodies(sources[path], path))
        except GapError:
            return context
        context["diff"] = diff_lines(expected, got)
        return context
    match = re.match(r"^(?P<path>[^:\s]+) differs from the handout", finding)
    if match and match.group("path") in sources and match.group("path") in handout_cut:
        path = match.group("path")
        expected = source_lines(handout_cut[path].decode("utf-8", errors="replace"))
        context["diff"] = diff_lines(expected, source_lines(sources[path]))
        return context
    match = re.match(r"^gap (?P<number>\d+) \((?P<gap>[\w.]+)\), line (?P<line>\d+): ", finding)
    gap = result.gaps.get(match.group("gap")) if match else None
    if gap is not None and gap.body:
        context["lines"] = excerpt(gap.body, int(match.group("line")))
    return context


def diff_lines(expected: List[str], got: List[str], limit: int = 60) -> List[dict]:
    """The first lines of a unified diff from the handout's lines to the submission's, each with its kind."""
    diff = first_differences(expected, got, 1)
    return [{"text": line, "kind": {"+": "added", "-": "removed", "@": "hunk"}.get(line[:1], "")}
            for line in diff[:limit]]


def grading_notes() -> List[dict]:
    """[{task, parts: [{heading, notes: [text]}]}] for the tutor-graded tasks: the paragraphs of
    solutions/reference_answers.md that grade ("**Grading notes", "*Grading:*", "**What a tutor should notice"),
    under the headings whose start is the task's title (grading/tasks.py), e.g. "Pen and paper 2: ..."."""
    with open(REFERENCE_ANSWERS, encoding="utf-8") as file:
        text = points.strip_comments(file.read())
    sections, heading = OrderedDict(), None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            sections[heading] = []
        elif heading is not None:
            sections[heading].append(line)
    found = []
    for task in TUTOR_TASKS:
        prefix = task.title.split(" (")[0]
        parts = []
        for heading, lines in sections.items():
            if not heading.startswith(prefix):
                continue
            notes, question = [], None
            for paragraph in re.split(r"\n\s*\n", "\n".join(lines)):
                paragraph = paragraph.strip()
                if paragraph.startswith("### "):
                    question = paragraph[4:].splitlines()[0].strip()
                elif paragraph.startswith(("**Grading notes", "*Grading:*", "**What a tutor should notice")):
                    notes.append((question + ": " if question and paragraph.startswith("*Grading:*") else "") +
                                 paragraph)
            parts.append({"heading": heading, "notes": notes})
        found.append({"task": task, "parts": parts})
    return found


def markdown_light(text: str) -> Markup:
    """Our own Markdown (a paragraph of the reference answers, never a submission's text), escaped first: its lines
    joined, '- ' items as a list, then **bold**, *emphasis*, `code`, and $maths$ as MathML (latex2mathml), which
    browsers render without a script."""
    blocks, items = [], None
    for line in text.splitlines():
        if line.lstrip().startswith("- "):
            items = [line.lstrip()[2:]] if items is None else items + [line.lstrip()[2:]]
        elif items is not None:
            items[-1] += " " + line.strip()
        else:
            blocks.append(line.strip())

    def inline_markup(part: str) -> str:
        formulas = []

        def hold(match) -> str:  # the formula out of the escaping and the emphasis rules, put back as MathML
            formulas.append(latex_to_mathml.convert(match.group(1)))
            return "\x00{}\x00".format(len(formulas) - 1)

        html = str(Markup.escape(MATHS.sub(hold, part)))
        html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)
        html = re.sub(r"(?<![\w*])\*(?!\s)(.+?)\*(?!\w)", r"<em>\1</em>", html)
        html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
        return re.sub("\x00(\\d+)\x00", lambda match: formulas[int(match.group(1))], html)

    html = "<p>{}</p>".format(inline_markup(" ".join(blocks))) if blocks else ""
    if items:
        html += "<ul>{}</ul>".format("".join("<li>{}</li>".format(inline_markup(item)) for item in items))
    return Markup(html)


def hours_of(answer: str) -> Optional[float]:
    """The hours of an answer such as '6.5', 'about 6,5 h' or '5-7' (the middle), if plausible."""
    match = HOURS.search(answer or "")
    if not match:
        return None
    low = float(match.group(1).replace(",", "."))
    value = (low + float(match.group(2).replace(",", "."))) / 2 if match.group(2) else low
    return value if 0 < value <= 200 else None


def feedback_summary(results: List[Result]) -> dict:
    """The questions of feedback.md with the class's answers; the hours answer as numbers too."""
    with open(FEEDBACK_TEMPLATE, encoding="utf-8") as file:
        template = points.markdown_sections(file.read())
    questions = [heading for heading in template if heading.endswith("?")]
    answered = [points.markdown_sections(result.feedback) for result in results if result.feedback]
    summary = {"files": len(answered), "questions": []}
    for heading in questions:
        answers = [sections.get(heading, "") for sections in answered]
        answers = [answer for answer in answers if answer and answer != template[heading]]
        entry = {"heading": heading, "answers": [answer if len(answer) <= ANSWER_CHARACTERS else
                                                 answer[:ANSWER_CHARACTERS - 3] + "..." for answer in answers],
                 "hours": None}
        if "hour" in heading.lower():
            hours = [value for value in map(hours_of, answers) if value is not None]
            entry["hours"] = {"count": len(hours), "median": number(statistics.median(hours)) if hours else None,
                              "histogram": histogram(hours, "hours spent (feedback.md)", step=None) if hours else None}
        summary["questions"].append(entry)
    return summary


def histogram(values: List[float], xlabel: str, step: Optional[float] = 1.0, top: Optional[float] = None) -> str:
    """A small histogram as a PNG data URI (matplotlib's Agg canvas: no display, no global pyplot state)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(6.4, 2.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if step is None:
        bins = "auto"
    else:
        high = max(max(values), top or 0)
        bins = np.arange(-step / 2, high + step, step)
    axes.hist(values, bins=bins, color="#3b6ea8", edgecolor="white")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("submissions")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if step is not None:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlim(-step / 2, max(max(values), top or 0) + step / 2)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# ---------------------------------------------------------------- the pages

def task_columns(with_tutor: bool) -> List[dict]:
    columns = []
    for task in TASKS:
        if task.kind == "tutor" and not with_tutor:
            continue
        # Short headers ("style", "paper"); the cell's title has the task's full name.
        label = str(task.number) if task.kind == "code" else task.key.split("_")[-1]
        columns.append({"task": task, "label": label, "title": "{}, {} point{}".format(
            task.title, task.points, "" if task.points == 1 else "s")})
    return columns


def cells_of(result: Result, columns: List[dict]) -> List[dict]:
    rows = {row.task.key: row for row in result.rows or []}
    cells = []
    for column in columns:
        key = column["task"].key
        row = rows.get(key)
        value = (result.tutor or {}).get(key) if column["task"].kind == "tutor" else (row.points if row else None)
        status = row.status if row else "error"
        if column["task"].kind == "tutor":
            status = "passed" if value == column["task"].points else (
                "tutor" if value is None else ("partial" if value > 0 else "failed"))
        elif status == "passed" and value != column["task"].points:
            status = "failed"
        cells.append({"text": points_text(value), "sort": -1 if value is None else value, "status": status,
                      "title": "" if row is None or row.status == "passed" else row.detail})
    return cells


def class_statistics(results: List[Result]) -> List[dict]:
    """Per code and bonus task: how many earned it, and the most common first failure lines (numbers aside, so
    that the same failure with other values counts as one)."""
    graded = [result for result in results if result.rows]
    found = []
    for task in TASKS:
        if task.kind == "tutor":
            continue
        rows = [next(row for row in result.rows if row.task.key == task.key) for result in graded]
        earned = sum(row.points == task.points for row in rows)
        groups, examples = Counter(), {}
        for row in rows:
            if row.points != task.points:
                line = first_failure(row)
                key = NUMBERS.sub("#", line)
                groups[key] += 1
                examples.setdefault(key, Counter())[line] += 1
        common = [{"count": count, "line": examples[key].most_common(1)[0][0]}
                  for key, count in groups.most_common(COMMON_FAILURES)]
        found.append({"task": task, "earned": earned, "of": len(rows),
                      "share": earned / len(rows) if rows else 0.0, "common": common,
                      "more": len(groups) - len(common)})
    return found


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["markdown_light"] = markdown_light
    env.filters["percent"] = lambda share: "{:.0f} %".format(100 * share)
    return env


def inline(name: str) -> dict:
    """Our own style sheet or script, to be put inline, with its hash for the Content-Security-Policy."""
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as file:
        text = file.read()
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return {"text": Markup(text), "hash": "'sha256-{}'".format(digest)}


def write_site(directory: str, results: List[Result], sandbox: str, graded_without_sandbox: bool = False,
               sandbox_notes: Sequence[str] = (), changes: Sequence[str] = (),
               course: courses.Course = courses.Course(), published: bool = False) -> None:
    """Write the class report for these grading results (tools/grade.py's, tutor points merged or not);
    sandbox_notes, what held in the sandbox, go on the tutor pages only; changes, what changed since an earlier
    grading (tools/regrade.py's lines), on the class page. The student pages show what the course's visibility
    settings show now (after the submission's deadline; `published`: the grades are published)."""
    env = environment()
    style, script = inline("report.css"), inline("sort.js")
    with_tutor = any(result.tutor is not None for result in results)
    columns = task_columns(with_tutor)
    maximum = total("code") + total("bonus") + (total("tutor") if with_tutor else 0)
    names = page_names(results)
    handout_cut = handout.build_handout(cut=True)
    reference = reference_bodies()
    max_line_length = points.max_line_length(handout.REPO)
    notes = grading_notes()
    common = {"style": style, "sandbox": sandbox, "without_sandbox": graded_without_sandbox,
              "when": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "maximum": maximum,
              "with_tutor": with_tutor, "tutor_tasks": TUTOR_TASKS,
              "with_late": any(result.late is not None for result in results)}

    for folder in ("tutor", "students", os.path.join("tutor", "pdf")):
        os.makedirs(os.path.join(directory, folder), exist_ok=True)
        for old in os.listdir(os.path.join(directory, folder)):
            if old.endswith((".html", ".pdf")):  # pages of an earlier run, perhaps of a student not in this one
                os.remove(os.path.join(directory, folder, old))

    views = []
    for result, page in zip(results, names):
        rows = [{"row": row, "points": points_text(row.points), "failure": first_failure(row)}
                for row in result.rows or []]
        late = result.late
        view = {"result": result, "page": page, "rows": rows, "cells": cells_of(result, columns),
                "total": totals.earned(result), "findings": result.findings(),
                "tutor": None if result.tutor is None else {key: number(value) for key, value in result.tutor.items()},
                "late": late.line() if late is not None else None,
                "of_record": totals.of_record(result),
                "pdf": copy_pdf(result, os.path.join(directory, "tutor", "pdf", page[:-len(".html")] + ".pdf"))}
        views.append(view)
        # The student's page gets only these: its points and failure lines, nothing of the tutor's view, and of
        # them only what the course's visibility settings show now.
        due = late.due if late is not None else (course.late.due_for(result.name) if course.late else None)
        # Without a deadline no page can know that it has passed: after_due_date parts stay hidden.
        due_passed = due is not None and datetime.datetime.now(datetime.timezone.utc) >= due
        student_rows = []
        for item in rows:
            task = item["row"].task
            visibility = "visible" if task.kind == "tutor" else course.visibility.of(task.key)
            student_rows.append({"task": task, "points": item["points"], "status": item["row"].status,
                                 "failure": item["failure"], "hidden": None if courses.shown(
                                     visibility, due_passed, published) else hidden_until(visibility, due)})
        shown_lines = courses.shown(course.visibility.output, due_passed, published)
        every_row = not any(row["hidden"] for row in student_rows)
        student_view = {"name": result.name, "error": bool(result.error),
                        "total": view["of_record"] if every_row else None, "rows": student_rows,
                        "late": late.line(amounts=every_row) if late is not None else None,
                        "lines": student_lines(result, {row["task"].key for row in student_rows if row["hidden"]})
                        if shown_lines else [],
                        "lines_hidden": None if shown_lines else hidden_until(course.visibility.output, due)}
        student = env.get_template("student.html").render(student=student_view, **common)
        write(os.path.join(directory, "students", page), student)
        write(os.path.join(directory, "tutor", page), env.get_template("tutor.html").render(
            view=view, gaps=gap_views(result, reference, max_line_length), notes=notes, sandbox_notes=sandbox_notes,
            findings=[finding_context(text, result, handout_cut) for text in result.policy + result.integrity],
            **common))

    class_totals = [view["total"] for view in views]
    fractional = any(not float(value).is_integer() for value in class_totals)
    page = env.get_template("class.html").render(
        views=views, columns=columns, statistics=class_statistics(results), feedback=feedback_summary(results),
        histogram=histogram(class_totals, "total points", step=0.5 if fractional else 1.0, top=maximum)
        if class_totals else None, median=number(statistics.median(class_totals)) if class_totals else None,
        script=script, changes=list(changes), **common)
    write(os.path.join(directory, "index.html"), page)
    with open(os.path.join(directory, "pages.csv"), "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["name", "folder", "student page", "tutor page", "total"])
        for view in views:
            result = view["result"]
            folder = safe_text(os.fsencode(result.path).decode("utf-8", "backslashreplace"), 1000)
            writer.writerow([spreadsheet_text(result.name), spreadsheet_text(folder), "students/" + view["page"],
                             "tutor/" + view["page"], view["total"]])


def gap_views(result: Result, reference: Dict[str, List[str]], max_line_length: int) -> List[dict]:
    """Per gap: the student's lines and the reference's, pycodestyle's findings in the gap, the loop finding."""
    sources = result.sources
    marks = style_in_gaps({path: sources[path] for path in sorted({task.file for task in CODE_TASKS})
                           if path in sources}, max_line_length)
    rows = {row.task.key: row for row in result.rows or []}
    loops = {finding.split(" (")[0]: finding for finding in result.vectorisation}
    views = []
    for task in CODE_TASKS:
        gap = result.gaps.get(task.gap)
        body = source_lines(textwrap.dedent("\n".join(gap.body))) if gap is not None and gap.body else []
        marked = {item["line"] for item in marks.get(task.gap, [])}
        views.append({"task": task, "status": gap.status if gap is not None else "not read",
                      "row": rows.get(task.key), "points": points_text(rows[task.key].points) if task.key in rows
                      else "\u2013",
                      "lines": [{"number": index, "text": line, "marked": index in marked}
                                for index, line in enumerate(body, start=1)],
                      "reference": source_lines(textwrap.dedent("\n".join(reference.get(task.gap, [])))),
                      "style": marks.get(task.gap, []), "loop": loops.get("gap {}".format(task.number)),
                      "counts": result.lines.get(task.key)})
    return views


def hidden_until(visibility: str, due: Optional[datetime.datetime]) -> str:
    """What a student page says in place of a part the course does not show yet."""
    return {"after_due_date": "shown after the deadline{}".format(" ({})".format(courses.stamp(due)) if due else ""),
            "after_published": "shown when the grades are published", "hidden": "not shown to students"}[visibility]


def copy_pdf(result: Result, target: str) -> dict:
    """The submission's submission.pdf (the written part) copied to target, for the tutor page's link: a regular
    file reached through real folders only, at most PDF_BYTES (tools/submission.read_below)."""
    root = result.root
    if not root:
        return {"found": False, "why": "the submission was not read"}
    try:
        data = read_below(root, PDF_NAME, PDF_BYTES, one_link=True)
    except NotRead as error:
        if error.kind:
            why = "{} is {}: not read".format(PDF_NAME, error.kind)
        elif error.error is not None and error.error.errno == errno.EFBIG:
            why = "{} is over {} MB: not copied; it is in the submission's folder".format(
                PDF_NAME, PDF_BYTES // (1024 * 1024))
        elif error.error is not None and error.error.errno != errno.ENOENT:
            why = "{} could not be read ({})".format(PDF_NAME, safe_text(error.error.strerror or error.error, 200))
        else:
            why = "no {} in the submission".format(PDF_NAME)
        return {"found": False, "why": why}
    write_bytes(target, data)
    return {"found": True, "link": "pdf/" + os.path.basename(target), "size": "{:.1f} MB".format(
        len(data) / 1024 / 1024) if len(data) >= 100 * 1024 else "{} kB".format(max(1, len(data) // 1024)),
        "is_pdf": data.startswith(b"%PDF-")}


def write_bytes(path: str, data: bytes) -> None:
    with open(path, "wb") as file:
        file.write(data)


def write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
