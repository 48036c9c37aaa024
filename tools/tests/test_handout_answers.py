"""The handout answers none of the tutor-graded parts: no phrase or number of solutions/answer_key_phrases.txt
appears anywhere in it, and its only figures are the pictures of the ungraded extensions.

Tutors grade the pen-and-paper task and the four questions on the experiments; students find those answers
themselves, with the scripts. The key phrases are taken from the reference answers (solutions/) and the
instructor's experiments page (docs/experiments.md), and each must occur there, so the list cannot drift into
words that answer nothing.
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tools import handout

REPO_ROOT = Path(handout.REPO)
KEY_PHRASES = REPO_ROOT / "solutions" / "answer_key_phrases.txt"
INSTRUCTOR_ANSWERS = [REPO_ROOT / "solutions" / "reference_answers.md", REPO_ROOT / "docs" / "experiments.md"]
# The pictures the handout may show: the ungraded momentum extension, worded as a thing to try. (The L-BFGS
# figure stays out: its gradient-descent curve is the sheet's run, whose loss visibly goes up and down.)
EXTENSION_FIGURES = {"docs/figures/momentum_loss_curves.png", "docs/figures/momentum_decision_boundaries.png"}


def normalise(text: str) -> str:
    """Lower case, runs of white space as one space (a phrase may be wrapped across lines)."""
    return " ".join(text.lower().split())


def key_phrases():
    lines = KEY_PHRASES.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, stdout=subprocess.PIPE,
                          timeout=60).stdout.decode("utf-8", errors="replace")


def handout_texts(files: dict, tmp_path: Path) -> dict:
    """{path: text} of every handout file that holds text (PDFs through pdftotext)."""
    texts = {}
    for path, content in files.items():
        if path.endswith(".pdf"):
            if shutil.which("pdftotext") is None:
                pytest.fail("needs pdftotext to read {} (apt-get install poppler-utils)".format(path))
            texts[path] = pdf_text(content, tmp_path)
        elif not path.endswith((".png", ".gif")):
            texts[path] = content.decode("utf-8", errors="replace")
    return texts


def answers_found(texts: dict, phrases) -> list:
    """'path: phrase (... context ...)' for every phrase found in a text."""
    found = []
    for path, text in texts.items():
        flat = normalise(text)
        for phrase in phrases:
            where = flat.find(normalise(phrase))
            if where >= 0:
                context = flat[max(0, where - 50):where + len(phrase) + 50]
                found.append("{}: {!r} ( ...{}... )".format(path, phrase, context))
    return found


@pytest.fixture(scope="module")
def texts(tmp_path_factory):
    return handout_texts(handout.build_handout(cut=True), tmp_path_factory.mktemp("pdf"))


def test_the_key_phrases_are_answers_from_the_instructor_material():
    phrases = key_phrases()
    assert len(phrases) >= 30, "the list of key phrases looks truncated: {} phrases".format(len(phrases))
    answers = normalise(" ".join(path.read_text(encoding="utf-8") for path in INSTRUCTOR_ANSWERS))
    missing = [phrase for phrase in phrases if normalise(phrase) not in answers]
    assert not missing, "key phrases that answer nothing (found in neither {}): {}".format(
        " nor ".join(str(path.relative_to(REPO_ROOT)) for path in INSTRUCTOR_ANSWERS), missing)


def test_no_key_phrase_appears_anywhere_in_the_handout(texts):
    found = answers_found(texts, key_phrases())
    assert not found, "the handout gives away graded answers:\n" + "\n".join(found)


def test_the_search_finds_a_phrase_that_is_there(texts):
    # The test above can fail: the same search finds a key phrase put into a copy of a handout file.
    phrases = key_phrases()
    planted = {"lib/network.py": texts["lib/network.py"] + "\n# The loss is {}.\n".format(phrases[0].upper())}
    assert answers_found(planted, phrases) == ["lib/network.py: {!r} ( ...{}... )".format(
        phrases[0], normalise(planted["lib/network.py"])[-(len(phrases[0]) + 51):])]
    readme = texts["README.md"].replace("the code style", "the code\n  STYLE; " + phrases[-1], 1)
    assert answers_found({"README.md": readme}, [phrases[-1]]), "a phrase wrapped across lines must be found"


def test_the_handout_shows_only_the_pictures_of_the_extensions():
    figures = {path for path in handout.build_handout(cut=True) if path.endswith((".png", ".gif", ".jpg", ".svg"))}
    assert figures == EXTENSION_FIGURES, (
        "figures other than the extensions' would show answers (the sheet's loss curve, the skip experiment, the "
        "pen-and-paper graph): {}".format(sorted(figures ^ EXTENSION_FIGURES)))


def test_the_students_readme_poses_the_four_questions_and_the_pen_and_paper_task(texts):
    readme = normalise(texts["README.md"])
    for question in ("what do you observe after one step", "does the loss always decrease",
                     "do you always end up with the correct final predictions", "what is the role of `lr`",
                     "what the skip connection changes"):
        assert question in readme, question
    assert len(texts["README.md"].encode("utf-8")) < 10 * 1024, "the student README should stay under 10 KB"
    assert "## For instructors" not in texts["README.md"] and "docs/instructor.md" not in texts["README.md"]
    assert re.search(r"^## For instructors$", (REPO_ROOT / "README.md").read_text(encoding="utf-8"), re.M)
