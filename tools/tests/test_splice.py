"""grading/gaps.splice and tools/rebuild: a gap body is taken by its function's name and spliced into the
handout's file only as a block of statements that stays inside that function; anything else rejects that gap
alone, with one line naming gap and line. Honest bodies, however they are indented or written, are taken."""
import pytest

from grading.gaps import BodyRejected, find_gaps, splice, student_gaps
from grading.tasks import Task
from tools.rebuild import rebuild
from tools.submission import Submission

HANDOUT = '''import numpy as np


class Layer:
    def backward(self, grad):
        """dL/dx."""
        x = self.x
        # START TODO ################
        # Return grad times x.
        raise NotImplementedError("Layer.backward is not implemented yet")
        # END TODO ##################

    def other(self):
        return 1


def step(params):
    # START TODO ################
    # Zero the grads.
    raise NotImplementedError("step is not implemented yet")
    # END TODO ##################
'''


def student(layer_body, step_body="    for p in params:\n        p.grad = 0\n"):
    text = HANDOUT.replace('        raise NotImplementedError("Layer.backward is not implemented yet")\n', layer_body)
    return text.replace('    raise NotImplementedError("step is not implemented yet")\n', step_body)


TASKS = {"Layer.backward": Task("layer", 1, "Layer.backward", 1, "code", "Layer.backward", "lib/layer.py", ()),
         "step": Task("step", 2, "step", 1, "code", "step", "lib/layer.py", ())}


def graded(text):
    built = rebuild({"lib/layer.py": HANDOUT.encode("utf-8")},
                    Submission(".", {"lib/layer.py": text}, ["lib/layer.py"], []), TASKS)
    return built.gaps, built.files["lib/layer.py"].decode("utf-8"), built.findings


@pytest.mark.parametrize("body", [
    "        return grad * x\n",
    "        print(type(x), '{} {}'.format(1, 2))\n        return grad * x\n",
    "        y: np.ndarray = grad * x\n        return y\n",
    "        total = 0\n\n        def add(v):\n            nonlocal total\n            total = v\n"
    "        add(1)\n        return grad * x * total\n",
    "        if hasattr(self, 'mask'):\n            pass\n        self.mask = x > 0\n        return grad * x\n",
    "        try:\n            return grad * x\n        except:\n            raise\n",
    "        import sys\n        print('debug', file=sys.stderr)\n        return grad * \\\n            x\n",
    "        y = np.array([1,\n2])\n        return grad * x * y\n",  # a continuation line may sit anywhere
    "        s = \"\"\"\nnot code\n\"\"\"\n        return grad * x\n",
    "        def helper(v):\n            \"\"\"A docstring.\n\n            Over lines.\n            \"\"\"\n"
    "            return v\n        return helper(grad) * x\n",  # a docstring spliced as it was written
    "#        print(grad)\n        return grad * x\n",  # a comment that an editor's shortcut put at column 0
    "        if x is None:\n            raise ValueError(f\"\"\"{x!r}:\n        two lines\"\"\")\n"
    "        return grad * x\n",
])
def test_honest_bodies_are_taken(body):
    gaps, text, findings = graded(student(body))
    assert gaps["Layer.backward"].status == "filled", gaps["Layer.backward"].message
    assert gaps["step"].status == "filled" and findings == []
    compile(text, "layer.py", "exec")


# Characters that str.splitlines() ends a line at but Python does not.
NOT_LINE_ENDS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("character", NOT_LINE_ENDS)
@pytest.mark.parametrize("line", ["        # a note {} in a comment\n", "        note = 'a {} in a string'\n",
                                  "        note = \"\"\"a {}\n  in a string over lines\"\"\"\n"])
def test_a_character_python_reads_inside_a_line_is_no_line_end(character, line):
    gaps, text, findings = graded(student(line.format(character) + "        return grad * x\n"))
    assert gaps["Layer.backward"].status == "filled", gaps["Layer.backward"].message
    assert findings == [] and line.format(character) in text
    compile(text, "layer.py", "exec")


@pytest.mark.parametrize("body", ["\x0c\n        return grad * x\n", "\x0c        return grad * x\n",
                                  "        y = grad\n\x0c\n        return y * x\n"])
def test_a_form_feed_at_the_start_of_a_line_is_a_page_break_as_python_reads_it(body):
    gaps, text, findings = graded(student(body))
    assert gaps["Layer.backward"].status == "filled", gaps["Layer.backward"].message
    assert findings == []
    compile(text, "layer.py", "exec")


def test_a_file_re_indented_with_tabs_is_taken_and_no_finding():
    text = "\n".join(line.replace("        ", "\t\t").replace("    ", "\t") for line in
                     student("        return grad * x\n").splitlines()) + "\n"
    gaps, spliced, findings = graded(text)
    assert [gap.status for gap in gaps.values()] == ["filled", "filled"] and findings == []
    assert "        return grad * x\n" in spliced and "\t" not in spliced


@pytest.mark.parametrize("body, line, reason", [
    ("        return grad * x\nimport os\nos.system('x')\n", 2, "indented left of the gap's START TODO line"),
    ("        return grad * x\n    def other(self):\n        return 2\n", 2, "indented left"),
    ("        return grad *\n", 1, "a syntax error"),
    ("          return grad * x\n", 1, "a syntax error"),  # fails locally too: an unexpected indent
    ("        s = '''\n", 1, "a syntax error"),
    ("        x = " + "(" * 5000 + "1" + ")" * 5000 + "\n        return x\n", 1, "a syntax error"),
    ("        return grad * x \\\n", 1, "a syntax error"),
    ("        nonlocal grad\n        return grad\n", 1, "a syntax error"),
])
def test_a_body_that_leaves_its_function_or_does_not_parse_rejects_that_gap_alone(body, line, reason):
    gaps, text, _ = graded(student(body))
    rejected = gaps["Layer.backward"]
    assert rejected.status == "rejected"
    assert rejected.message.startswith("gap ") and "(Layer.backward), line {}: ".format(line + 1) in rejected.message
    assert reason in rejected.message
    assert gaps["step"].status == "filled"
    assert 'raise NotImplementedError("Layer.backward is not implemented yet")' in text  # the handout's, kept


def test_gaps_are_paired_by_name_not_by_order():
    # A submission of an older release whose file has the gaps in another order, or one gap fewer.
    swapped = student("        return grad * x\n")
    layer_start = swapped.index("class Layer")
    step_start = swapped.index("def step")
    reordered = swapped[:layer_start] + swapped[step_start:] + "\n\n" + swapped[layer_start:step_start]
    found, problems = student_gaps(reordered)
    assert set(found) == {"Layer.backward", "step"} and problems == []
    gaps, _, _ = graded(reordered)
    assert gaps["Layer.backward"].status == "filled" and gaps["step"].status == "filled"


def test_splice_compares_the_syntax_tree_outside_the_gap():
    gap = next(gap for gap in find_gaps(HANDOUT) if gap.name == "Layer.backward")
    assert "return grad * x" in splice(HANDOUT, gap, ["        return grad * x"], "        ", "layer.py")
    with pytest.raises(BodyRejected):
        splice(HANDOUT, gap, ["return grad"], "        ", "layer.py")
