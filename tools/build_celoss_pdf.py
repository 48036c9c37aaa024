"""Build celoss_derivation.pdf from its Typst source, docs/celoss_derivation.typ.

    python tools/build_celoss_pdf.py                  # writes celoss_derivation.pdf at the repository root
    python tools/build_celoss_pdf.py --out DIR/x.pdf  # anywhere else (tools/tests/test_celoss_pdf.py does this)

Needs the PyPI package typst (the Typst compiler, no TeX), pinned in requirements-dev.txt. The output is
byte-for-byte reproducible for that version: the source sets no date, and only the fonts built into Typst are
used (system fonts are ignored), so the PDF does not depend on the machine. Edit the .typ file, run this
script, look at the pages (pdftoppm -png -r 80 celoss_derivation.pdf /tmp/celoss) and commit both files.
"""
import argparse
import sys
from pathlib import Path

import typst

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE = REPO_ROOT / "docs" / "celoss_derivation.typ"
DEFAULT_OUT = REPO_ROOT / "celoss_derivation.pdf"


def build(out: Path) -> None:
    """Compile SOURCE to the PDF out, with Typst's embedded fonts only."""
    typst.compile(str(SOURCE), output=str(out), root=str(SOURCE.parent), font_paths=[], ignore_system_fonts=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output PDF (default: %(default)s)")
    args = parser.parse_args(argv)
    build(args.out)
    print("wrote {} from {}".format(args.out, SOURCE.relative_to(REPO_ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
