"""Build celoss_derivation.pdf: the gradient of the mean cross-entropy of softmax outputs w.r.t. the logits.

    python tools/build_celoss_pdf.py                  # writes celoss_derivation.pdf at the repository root
    python tools/build_celoss_pdf.py --out DIR/x.pdf  # anywhere else (tools/tests/test_celoss_pdf.py does this)

The text and the mathematics live in this file (CONTENT below). Matplotlib's mathtext typesets the formulas,
so no TeX installation is needed. The output is byte-for-byte reproducible for a given matplotlib version:
no creation date is written, and fonts are embedded as TrueType (pdf.fonttype 42), which also keeps the
text selectable (pdftotext finds the words).

Markup in paragraphs: $...$ is inline mathematics, `...` is code (monospace); everything else is text.
A small layout engine below wraps paragraphs, aligns equations at their "=" and breaks pages.
"""
import argparse
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("pdf")  # headless, and the only backend we measure text with

from matplotlib.backends.backend_pdf import PdfPages, RendererPdf  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "celoss_derivation.pdf"

# A4 in points, and the page geometry.
PAGE_W, PAGE_H = 595.28, 841.89
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 72.0, 60.0, 70.0
TEXT_W = PAGE_W - 2 * MARGIN_X

BODY, CODE, EQUATION, HEADING, TITLE, SMALL = 11.0, 9.6, 12.5, 13.5, 16.0, 8.5
LEADING = 1.36  # baseline distance / font size
FAMILIES = {"text": "STIXGeneral", "math": "STIXGeneral", "code": "DejaVu Sans Mono"}
BOX_COLOUR = "#eef2f7"
RULE_COLOUR = "#4a6fa5"

RC = {
    "pdf.fonttype": 42,           # TrueType with a ToUnicode map: selectable text, deterministic subsets
    "pdf.compression": 6,
    "mathtext.fontset": "stix",   # the same Times-like face for text and formulas
    "font.family": "STIXGeneral",
    "text.usetex": False,
}

METADATA = {
    "Title": "Gradient of the mean cross-entropy with respect to the logits",
    "Author": "Exercise 3 (backpropagation)",
    "Subject": "Derivation of dL/dz = (softmax(z) - y) / N for CrossEntropyLoss.backward",
    "Keywords": "softmax, cross-entropy, Jacobian, backpropagation",
    "Creator": "tools/build_celoss_pdf.py",
    "CreationDate": None,         # no timestamp: the same source gives the same bytes
}


# ----------------------------------------------------------------------------------------------------------
# The document. Each entry is (kind, payload), or ("para", text, indent) for an indented paragraph.
# Kinds: title, subtitle, heading, para, bullets, eqs, box.
# eqs rows are (lhs, rhs, number): lhs is set flush right and rhs flush left at one shared column, so the
# "=" signs of a block line up; number goes to the right margin.
# ----------------------------------------------------------------------------------------------------------
CONTENT = [
    ("title", "Gradient of the mean cross-entropy with respect to the logits"),
    ("subtitle", "Exercise 3, backpropagation: the derivation behind `CrossEntropyLoss.backward` in `lib/losses.py`"),

    ("heading", "1   The original question"),
    ("box", [
        "The network ends in a `Linear` layer that outputs one score, a logit, per class. `CrossEntropyLoss` "
        "turns the logits into class probabilities with the softmax and averages the cross-entropy between "
        "these probabilities and the one-hot targets over the batch.",
        r"Derive the gradient of this mean cross-entropy with respect to the logits, $\partial L/\partial z$, "
        "and simplify it as far as you can for one-hot targets.",
        "The sheet hands you this derivation instead of asking for it. Read it, then implement the result in "
        "`CrossEntropyLoss.backward`.",
    ]),

    ("heading", "2   Notation"),
    ("para", "The arrays are batch-first, as everywhere in `lib/`: row $n$ belongs to sample $n$ of the batch."),
    ("bullets", [
        "$N$ is the batch size and $C$ the number of classes.",
        r"$z \in \mathbb{R}^{N \times C}$ are the logits, the input of `CrossEntropyLoss.forward` (`logits`, "
        "shape (N, C)).",
        r"$y \in \{0, 1\}^{N \times C}$ are the one-hot targets (`targets`, shape (N, C)): $y_{nc} = 1$ if "
        r"sample $n$ belongs to class $c$, else $0$. Each row holds exactly one 1, so $y_{n1} + \cdots + y_{nC} = 1$.",
        r"$p = \mathrm{softmax}(z)$, taken row by row, are the probabilities, shape (N, C). `forward` caches "
        "them as `probabilities`; the `Softmax` module in `lib/activations.py` calls its output $h$.",
    ]),
    ("para", "The softmax of sample $n$ and the mean cross-entropy over the batch are"),
    ("eqs", [
        ("p_{nc}", r"= \dfrac{e^{z_{nc}}}{\sum_{k=1}^{C} e^{z_{nk}}}", "(1)"),
        ("L", r"= -\dfrac{1}{N} \, \sum_{n=1}^{N} \, \sum_{c=1}^{C} \, y_{nc} \, \log p_{nc}", "(2)"),
    ]),
    ("para", "Because $y_n$ is one-hot, only the true class $t_n$ of each sample survives in the inner sum: "
             r"$L$ is the mean of $-\log p_{n t_n}$, small when the model gives the true class a high "
             "probability."),

    ("heading", "3   The softmax Jacobian"),
    ("para", "The softmax works on each row separately: $p_{ni}$ depends on the logits of sample $n$ only, so "
             r"$\partial p_{ni} / \partial z_{mj} = 0$ for $m \neq n$. Fix one sample and drop the index $n$. "
             r"With $S = e^{z_1} + \cdots + e^{z_C}$ we have $p_i = e^{z_i} / S$ and $\partial S / \partial z_j = "
             "e^{z_j}$. The quotient rule gives two cases."),
    ("para", "Case $i = j$: the numerator $e^{z_i}$ depends on $z_i$ as well."),
    ("eqs", [
        (r"\dfrac{\partial p_i}{\partial z_i}",
         r"= \dfrac{e^{z_i} \, S - e^{z_i} \, e^{z_i}}{S^2}"
         r" = \dfrac{e^{z_i}}{S} - \left(\dfrac{e^{z_i}}{S}\right)^2 = p_i \, (1 - p_i)", ""),
    ]),
    ("para", r"Case $i \neq j$: the numerator does not depend on $z_j$, so its derivative is 0."),
    ("eqs", [
        (r"\dfrac{\partial p_i}{\partial z_j}",
         r"= \dfrac{0 \cdot S - e^{z_i} \, e^{z_j}}{S^2} = -\dfrac{e^{z_i}}{S} \, \dfrac{e^{z_j}}{S}"
         r" = -p_i \, p_j", ""),
    ]),
    ("para", r"With the Kronecker delta ($\delta_{ij} = 1$ if $i = j$, else 0) both cases are one formula:"),
    ("eqs", [
        (r"\dfrac{\partial p_i}{\partial z_j}", r"= p_i \, (\delta_{ij} - p_j)", "(3)"),
    ]),
    ("para", r"As a $C \times C$ matrix the Jacobian is $J = \mathrm{diag}(p) - p \, p^{\top}$. It is "
             "symmetric, and each of its rows sums to zero: the probabilities always add up to 1, so their "
             "changes add up to 0. Formula (3) is the one in the docstring of `Softmax.backward` in "
             "`lib/activations.py`, with $h = p$."),

    ("heading", "4   The chain rule through the mean cross-entropy"),
    ("para", "The loss depends on the logit $z_{nj}$ only through the $C$ probabilities of the same sample, "
             r"$p_{n1}, \ldots, p_{nC}$. The chain rule therefore sums over them:"),
    ("eqs", [
        (r"\dfrac{\partial L}{\partial z_{nj}}",
         r"= \sum_{i=1}^{C} \, \dfrac{\partial L}{\partial p_{ni}} \, \dfrac{\partial p_{ni}}{\partial z_{nj}}",
         "(4)"),
    ]),
    ("para", r"In (2) the only term that contains $p_{ni}$ is $-y_{ni} \, \log p_{ni} \, / \, N$, hence"),
    ("eqs", [
        (r"\dfrac{\partial L}{\partial p_{ni}}", r"= -\dfrac{1}{N} \, \dfrac{y_{ni}}{p_{ni}}", "(5)"),
    ]),
    ("para", "Insert (5) and the Jacobian (3) of sample $n$ into (4). The factor $p_{ni}$ cancels, and the "
             "delta picks the term $i = j$ out of the first sum:"),
    ("eqs", [
        (r"\dfrac{\partial L}{\partial z_{nj}}",
         r"= -\dfrac{1}{N} \, \sum_{i=1}^{C} \, \dfrac{y_{ni}}{p_{ni}} \, p_{ni} \, (\delta_{ij} - p_{nj})", ""),
        ("", r"= -\dfrac{1}{N} \left( \sum_{i=1}^{C} y_{ni} \, \delta_{ij} - p_{nj} \sum_{i=1}^{C} y_{ni} \right)", ""),
        ("", r"= -\dfrac{1}{N} \left( y_{nj} - p_{nj} \sum_{i=1}^{C} y_{ni} \right)", "(6)"),
    ]),

    ("heading", "5   The simplification for one-hot targets"),
    ("para", "A one-hot row holds a single 1, so the sum in (6) equals 1 and (6) collapses to"),
    ("eqs", [
        (r"\dfrac{\partial L}{\partial z_{nj}}", r"= \dfrac{1}{N} \, (p_{nj} - y_{nj})", "(7)"),
    ]),
    ("para", "or, for the whole batch at once, as an array of shape (N, C) like $z$ itself:"),
    ("eqs", [
        (r"\dfrac{\partial L}{\partial z}", r"= \dfrac{1}{N} \, \left( \mathrm{softmax}(z) - y \right)",
         "(8)"),
    ]),
    ("para", "Some checks that make (8) easy to trust and to remember:"),
    ("bullets", [
        r"Each entry is predicted probability minus target. For the true class it is $(p - 1)/N \leq 0$, for every "
        r"other class $p/N \geq 0$: a gradient-descent step raises the logit of the true class and lowers the "
        "others.",
        "Each row sums to zero, like the rows of $J$: adding the same number to all logits of a sample does "
        "not change its softmax, so the loss cannot change in that direction.",
        "Every entry lies between $-1/N$ and $1/N$, however wrong the prediction is.",
        "The factor $1/N$ comes from the mean over the batch. Without it the gradient is $N$ times too large, "
        "and the gradient check fails.",
        r"Only $y_{n1} + \cdots + y_{nC} = 1$ was used, so (8) also holds for soft targets whose rows sum to one.",
        r"A shorter route gives the same result. By (1), $\log p_{ni} = z_{ni} - \log S_n$ with $S_n = e^{z_{n1}} + "
        r"\cdots + e^{z_{nC}}$, so "
        r"$\partial \log p_{ni} / \partial z_{nj} = \delta_{ij} - p_{nj}$. Multiply by $-y_{ni}/N$ and sum "
        "over $i$: this is (6) in one line.",
    ]),

    ("heading", "6   Why the combined gradient instead of chaining Softmax.backward"),
    ("para", "The library has a `Softmax` module with a working `backward`. One could end the network with it, "
             "compute the cross-entropy of the probabilities and send (5) back through `Softmax.backward`. The "
             "library does not: `CrossEntropyLoss` takes logits, as PyTorch's `torch.nn.CrossEntropyLoss` "
             "does, and its `backward` returns (8) directly. There are three reasons."),
    ("bullets", [
        "Numerics. Computed on its own, the softmax rounds a small probability to exactly 0 (in float64 once a "
        r"logit lies about 745 below the largest one). Then $\log 0 = -\infty$ in the loss, and (5) divides by "
        "zero: the chained gradient becomes inf or nan. The combined loss uses the log-softmax instead, which "
        "subtracts the largest logit $m_n$ of each row first, as `scipy.special.log_softmax` does:",
    ]),
    ("eqs", [
        (r"\log p_{nc}", r"= z_{nc} - m_n - \log \sum_{k=1}^{C} \, e^{z_{nk} - m_n}, \qquad m_n = \max_{k} \, z_{nk}",
         "(9)"),
    ]),
    ("para", "No exponent in (9) is positive and the sum is at least 1, so nothing overflows and the log never "
             "sees 0. The gradient (8) is a difference of two numbers in [0, 1]: nothing to divide by, nothing "
             "to overflow.", 16.0),
    ("bullets", [
        r"No (N, C, C) Jacobian. Chaining literally means one $C \times C$ Jacobian (3) per sample, $N C^2$ "
        "numbers, and a matrix-vector product for each. `Softmax.backward` avoids building them, but it "
        "still needs (5) first, with its division by $p$. Formula (8) needs nothing but the (N, C) array that "
        "`forward` already cached.",
        "Cost. (8) is one subtraction and one division by $N$ per entry, $O(N C)$ work with no extra pass. "
        "Fewer operations also mean less rounding error and less code for a bug to hide in.",
    ]),
    ("para", "For the gap in `CrossEntropyLoss.backward`: `forward` has cached `probabilities` $= "
             r"\mathrm{softmax}(z)$ and the one-hot `targets` $= y$, both of shape (N, C). Return (8), then "
             "run the gradient check and the tests."),
]


# ----------------------------------------------------------------------------------------------------------
# The layout engine.
# ----------------------------------------------------------------------------------------------------------
TOKEN = re.compile(r"(?:\$[^$]*\$|`[^`]*`|[^\s$`])+")
SEGMENT = re.compile(r"\$[^$]*\$|`[^`]*`|[^$`]+")


class Layout:
    """Places text on A4 pages. Coordinates are points, y measured downwards from the top of the page."""

    def __init__(self):
        self.measure = RendererPdf(None, 72, PAGE_H, PAGE_W)  # the renderer that draws also measures
        self.pages = [[]]
        self.y = MARGIN_TOP

    # --- measuring -------------------------------------------------------------------------------------
    def prop(self, kind: str, size: float, weight: str = "normal") -> FontProperties:
        return FontProperties(family=FAMILIES[kind], size=size, weight=weight)

    def extent(self, text: str, kind: str, size: float, weight: str = "normal"):
        """(width, ascent, descent) in points of one run of text, math ($...$) or code."""
        width, height, descent = self.measure.get_text_width_height_descent(
            text, self.prop(kind, size, weight), kind == "math")
        return float(width), float(height - descent), float(descent)

    def segments(self, token: str, size: float, weight: str):
        """Split one word into runs of text, math and code, each (string, kind, size, weight, width...)."""
        runs = []
        for piece in SEGMENT.findall(token):
            if piece.startswith("$"):
                kind, text, run_size = "math", piece, size
            elif piece.startswith("`"):
                kind, text, run_size = "code", piece[1:-1], size * CODE / BODY
            else:
                kind, text, run_size = "text", piece, size
            runs.append((text, kind, run_size, weight) + self.extent(text, kind, run_size, weight))
        return runs

    # --- placing ---------------------------------------------------------------------------------------
    def put(self, x: float, y: float, text: str, kind: str, size: float, weight: str = "normal",
            ha: str = "left", colour: str = "black") -> None:
        self.pages[-1].append(("text", x, y, text, kind, size, weight, ha, colour))

    def new_page(self) -> None:
        self.pages.append([])
        self.y = MARGIN_TOP

    def ensure(self, height: float) -> None:
        if self.y + height > PAGE_H - MARGIN_BOTTOM:
            self.new_page()

    def lines(self, markup: str, width: float, size: float, weight: str = "normal"):
        """Greedy word wrap. Returns lines, each a list of (x offset, run) plus its ascent and descent."""
        space = self.extent("a a", "text", size)[0] - self.extent("aa", "text", size)[0]
        lines, current, x = [], [], 0.0
        for token in TOKEN.findall(markup):
            runs = self.segments(token, size, weight)
            token_width = sum(run[4] for run in runs)
            if current and x + space + token_width > width:
                lines.append(current)
                current, x = [], 0.0
            if current:
                x += space
            for run in runs:
                current.append((x, run))
                x += run[4]
        if current:
            lines.append(current)
        result = []
        for line in lines:
            ascent = max(max(run[5] for _, run in line), 0.75 * size)
            descent = max(max(run[6] for _, run in line), 0.25 * size)
            result.append((line, ascent, descent))
        return result

    def line_step(self, ascent: float, descent: float, size: float) -> float:
        """Lines are a fixed distance apart unless tall inline math needs more room."""
        return max(LEADING * size, ascent + descent + 3.0)

    def paragraph_height(self, markup: str, width: float, size: float = BODY) -> float:
        return sum(self.line_step(a, d, size) for _, a, d in self.lines(markup, width, size))

    def paragraph(self, markup: str, indent: float = 0.0, size: float = BODY, weight: str = "normal",
                  width: float = None, bullet: str = None, after: float = 7.0, colour: str = "black") -> None:
        width = TEXT_W - indent if width is None else width
        for number, (line, ascent, descent) in enumerate(self.lines(markup, width, size, weight)):
            step = self.line_step(ascent, descent, size)
            self.ensure(step)
            baseline = self.y + step - max(descent, 0.3 * size)
            if bullet and number == 0:
                self.put(MARGIN_X + indent - 11.0, baseline, bullet, "text", size)
            for x, (text, kind, run_size, run_weight, *_unused) in line:
                self.put(MARGIN_X + indent + x, baseline, text, kind, run_size, run_weight, colour=colour)
            self.y += step
        self.y += after

    def measure_equations(self, rows):
        """Each row with the extents of its two sides, and the height of each row."""
        measured = []
        for lhs, rhs, number in rows:
            left = self.extent("$" + lhs + "$", "math", EQUATION) if lhs else (0.0, 0.0, 0.0)
            right = self.extent("$" + rhs + "$", "math", EQUATION)
            measured.append((lhs, rhs, number, left, right))
        heights = [max(m[3][1], m[4][1]) + max(m[3][2], m[4][2]) + 8.0 for m in measured]
        return measured, heights

    def equations(self, rows) -> None:
        """A block of display equations, aligned at the start of rhs (its "=")."""
        measured, heights = self.measure_equations(rows)
        widest_left = max(m[3][0] for m in measured)
        widest_right = max(m[4][0] for m in measured)
        column = MARGIN_X + max(24.0, (TEXT_W - widest_left - widest_right) / 2) + widest_left
        self.ensure(sum(heights) + 2.0)  # a block of equations is never split across pages
        self.y += 2.0
        for (lhs, rhs, number, left, right), height in zip(measured, heights):
            baseline = self.y + 4.0 + max(left[1], right[1])
            if lhs:
                self.put(column - 1.5, baseline, "$" + lhs + "$", "math", EQUATION, ha="right")
            self.put(column, baseline, "$" + rhs + "$", "math", EQUATION)
            if number:
                self.put(PAGE_W - MARGIN_X, baseline, number, "text", BODY, ha="right")
            self.y += height
        self.y += 6.0

    def box(self, paragraphs) -> None:
        """Paragraphs on a tinted background with a coloured rule on the left (the original question)."""
        pad = 10.0
        inner = TEXT_W - 2 * pad - 4.0
        heights = []
        for markup in paragraphs:
            heights.append(self.paragraph_height(markup, inner))
        total = sum(heights) + 6.0 * (len(paragraphs) - 1) + 2 * pad
        self.ensure(total)
        self.pages[-1].append(("rect", MARGIN_X, self.y, TEXT_W, total, BOX_COLOUR))
        self.pages[-1].append(("rect", MARGIN_X, self.y, 3.0, total, RULE_COLOUR))
        self.y += pad
        for index, markup in enumerate(paragraphs):
            last = index == len(paragraphs) - 1
            self.paragraph(markup, indent=pad + 4.0, width=inner, after=0.0 if last else 6.0)
        self.y += pad + 8.0

    def heading(self, text: str) -> None:
        self.ensure(HEADING * 1.6 + 50.0)  # keep a heading together with the start of its section
        self.y += 8.0
        self.paragraph(text, size=HEADING, weight="bold", after=3.0)

    def build(self, content) -> None:
        for index, (kind, payload, *options) in enumerate(content):
            following = content[index + 1] if index + 1 < len(content) else ("end", None)
            if kind == "para" and following[0] == "eqs":
                # A paragraph that introduces equations starts a new page together with them.
                indent = options[0] if options else 0.0
                self.ensure(self.paragraph_height(payload, TEXT_W - indent) + sum(
                    self.measure_equations(following[1])[1]) + 12.0)
            if kind == "title":
                self.paragraph(payload, size=TITLE, weight="bold", after=2.0)
            elif kind == "subtitle":
                self.paragraph(payload, size=BODY, after=10.0, colour="#333333")
                self.pages[-1].append(("rule", MARGIN_X, self.y - 4.0, TEXT_W))
                self.y += 6.0
            elif kind == "heading":
                self.heading(payload)
            elif kind == "para":
                self.paragraph(payload, indent=options[0] if options else 0.0)
            elif kind == "bullets":
                for item in payload:
                    self.paragraph(item, indent=16.0, bullet="\u2022", after=4.0)
                self.y += 4.0
            elif kind == "eqs":
                self.equations(payload)
            elif kind == "box":
                self.box(payload)
            else:
                raise ValueError("unknown content kind {!r}".format(kind))


def render(pages, out: Path) -> None:
    """Draw the placed items, one matplotlib figure per page, into one PDF."""
    with PdfPages(str(out), metadata=METADATA) as pdf:
        for number, items in enumerate(pages, start=1):
            fig = Figure(figsize=(PAGE_W / 72, PAGE_H / 72))
            for item in items:
                if item[0] == "text":
                    _, x, y, text, kind, size, weight, ha, colour = item
                    fig.text(x / PAGE_W, 1 - y / PAGE_H, text, fontsize=size, fontfamily=FAMILIES[kind],
                             fontweight=weight, ha=ha, va="baseline", color=colour)
                elif item[0] == "rect":
                    _, x, y, width, height, colour = item
                    fig.patches.append(Rectangle((x / PAGE_W, 1 - (y + height) / PAGE_H), width / PAGE_W,
                                                 height / PAGE_H, transform=fig.transFigure, figure=fig,
                                                 facecolor=colour, edgecolor="none", zorder=-1))
                elif item[0] == "rule":
                    _, x, y, width = item
                    fig.add_artist(Line2D([x / PAGE_W, (x + width) / PAGE_W], [1 - y / PAGE_H] * 2,
                                          color=RULE_COLOUR, lw=0.8))
            footer_y = 1 - (PAGE_H - MARGIN_BOTTOM + 30.0) / PAGE_H
            fig.text(MARGIN_X / PAGE_W, footer_y, "celoss_derivation.pdf", fontsize=SMALL,
                     fontfamily=FAMILIES["text"], color="#666666", va="baseline")
            fig.text(1 - MARGIN_X / PAGE_W, footer_y, "page {} of {}".format(number, len(pages)), fontsize=SMALL,
                     fontfamily=FAMILIES["text"], color="#666666", ha="right", va="baseline")
            pdf.savefig(fig)


def build(out: Path) -> int:
    """Lay out CONTENT and write the PDF to out. Returns the number of pages."""
    with matplotlib.rc_context(RC):
        layout = Layout()
        layout.build(CONTENT)
        render(layout.pages, out)
    return len(layout.pages)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output PDF (default: %(default)s)")
    args = parser.parse_args(argv)
    pages = build(args.out)
    print("wrote {} ({} pages)".format(args.out, pages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
