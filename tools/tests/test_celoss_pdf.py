"""The committed celoss_derivation.pdf matches its source, docs/celoss_derivation.typ, and its text is selectable.

tools/build_celoss_pdf.py compiles the source with the PyPI package typst (pinned in requirements-dev.txt),
with no date and Typst's built-in fonts only, so the rebuilt file must be byte-identical to the committed one.
Only a different Typst compiler (its version is the PDF's /Creator entry, e.g. "Typst 0.15.1") may lay out
the pages differently; then the byte comparison is skipped (with the reason), but the extracted text and the
rendered pages must still agree. Those tests need poppler-utils (pdftotext, pdftoppm) and skip without them.

If a test fails after an edit of the source: python tools/build_celoss_pdf.py, look at the pages, commit both.
"""
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED = REPO_ROOT / "celoss_derivation.pdf"
BUILD_SCRIPT = REPO_ROOT / "tools" / "build_celoss_pdf.py"
REBUILD_HINT = "the PDF is out of date with its source: run `python tools/build_celoss_pdf.py` and commit the PDF"

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="needs pdftotext and pdftoppm (apt-get install -y poppler-utils)")


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    if importlib.util.find_spec("typst") is None:
        pytest.skip("needs the typst package to rebuild the PDF (pip install -r requirements-dev.txt)")
    out = tmp_path_factory.mktemp("celoss") / "celoss_derivation.pdf"
    subprocess.run([sys.executable, str(BUILD_SCRIPT), "--out", str(out)], check=True, cwd=str(REPO_ROOT),
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return out


@pytest.fixture(scope="module")
def committed_text() -> str:
    """The committed PDF's text with runs of white space as one space (pdftotext -layout pads lines)."""
    return re.sub(r"\s+", " ", pdf_text(COMMITTED))


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, stdout=subprocess.PIPE,
                          timeout=60).stdout.decode("utf-8")


def page_images(path: Path, directory: Path):
    """Every page as a grey-scale array at 50 dpi, in page order."""
    directory.mkdir()
    subprocess.run(["pdftoppm", "-r", "50", "-gray", "-png", str(path), str(directory / "page")], check=True,
                   timeout=60)
    return [np.asarray(Image.open(str(png)), dtype=float) for png in sorted(directory.glob("page*.png"))]


def typst_version(path: Path) -> str:
    """The version of the Typst compiler that wrote the PDF, from its /Creator entry, e.g. '0.15.1'."""
    match = re.search(rb"/Creator ?\(Typst ([^)]+)\)", path.read_bytes())
    assert match, "{} has no Typst /Creator entry; was it built by {}?".format(path, BUILD_SCRIPT.name)
    return match.group(1).decode("ascii")


def test_committed_pdf_exists():
    assert COMMITTED.is_file(), "celoss_derivation.pdf is missing at the repository root; " + REBUILD_HINT


def test_rebuild_is_byte_identical(rebuilt):
    # The typst package (0.15.2) and the compiler it wraps (Typst 0.15.1) have their own version numbers;
    # the PDF records the compiler's, so the rebuilt PDF tells which compiler is installed here.
    built_with, installed = typst_version(COMMITTED), typst_version(rebuilt)
    if built_with != installed:
        pytest.skip("committed PDF was built with Typst {}, the installed typst package has Typst {} (pin: "
                    "requirements-dev.txt); text and pages are compared instead".format(built_with, installed))
    assert rebuilt.read_bytes() == COMMITTED.read_bytes(), REBUILD_HINT


@needs_poppler
def test_rebuild_has_the_same_text(rebuilt):
    assert pdf_text(rebuilt) == pdf_text(COMMITTED), REBUILD_HINT


@needs_poppler
def test_rebuild_has_the_same_pages(rebuilt, tmp_path):
    committed_pages = page_images(COMMITTED, tmp_path / "committed")
    rebuilt_pages = page_images(rebuilt, tmp_path / "rebuilt")
    assert len(rebuilt_pages) == len(committed_pages), REBUILD_HINT
    for number, (old, new) in enumerate(zip(committed_pages, rebuilt_pages), start=1):
        assert old.shape == new.shape, "page {}: {}".format(number, REBUILD_HINT)
        # Pixels that changed by more than a quarter of the grey range. Another Typst version may move glyph
        # edges by a fraction of a pixel (small changes); one added word changes hundreds of pixels.
        changed = int(np.sum(np.abs(old - new) > 64))
        assert changed <= 0.0001 * old.size, "page {}: {} pixels differ: {}".format(number, changed, REBUILD_HINT)


@needs_poppler
@pytest.mark.parametrize("phrase", [
    "original question", "Jacobian", "softmax", "chain rule", "cross-entropy", "one-hot", "Kronecker delta",
    "Softmax.backward", "CrossEntropyLoss.backward", "log-softmax", "(N, C, C)", "batch size",
])
def test_text_is_selectable(committed_text, phrase):
    assert phrase.lower() in committed_text.lower(), "pdftotext does not find {!r} in {}".format(
        phrase, COMMITTED.name)


@needs_poppler
def test_result_is_stated(committed_text):
    """The final formula (8) must be in the text: the gradient (softmax(z) - y) / N.

    Typst writes the letters of formulas as Unicode mathematical italics (U+1D467 for z, U+1D466 for y) and
    the minus sign as U+2212, so pdftotext gives 'softmax(𝑧) − 𝑦'.
    """
    assert re.search(r"softmax\([z\U0001D467]\) [-\u2212] [y\U0001D466]", committed_text), \
        "formula (8) not found in the PDF's text"
