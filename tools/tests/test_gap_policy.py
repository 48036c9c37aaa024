"""The policy of grading/gap_policy.py, construct by construct, in both directions: what it must reject (with the
one-line message that names the gap, the line and the construct) and the natural code it must let run.

Each body is spliced into the gap of the handout's own file, exactly as tools/rebuild.py does with a submission.
"""
import re
import sys

import pytest

from grading.tasks import TASKS_BY_KEY
from grading import gap_policy
from tools import handout
from tools.rebuild import check_body
from tools.tests.gap_catalogue import CORRECT, WRONG, indented

HANDOUT = handout.build_handout(cut=True)


def messages(task_key: str, body: str) -> list:
    task = TASKS_BY_KEY[task_key]
    return check_body(HANDOUT[task.file].decode("utf-8"), task.file, task.gap, indented(task_key, body))


# (rule, task, body, the construct the message must name): each must be rejected.
REJECTED = [
    ("underscore", "relu_backward", "return grad * (self._reset_grads() or h > 0)", "._reset_grads"),
    ("underscore", "relu_backward", "return grad.__class__(grad * (h > 0))", ".__class__"),
    ("underscore", "relu_backward", "_mask = h > 0\nreturn grad * _mask", "_mask"),
    ("underscore", "relu_backward", "return __import__('numpy').where(h > 0, grad, 0)", "__import__"),
    ("underscore", "zero_grad", "for param in params:\n    param.grad = np.zeros_like(param.data)\n"
                                "    param.__dict__['grad'] = 0", ".__dict__"),
    ("builtins", "relu_backward", "open('/proc/self/cmdline').read()\nreturn grad * (h > 0)", "open"),
    ("builtins", "relu_backward", "eval('1')\nreturn grad * (h > 0)", "eval"),
    ("builtins", "relu_backward", "exec('x = 1')\nreturn grad * (h > 0)", "exec"),
    ("builtins", "relu_backward", "code = compile('1', 'x', 'eval')\nreturn grad * (h > 0)", "compile"),
    ("builtins", "relu_backward", "return getattr(np, 'where')(h > 0, grad, 0)", "getattr"),
    ("builtins", "relu_backward", "setattr(self, 'x', 1)\nreturn grad * (h > 0)", "setattr"),
    ("builtins", "relu_backward", "delattr(self, 'input_cache')\nreturn grad * (h > 0)", "delattr"),
    ("builtins", "relu_backward", "globals()\nreturn grad * (h > 0)", "globals"),
    ("builtins", "relu_backward", "locals()\nreturn grad * (h > 0)", "locals"),
    ("builtins", "relu_backward", "vars(self)\nreturn grad * (h > 0)", "vars"),
    ("builtins", "relu_backward", "input()\nreturn grad * (h > 0)", "input"),
    ("builtins", "relu_backward", "breakpoint()\nreturn grad * (h > 0)", "breakpoint"),
    ("builtins", "relu_backward", "print(format(grad))\nreturn grad * (h > 0)", "format"),
    ("builtins", "relu_backward", "return type('A', (np.ndarray,), {})(grad.shape)", "type"),
    ("builtins", "relu_backward", "return object() if False else grad * (h > 0)", "object"),
    ("builtins", "relu_backward", "exit(0)", "exit"),
    ("names", "relu_backward", "return helper(grad, h)", "helper"),
    ("imports", "relu_backward", "import os\nos._exit(0)", "import os"),
    ("imports", "relu_backward", "import sys\nreturn grad * (h > 0)", "import sys"),
    ("imports", "relu_backward", "import subprocess\nreturn grad * (h > 0)", "import subprocess"),
    ("imports", "relu_backward", "import pathlib\nreturn grad * (h > 0)", "import pathlib"),
    ("imports", "relu_backward", "from helpers import relu_gradient\nreturn relu_gradient(grad, h)",
     "from helpers import"),
    ("imports", "relu_backward", "from .activations import ReLU\nreturn grad * (h > 0)", "from .activations import"),
    ("imports", "relu_backward", "from math import *\nreturn grad * (h > 0)", "from math import *"),
    ("imports", "relu_backward", "import numpy.lib as tricks\nreturn grad * (h > 0)", "import numpy.lib"),
    ("modules", "relu_backward", "return np.ma.masked_array(grad, h <= 0)", ".ma"),
    ("modules", "relu_backward", "np.core.multiarray\nreturn grad * (h > 0)", ".core"),
    ("modules", "relu_backward", "from numpy import char\nreturn grad * (h > 0)", "from numpy import char"),
    ("attributes", "relu_backward", "return np.lib.stride_tricks.as_strided(grad)", ".lib"),
    ("attributes", "relu_backward", "np.testing.assert_allclose(grad, grad)\nreturn grad * (h > 0)", ".testing"),
    ("attributes", "relu_backward", "np.save('x.npy', grad)\nreturn grad * (h > 0)", ".save"),
    ("attributes", "relu_backward", "return np.load('/exercise/tests/hidden/answers.npy')", ".load"),
    ("attributes", "relu_backward", "np.loadtxt('x')\nreturn grad * (h > 0)", ".loadtxt"),
    ("attributes", "relu_backward", "np.genfromtxt('x')\nreturn grad * (h > 0)", ".genfromtxt"),
    ("attributes", "relu_backward", "np.fromfile('x')\nreturn grad * (h > 0)", ".fromfile"),
    ("attributes", "relu_backward", "grad.tofile('x')\nreturn grad * (h > 0)", ".tofile"),
    ("attributes", "relu_backward", "grad.dump('x')\nreturn grad * (h > 0)", ".dump"),
    ("attributes", "relu_backward", "np.memmap('x')\nreturn grad * (h > 0)", ".memmap"),
    ("attributes", "relu_backward", "grad.ctypes.data\nreturn grad * (h > 0)", ".ctypes"),
    ("attributes", "relu_backward", "from numpy import load\nreturn grad * (h > 0)", "from numpy import load"),
    ("attributes", "relu_backward", "print('{0.__class__}'.format(grad))\nreturn grad * (h > 0)", ".format"),
    ("attributes", "relu_backward", "print('{x}'.format_map({'x': 1}))\nreturn grad * (h > 0)", ".format_map"),
    ("attributes", "relu_backward", "np.seterr(all='ignore')\nreturn grad * (h > 0)", ".seterr"),
    ("frames", "relu_backward", "frame = (x for x in [1]).gi_frame\nreturn grad * (h > 0)", ".gi_frame"),
    ("frames", "relu_backward", "g = (x for x in [1])\nup = g.gi_frame.f_back.f_globals\nreturn grad * (h > 0)",
     ".gi_frame"),
    ("assignment", "relu_backward", "self.input_cache = None\nreturn grad * (h > 0)", "assignment to .input_cache"),
    ("assignment", "relu_backward", "ReLU.backward = None\nreturn grad * (h > 0)", "assignment to .backward"),
    ("assignment", "relu_backward", "np.allclose = lambda *args, **kwargs: True\nreturn grad",
     "assignment to .allclose"),
    ("assignment", "relu_backward", "del self.input_cache\nreturn grad * (h > 0)", "del .input_cache"),
    ("statements", "relu_backward", "global np\nreturn grad * (h > 0)", "global"),
    ("statements", "relu_backward", "def inner():\n    nonlocal h\ninner()\nreturn grad * (h > 0)", "nonlocal"),
    ("statements", "relu_backward", "class Trick:\n    pass\nreturn grad * (h > 0)", "class"),
    ("statements", "relu_backward", "yield grad * (h > 0)", "yield"),
    ("statements", "relu_backward", "def probe(x: 'code in a string'):\n    pass\nreturn grad * (h > 0)",
     "annotation"),
    ("statements", "relu_backward", "def probe(x) -> 'code':\n    pass\nreturn grad * (h > 0)", "annotation"),
    ("statements", "relu_backward", "mask: 'code' = h > 0\nreturn grad * mask", "annotation"),
    ("statements", "relu_backward", "try:\n    return grad * (h > 0)\nexcept:\n    pass", "bare except:"),
    # Found by a red-team review: a module passed around as a value, where no check can follow it, ...
    ("modules", "relu_backward", "found = [np][0].f2py\nreturn grad", "np"),
    ("modules", "relu_backward", "m = np\nreturn m.where(h > 0, grad, 0)", "np"),
    ("modules", "relu_backward", "def where(m=np):\n    return m\nreturn grad", "np"),
    ("modules", "relu_backward", "pick = lambda m=np: m\nreturn grad", "np"),
    ("modules", "relu_backward", "module = next(iter([np]))\nreturn grad", "np"),
    ("modules", "relu_backward", "table = dict(a=np)\nreturn grad", "np"),
    ("modules", "relu_backward", "for m in [np]:\n    pass\nreturn grad", "np"),
    ("modules", "relu_backward", "la = np.linalg\nreturn grad * (h > 0)", ".linalg"),
    ("modules", "relu_backward", "import numpy as n2\nfound = [n2]\nreturn grad", "n2"),
    # ... functools as setattr by name, and annotations evaluated by singledispatch ...
    ("attributes", "relu_backward", "import functools\nfunctools.update_wrapper(np, grad)\nreturn grad",
     ".update_wrapper"),
    ("attributes", "relu_backward", "import functools\nfunctools.singledispatch(print)\nreturn grad",
     ".singledispatch"),
    ("attributes", "relu_backward", "from functools import wraps\nreturn grad", "from functools import wraps"),
    ("modules", "relu_backward", "import functools\nfunctools.namedtuple('A', 'b')\nreturn grad", ".namedtuple"),
    # ... and numpy's own test runner, which calls pytest.main inside the test process.
    ("attributes", "relu_backward", "np.test()\nreturn grad", ".test"),
    ("modules", "relu_backward", "np.random.mtrand\nreturn grad * (h > 0)", ".mtrand"),
    ("assignment", "relu_backward", "np.data = grad\nreturn grad", "assignment to .data"),
    # Found by a second red-team review: Cython functions' func_globals, match patterns that read attributes by
    # name, a module name shadowed in a nested scope, and changes to classes and NumPy's global tables.
    ("frames", "relu_backward", "found = np.random.seed.func_globals\nreturn grad", ".func_globals"),
    ("attributes", "relu_backward", "found = grad.vars\nreturn grad", ".vars"),
    ("statements", "linear_backward", "found = None\nmatch self:\n    case Module(W=found):\n        pass\n"
                                      "return grad", "match"),
    ("modules", "relu_backward", "shadow = lambda np: 0\nreturn grad", "argument binding the module name np"),
    ("modules", "relu_backward", "def hide():\n    np = None\n    return np\nreturn grad",
     "assignment binding the module name np"),
    ("modules", "relu_backward", "import math as np\nreturn grad", "import binding the module name np"),
    ("modules", "relu_backward", "np.sctypeDict.update(a=1)\nreturn grad", ".sctypeDict"),
    ("assignment", "linear_backward", "Parameter.grad = 0\nreturn grad", "assignment to .grad"),
    ("assignment", "relu_backward", "np.typecodes['All'] = ''\nreturn grad", "assignment to an item of np"),
    ("attributes", "relu_backward", "found = np.poly1d.order.getter(print)\nreturn grad", ".getter"),
    # Found by a third review: NumPy's array classes and resize(refcheck=False) give raw memory.
    ("arrays", "relu_backward", "words = np.zeros(8, dtype=np.uint64)\nrefs = np.ndarray((8,), 'O', words)\n"
                                "return grad", ".ndarray"),
    ("arrays", "relu_backward", "found = np.recarray((1,), [('a', 'O')], buf=grad)\nreturn grad", ".recarray"),
    ("arrays", "relu_backward", "from numpy import ndarray\nreturn grad", "from numpy import ndarray"),
    ("arrays", "relu_backward", "found = grad.view(np.recarray)\nreturn grad", ".recarray"),
    ("arrays", "relu_backward", "found = np.frombuffer(grad, offset=8)\nreturn grad", "the keyword offset="),
    ("arrays", "relu_backward", "found = np.zeros(3, **{'dtype': float})\nreturn grad", "**keywords"),
    ("attributes", "relu_backward", "grad.resize(3)\nreturn grad", ".resize"),
    # ... and a fourth: the buffer of an object array read and written as integers.
    ("attributes", "relu_backward", "holder = np.array([list, None], dtype='O')\n"
                                    "words = np.frombuffer(holder, np.uint64)\nreturn grad", ".frombuffer"),
    ("attributes", "relu_backward", "holder = np.array([list, None], dtype='O')\n"
                                    "words = np.asarray(holder.data.cast('B'))\nreturn grad", ".cast"),
    ("modules", "relu_backward", "import functools\nkey = functools.cmp_to_key(len)\nreturn grad", ".cmp_to_key"),
]

# (task, body): natural code, right or wrong, that the policy must let run.
ACCEPTED = [
    ("relu_backward", "return np.where(h > 0, grad, 0.0)"),
    ("relu_backward", "mask = h > 0  # where the unit is on\n\nreturn grad * mask"),
    ("relu_backward", "print(f'h has shape {h.shape}')\nprint('grad: %s' % (grad.shape,))\nreturn grad * (h > 0)"),
    ("relu_backward", "out = np.full_like(grad, 0)\nout[h > 0] = grad[h > 0]\nreturn out"),
    ("relu_backward", "with np.errstate(invalid='ignore'):\n    return np.multiply(grad, h > 0)"),
    ("relu_backward", "import numpy\nreturn numpy.heaviside(h, 0) * grad"),
    ("relu_backward", "from numpy import where\nreturn where(h > 0, grad, 0)"),
    ("relu_backward", "import math\nassert math.isfinite(1.0)\nreturn grad * (h > 0)"),
    ("relu_backward", "try:\n    return grad * (h > 0)\nexcept ValueError as error:\n    raise ValueError(str(error))"),
    ("relu_backward", "if not isinstance(grad, np.ndarray):\n    raise TypeError('grad must be an array')\n"
                      "return grad * (h > 0)"),
    ("linear_backward", "self.W.grad += np.einsum('nm,nd->md', grad, x)\nif self.b is not None:\n"
                        "    self.b.grad[...] += grad.sum(axis=0)\nreturn np.dot(grad, self.W.data)"),
    ("linear_backward", "self.W.grad[...] = self.W.grad + grad.T @ x\nif self.b is not None:\n"
                        "    np.add(self.b.grad, grad.sum(axis=0), out=self.b.grad)\nreturn grad @ self.W.data"),
    ("zero_grad", "for param in params:\n    param.grad = np.zeros(param.data.shape, param.data.dtype)"),
    ("zero_grad", "import itertools\nfor param in itertools.chain(params):\n    param.grad = 0 * param.data"),
    ("sequential_backward", "from functools import reduce\nreturn reduce(lambda g, m: m.backward(g), "
                            "reversed(self.modules), grad)"),
    ("sequential_backward", "for index, module in enumerate(self.modules[::-1]):\n    grad = module.backward(grad)\n"
                            "return grad"),
    ("sequential_backward", "modules = list(self.modules)\nwhile modules:\n    grad = modules.pop().backward(grad)\n"
                            "return grad"),
    ("backward_pass", "model.backward(loss_fn.backward())\nfor param in model.parameters():\n"
                      "    np.subtract(param.data, lr * param.grad, out=param.data)"),
    ("backward_pass", "zero_grad(model.parameters())\nmodel.backward(loss_fn.backward())\n"
                      "steps = [lr * p.grad for p in model.parameters()]\n"
                      "for p, step in zip(model.parameters(), steps):\n    p.data = p.data - step"),
    ("check_gradients", "rng_used = rng\nmodel = Sequential(Linear(10, 30, rng=rng_used), Sigmoid(), "
                        "Linear(30, 10, rng=rng_used))\nmodel.check_gradients((x,))"),
    ("cross_entropy_backward", "n, _ = probabilities.shape\nreturn (probabilities - targets) / n"),
    ("relu_backward", "scale = np.linalg.norm(grad)\nreturn grad * (h > 0) * (scale / scale)"),
    ("relu_backward", "from numpy.linalg import norm\nassert norm(grad) >= 0\nreturn grad * (h > 0)"),
    ("relu_backward", "import numpy.linalg\nassert numpy.linalg.norm(grad) >= 0\nreturn grad * (h > 0)"),
    ("relu_backward", "try:\n    return grad * (h > 0)\nexcept Exception as error:\n    raise ValueError(str(error))"),
    ("relu_backward", "rng = np.random.default_rng(0)\nassert rng.random() < 1\nreturn grad * (h > 0)"),
    ("relu_backward", "if not isinstance(grad, (np.ndarray, list)):\n    raise TypeError('an array')\n"
                      "return grad * (h > 0)"),
    ("cross_entropy_backward", "def mean(values):\n    return values / len(values)\n\n"
                               "return mean(probabilities - targets)"),
]


@pytest.mark.parametrize("rule, task_key, body, construct", REJECTED,
                         ids=["{}: {}".format(case[0], case[3]) for case in REJECTED])
def test_the_policy_rejects(rule, task_key, body, construct):
    if construct == "match" and sys.version_info < (3, 10):
        pytest.skip("match statements need Python 3.10 (before, they are a syntax error, which is refused too)")
    found = messages(task_key, body)
    assert found, "the policy let this run:\n" + body
    task = TASKS_BY_KEY[task_key]
    for line in found:
        assert line.startswith("gap {} ({}), line ".format(task.number, task.gap)), line
    everything = " ".join(found)
    assert "'{}' is not allowed in a gap".format(construct) in everything, found
    assert gap_policy.RULES[rule] in everything, "expected the rule '{}' in {}".format(rule, found)


@pytest.mark.parametrize("task_key, body", ACCEPTED, ids=["{} {}".format(c[0], i) for i, c in enumerate(ACCEPTED)])
def test_the_policy_accepts(task_key, body):
    assert messages(task_key, body) == []


def test_every_rule_has_a_rejected_example_and_is_in_the_instructor_guide():
    assert {case[0] for case in REJECTED} == set(gap_policy.RULES)
    with open(handout.os.path.join(handout.REPO, "docs", "instructor.md"), encoding="utf-8") as file:
        guide = file.read()
    for rule in gap_policy.RULES:
        assert re.search(r"^\| `{}` \|".format(rule), guide, re.M), "docs/instructor.md has no row for '{}'".format(
            rule)


def test_the_message_names_gap_line_and_construct():
    # Line 1 is the first line after the START TODO marker (the instructions count, as the student sees them).
    body = "mask = h > 0\n\nfile = open('/etc/passwd')\nreturn grad * mask"
    assert messages("relu_backward", body) == [
        "gap 2 (ReLU.backward), line 3: 'open' is not allowed in a gap ({})".format(gap_policy.RULES["builtins"])]


def test_a_syntax_error_is_reported_with_its_line():
    found = messages("relu_backward", "return grad * (h > 0\n")
    assert len(found) == 1 and found[0].startswith("gap 2 (ReLU.backward), line 1: a syntax error"), found


@pytest.mark.parametrize("task_key", sorted(CORRECT))
def test_every_catalogued_body_passes_the_policy(task_key):
    # They are honest code, right or wrong: the tests grade them, not the policy.
    for label, body in CORRECT[task_key] + WRONG[task_key]:
        assert messages(task_key, body) == [], "{}: {}".format(task_key, label)


def test_the_reference_solution_passes_the_policy():
    solution = handout.build_handout(cut=False)
    from grading.gaps import gap_bodies
    for task in TASKS_BY_KEY.values():
        if task.kind != "code":
            continue
        body = gap_bodies(solution[task.file].decode("utf-8"))[task.gap]
        text = HANDOUT[task.file].decode("utf-8")
        assert check_body(text, task.file, task.gap, body) == [], task.gap


@pytest.mark.timeout(120)
def test_the_students_own_points_table_warns_of_a_gap_the_grader_would_refuse(tmp_path):
    # The policy ships in grading/: the plugin applies it, so a student learns it before handing in.
    import json
    import subprocess
    import sys
    from tools.tests.test_grade import make_handout

    root = make_handout(tmp_path / "student", fill=["relu_backward"], bodies={
        "relu_backward": "print('mask: {}'.format(h > 0))\nreturn grad * (h > 0)"})
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "relu_backward",
                    "--points-json", "results.json", "tests"], cwd=str(root), stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, timeout=110)
    relu = next(test for test in json.loads((root / "results.json").read_text())["tests"]
                if "ReLU.backward" in test["name"])
    assert relu["score"] == 0, relu
    assert relu["output"].startswith("the grader will not run it: gap 2 (ReLU.backward), line 1: '.format'"), relu
    assert relu["output"].endswith("use an f-string or %"), relu
