"""The sheet's own pen-and-paper numbers, computed by experiments/pen_and_paper.py and run_pen_and_paper.py.

Instructor-only: these numbers answer part 3 of the pen-and-paper task, which a tutor grades, so this test stays
out of the handout. The handout's tests/test_pen_and_paper.py checks the same network on other numbers.
"""
import json

import pytest

import run_pen_and_paper
from experiments.pen_and_paper import SHEET_VALUES, solve

# The sheet's worked numbers for x = 1, y = -3, w0 = w1 = w2 = ws = 0.5 and lr = 1.
SHEET_FORWARD = {"z0": 0.5, "h0": 0.5, "z1": 0.25, "h1": 0.25, "z2": 0.375, "y_hat": 0.375, "loss": 3.375}
SHEET_GRADIENTS = {"w0": 0.75, "w1": 0.25, "w2": 0.25, "ws": 0.5}
SHEET_UPDATED = {"w0": -0.25, "w1": 0.25, "w2": 0.25, "ws": 0.0}


def test_pen_and_paper_reproduces_the_sheet():
    # Needs ReLU.backward and Linear.backward (TODO gaps 2 and 3).
    result = solve(**SHEET_VALUES)
    assert result["forward"] == pytest.approx(SHEET_FORWARD)
    assert result["gradients"] == pytest.approx(SHEET_GRADIENTS)
    assert result["updated_weights"] == pytest.approx(SHEET_UPDATED)
    assert result["loss_after_step"] == pytest.approx(3.0)


def test_run_pen_and_paper_json(capsys):
    assert run_pen_and_paper.main(["--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) >= {"forward", "gradients", "updated_weights", "loss_after_step"}
    assert printed["forward"] == pytest.approx(SHEET_FORWARD)
    assert printed["gradients"] == pytest.approx(SHEET_GRADIENTS)
    assert printed["updated_weights"] == pytest.approx(SHEET_UPDATED)
    assert printed["loss_after_step"] == pytest.approx(3.0)
