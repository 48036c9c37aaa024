"""feedback.md is the sheet's template, and the bonus check (grading/points.py) tells it apart from a filled-in copy.

"Still the template" means: a `## ` question whose text (HTML comments removed, white space squeezed) is empty
or equal to the template's, i.e. the placeholder line. The handout ships an untouched copy of feedback.md as
grading/feedback_template.md (tools/handout_manifest.txt), and points.feedback_row compares with that copy.
"""
import re
import shutil
from pathlib import Path

import pytest

from grading import points

REPO_ROOT = Path(__file__).resolve().parents[2]
FEEDBACK = REPO_ROOT / "feedback.md"
QUESTIONS = ["Major problems?", "Helpful?", "Duration (hours)?", "Other feedback?"]
PLACEHOLDER = "_Replace this line with your answer._"
ANSWERS = {"Major problems?": "None, the tests explained every failure.", "Helpful?": "Yes, the PDF.",
           "Duration (hours)?": "6.5", "Other feedback?": "none"}


def answer(text: str, question: str, reply: str) -> str:
    """text with the placeholder under the heading `question` replaced by reply."""
    pattern = r"(^## {}\s*\n\s*\n?){}".format(re.escape(question), re.escape(PLACEHOLDER))
    new, count = re.subn(pattern, lambda match: match.group(1) + reply, text, flags=re.M)
    assert count == 1, "no placeholder under '## {}' in feedback.md".format(question)
    return new


@pytest.fixture
def submission(tmp_path):
    """A student's folder: the handout's untouched template copy; the test writes feedback.md into it."""
    (tmp_path / "grading").mkdir()
    shutil.copyfile(str(FEEDBACK), str(tmp_path / points.FEEDBACK_TEMPLATE))
    return tmp_path


def grade(root: Path, text: str):
    (root / points.FEEDBACK_FILE).write_text(text, encoding="utf-8")
    return points.feedback_row(str(root))


def test_template_has_the_sheets_four_questions_each_with_a_placeholder():
    text = FEEDBACK.read_text(encoding="utf-8")
    assert re.findall(r"^## (.*?)\s*$", text, flags=re.M) == QUESTIONS
    assert re.findall(r"^#\s", text, flags=re.M) == [], "a '# title' would be a fifth section to answer"
    sections = points.markdown_sections(text)
    for question in QUESTIONS:
        assert sections[question] == PLACEHOLDER, "'## {}' should hold only the placeholder line".format(question)


def test_untouched_template_earns_no_bonus(submission):
    row = grade(submission, FEEDBACK.read_text(encoding="utf-8"))
    assert (row.points, row.status) == (0, "failed"), row


def test_filled_in_feedback_earns_the_bonus(submission):
    text = FEEDBACK.read_text(encoding="utf-8")
    for question, reply in ANSWERS.items():
        text = answer(text, question, reply)
    row = grade(submission, text)
    assert (row.points, row.status) == (1, "passed"), row


@pytest.mark.parametrize("left_out", QUESTIONS)
def test_one_unanswered_question_earns_no_bonus(submission, left_out):
    text = FEEDBACK.read_text(encoding="utf-8")
    for question, reply in ANSWERS.items():
        if question != left_out:
            text = answer(text, question, reply)
    row = grade(submission, text)
    assert (row.points, row.status) == (0, "failed"), row
    assert left_out in row.detail


def test_a_removed_heading_earns_no_bonus(submission):
    text = FEEDBACK.read_text(encoding="utf-8")
    for question, reply in ANSWERS.items():
        text = answer(text, question, reply)
    row = grade(submission, text.replace("## Helpful?", "Helpful?"))
    assert (row.points, row.status) == (0, "failed"), row
