"""The pen-and-paper network (experiments/pen_and_paper.py and run_pen_and_paper.py) on numbers other than the
sheet's. Not graded: it needs ReLU.backward, Linear.backward and Sequential.backward (TODO gaps 2, 3 and 5).

The forward pass is checked against the sheet's definitions, the weight gradients against finite differences
of the loss alone, and the step against w - lr * dL/dw.
"""
import json
import sys

import numpy as np
import pytest

import run_pen_and_paper
from experiments.pen_and_paper import WEIGHT_NAMES, solve

# Unit 1's ReLU open, then closed (z1 < 0); y above, then below y_hat.
CASES = {"both units on": dict(x=2.0, y=4.0, w0=1.5, w1=0.8, w2=-0.6, ws=1.2, lr=0.1),
         "unit 1 off": dict(x=-1.0, y=-2.0, w0=-2.0, w1=-0.3, w2=0.7, ws=0.4, lr=0.5)}


def forward(x, w0, w1, w2, ws):
    """The sheet's forward pass: z0 = w0 x, h0 = ReLU(z0), z1 = w1 h0, h1 = ReLU(z1), z2 = w2 h1 + ws h0."""
    z0 = w0 * x
    h0 = max(z0, 0.0)
    z1 = w1 * h0
    h1 = max(z1, 0.0)
    z2 = w2 * h1 + ws * h0
    return {"z0": z0, "h0": h0, "z1": z1, "h1": h1, "z2": z2, "y_hat": z2}


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_pass_follows_the_sheets_definitions(case):
    values = CASES[case]
    result = solve(**values)
    expected = forward(values["x"], *(values[name] for name in WEIGHT_NAMES))
    expected["loss"] = abs(values["y"] - expected["y_hat"])
    assert result["forward"] == pytest.approx(expected)


@pytest.mark.parametrize("case", sorted(CASES))
def test_weight_gradients_match_finite_differences_and_the_step_follows_them(case):
    values = CASES[case]
    result = solve(**values)
    assert result["gradients"] == pytest.approx(result["finite_differences"], abs=1e-5)
    updated = {name: values[name] - values["lr"] * result["gradients"][name] for name in WEIGHT_NAMES}
    assert result["updated_weights"] == pytest.approx(updated)
    after = forward(values["x"], *(updated[name] for name in WEIGHT_NAMES))
    assert result["loss_after_step"] == pytest.approx(abs(values["y"] - after["y_hat"]))
    # The backward pass starts at the loss: dL/dy_hat = sign(y_hat - y) for the L1 loss.
    assert result["backward"]["y_hat"] == np.sign(result["forward"]["y_hat"] - values["y"])


def test_run_pen_and_paper_json_is_solve(capsys):
    values = CASES["both units on"]
    options = [item for name, value in values.items() for item in ("--" + name, repr(value))]
    assert run_pen_and_paper.main(["--json"] + options) == 0
    out = capsys.readouterr().out
    try:
        printed = json.loads(out)
    except ValueError:
        pytest.fail("run_pen_and_paper.py --json printed something that is not JSON to stdout (what the gaps "
                    "print goes to stderr). It began with: {!r}".format(out[:120]), pytrace=False)
    assert printed == json.loads(json.dumps(solve(**values)))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
