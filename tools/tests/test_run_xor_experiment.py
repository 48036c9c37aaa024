"""Smoke tests of run_xor_experiment.py: every experiment and --animate, headless, into a temporary --out folder."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(REPO_ROOT / "run_xor_experiment.py")
FIGURES = {
    "sheet": ["xor_loss_curve.png", "xor_decision_boundary.png", "xor_hidden_space.png"],
    "momentum": ["momentum_loss_curves.png", "momentum_decision_boundaries.png"],
    "scaling": ["scaling_loss_curves.png"],
    "lbfgs": ["xor_lbfgs_loss.png"],
}
GIF = "training_animation.gif"
MAX_GIF_BYTES = 2 * 1024 * 1024


def run(*options, timeout=180):
    """Run the script with no display and MPLBACKEND=Agg from the repository root; return the process."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("DISPLAY", None)
    process = subprocess.run([sys.executable, SCRIPT] + list(options), cwd=str(REPO_ROOT), env=env,
                             capture_output=True, text=True, timeout=timeout)
    assert process.returncode == 0, "run_xor_experiment.py {} failed:\n{}".format(" ".join(options), process.stderr)
    return process


def check_png(path: Path) -> None:
    assert path.is_file(), "{} was not written".format(path)
    with Image.open(str(path)) as image:
        assert image.format == "PNG"
        assert image.width >= 500 and image.height >= 300


def test_default_run_keeps_its_output_and_writes_the_sheet_figures(tmp_path):
    process = run("--out", str(tmp_path))
    assert "Final predictions" in process.stdout
    assert "Loss after 101 steps:" in process.stdout
    for name in FIGURES["sheet"]:
        check_png(tmp_path / name)
        assert "Wrote {}".format(tmp_path / name) in process.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FIGURES["sheet"])


def test_the_sheets_options_still_work(tmp_path):
    process = run("--seed", "3", "--steps", "5", "--lr", "0.5", "--hidden", "4", "--out", str(tmp_path))
    assert "Loss after 6 steps:" in process.stdout and "Loss after 7 steps:" not in process.stdout
    assert "Final predictions" in process.stdout


def test_momentum_prints_both_accuracies_and_writes_its_figures(tmp_path):
    process = run("--experiment", "momentum", "--out", str(tmp_path))
    accuracies = re.findall(r"accuracy (\d+\.\d)%", process.stdout)
    assert len(accuracies) == 2, process.stdout
    for name in FIGURES["momentum"]:
        check_png(tmp_path / name)


def test_scaling_prints_the_columns_of_the_first_weight_gradient(tmp_path):
    process = run("--experiment", "scaling", "--out", str(tmp_path))
    ratios = [line for line in process.stdout.splitlines() if line.startswith("First layer's dL/dW at the start")]
    assert len(ratios) == 1, process.stdout
    check_png(tmp_path / FIGURES["scaling"][0])


def test_lbfgs_trains_the_xor_network(tmp_path):
    process = run("--experiment", "lbfgs", "--out", str(tmp_path))
    assert "L-BFGS-B" in process.stdout
    assert "predictions [0 1 1 0], accuracy 100%" in process.stdout, process.stdout
    check_png(tmp_path / FIGURES["lbfgs"][0])


def test_animate_writes_a_small_gif_headless(tmp_path):
    process = run("--animate", "--steps", "40", "--out", str(tmp_path))
    path = tmp_path / GIF
    assert "Wrote {}".format(path) in process.stdout
    assert 0 < path.stat().st_size < MAX_GIF_BYTES
    with Image.open(str(path)) as image:
        assert image.format == "GIF"
        assert image.n_frames >= 10


@pytest.mark.parametrize("name", [name for names in FIGURES.values() for name in names] + [GIF])
def test_every_figure_has_a_committed_copy_for_the_experiments_page(name):
    # `python run_xor_experiment.py --experiment all --animate --out docs/figures` regenerates them.
    path = REPO_ROOT / "docs" / "figures" / name
    assert path.is_file(), "{} is missing; regenerate docs/figures (see docs/experiments.md)".format(path)
    if name == GIF:
        assert path.stat().st_size < MAX_GIF_BYTES
