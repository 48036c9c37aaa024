"""Smoke tests of run_pen_and_paper.py --plot and --experiment skip, and the numbers drawn on the graph.

The drawn numbers are compared with the script's own --json output (run as a separate process), for the
sheet's values and for other values, so the figure can never show something the library did not compute.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(REPO_ROOT / "run_pen_and_paper.py")
sys.path.insert(0, str(REPO_ROOT))

import run_pen_and_paper  # noqa: E402  (the repository root is on the path only after the line above)
from experiments.deep_chains import make_deep_chain, run_skip_experiment  # noqa: E402
from experiments.pen_and_paper import SHEET_VALUES, WEIGHT_NAMES  # noqa: E402

OTHER_OPTIONS = ["--x", "2.5", "--y", "10.125", "--w0", "-1.2345", "--w1", "0.3333333", "--ws", "3", "--lr", "0.1"]
LIVE_RELU_OPTIONS = ["--x", "-2", "--y", "0.7", "--w0", "-0.8", "--w1", "1.5", "--w2", "-0.3", "--ws", "2",
                     "--lr", "0.25"]
NODE_NAMES = ("z0", "h0", "z1", "h1", "z2", "y_hat")


def run(*options, timeout=120):
    """Run the script headless (no display, Agg backend) from the repository root; return the process."""
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("MPLBACKEND", None)
    return subprocess.run([sys.executable, SCRIPT] + list(options), cwd=str(REPO_ROOT), env=env,
                          capture_output=True, text=True, timeout=timeout)


def check_png(path: Path) -> None:
    assert path.is_file(), "{} was not written".format(path)
    with Image.open(str(path)) as image:
        assert image.format == "PNG"
        assert image.width > 500 and image.height > 300


def test_plot_writes_the_graph_and_keeps_the_text_output(tmp_path):
    plain = run()
    plotted = run("--plot", "--out", str(tmp_path / "figures"))
    assert plotted.returncode == 0, plotted.stderr
    check_png(tmp_path / "figures" / "pen_and_paper_graph.png")
    assert plotted.stdout.startswith(plain.stdout)
    assert plotted.stdout[len(plain.stdout):].startswith("Wrote ")


def test_plot_with_json_keeps_stdout_pure_json(tmp_path):
    process = run("--plot", "--json", "--out", str(tmp_path))
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout) == json.loads(run("--json").stdout)
    check_png(tmp_path / "pen_and_paper_graph.png")


def test_experiment_skip_writes_its_figure_and_states_the_result(tmp_path):
    process = run("--experiment", "skip", "--out", str(tmp_path))
    assert process.returncode == 0, process.stderr
    check_png(tmp_path / "skip_experiment.png")
    result_lines = [line for line in process.stdout.splitlines() if line.startswith("Skip experiment")]
    assert len(result_lines) == 1
    assert "without skips" in result_lines[0] and "with them" in result_lines[0]


@pytest.mark.parametrize("options", [["--experiment", "skip", "--w0", "1"], ["--experiment", "skip", "--json"],
                                     ["--seed", "3"], ["--depth", "5", "--plot"]])
def test_options_of_the_other_mode_are_refused(options):
    process = run(*options)
    assert process.returncode == 2
    assert "--experiment skip" in process.stderr


def drawn_number(text) -> float:
    """The number of a label such as '$\\partial L/\\partial w_0$ = 0.75': what follows the last '='."""
    return float(text.get_text().rsplit("=", 1)[1])


def expected_numbers(options):
    """Every number the figure must show, keyed as the drawing functions key their labels, from --json runs."""
    before = json.loads(run("--json", *options).stdout)
    updated = before["updated_weights"]
    after_options = list(options) + [item for name in WEIGHT_NAMES for item in ("--" + name, repr(updated[name]))]
    after = json.loads(run("--json", *after_options).stdout)
    args = run_pen_and_paper.parse_args(list(options))
    inputs = {name: getattr(args, name) for name in SHEET_VALUES}
    top = {("inputs", name): inputs[name] for name in ("x", "y") + WEIGHT_NAMES}
    top.update((("forward", name), before["forward"][name]) for name in NODE_NAMES + ("loss",))
    top.update((("backward", name), before["backward"][name]) for name in NODE_NAMES)
    top.update((("gradients", name), before["gradients"][name]) for name in WEIGHT_NAMES)
    bottom = {("inputs", name): inputs[name] for name in ("x", "y", "lr")}
    bottom.update((("updated_weights", name), updated[name]) for name in WEIGHT_NAMES)
    bottom.update((("after_step_forward", name), after["forward"][name]) for name in NODE_NAMES)
    bottom[("loss_after_step", "L")] = before["loss_after_step"]
    return inputs, top, bottom


@pytest.mark.parametrize("options", [[], OTHER_OPTIONS, LIVE_RELU_OPTIONS], ids=["sheet", "dead ReLU", "negative x"])
def test_numbers_on_the_graph_equal_the_json_output(options):
    inputs, expected_top, expected_bottom = expected_numbers(options)
    result = run_pen_and_paper.solve(**inputs)
    figure, top, bottom = run_pen_and_paper.make_pen_and_paper_figure(inputs, result)
    for panel, labels, expected in (("top", top, expected_top), ("bottom", bottom, expected_bottom)):
        assert set(labels) == set(expected), "{} panel: labels {} differ from the expected {}".format(
            panel, sorted(labels), sorted(expected))
        for key, value in expected.items():
            text = labels[key]
            assert text.figure is figure and text.get_visible()
            # Four significant digits are drawn, so the drawn number is within 5e-4 of the value, relatively.
            assert np.isclose(drawn_number(text), value, rtol=5e-4, atol=1e-12), \
                "{} panel, {}: drawn {!r}, --json says {!r}".format(panel, key, text.get_text(), value)


@pytest.mark.parametrize("options", [[], OTHER_OPTIONS], ids=["sheet", "long numbers"])
def test_numbers_on_the_graph_do_not_overlap(options):
    args = run_pen_and_paper.parse_args(list(options))
    inputs = {name: getattr(args, name) for name in SHEET_VALUES}
    figure, top, bottom = run_pen_and_paper.make_pen_and_paper_figure(inputs, run_pen_and_paper.solve(**inputs))
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    for labels in (top, bottom):
        boxes = [(key, text.get_window_extent(renderer)) for key, text in labels.items()]
        for index, (key, box) in enumerate(boxes):
            for other_key, other_box in boxes[index + 1:]:
                assert not box.overlaps(other_box), "{} overlaps {}".format(key, other_key)


def test_both_chains_start_from_the_same_weights():
    plain = make_deep_chain(depth=3, width=4, residual=False, seed=5)
    residual = make_deep_chain(depth=3, width=4, residual=True, seed=5)
    for p, r in zip(plain.parameters(), residual.parameters()):
        np.testing.assert_array_equal(p.data, r.data)


def test_skip_experiment_shows_the_vanishing_gradient_and_the_cure():
    results = run_skip_experiment(steps=100)
    plain, residual = results["plain"], results["residual"]
    assert plain["gradient_norms"][0] < 1e-3 * plain["gradient_norms"][-1]
    assert 0.1 < residual["gradient_norms"].min() and residual["gradient_norms"].max() < 10
    assert plain["losses"][-1] > 0.69 and residual["losses"][-1] < 0.05
    assert residual["accuracy"] == 1.0


@pytest.mark.parametrize("script", ["run_pen_and_paper.py", "run_xor_experiment.py"])
def test_an_empty_gap_ends_a_script_with_one_line_naming_it(tmp_path, script):
    # As in the handout: copy the repository's code, cut the ReLU.backward gap, run the script.
    for folder in ("lib", "experiments", "plotting"):
        (tmp_path / folder).mkdir()
        for source in (REPO_ROOT / folder).glob("*.py"):
            (tmp_path / folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / script).write_text((REPO_ROOT / script).read_text(encoding="utf-8"), encoding="utf-8")
    activations = tmp_path / "lib" / "activations.py"
    text = activations.read_text(encoding="utf-8")
    solution = "        return grad * (h > 0)\n"
    assert solution in text, "the ReLU.backward solution line moved; update this test"
    activations.write_text(text.replace(solution, "        raise NotImplementedError(\"ReLU.backward is not "
                                                  "implemented yet\")\n"), encoding="utf-8")
    result = subprocess.run([sys.executable, script], cwd=str(tmp_path), capture_output=True, text=True,
                            env=dict(os.environ, MPLBACKEND="Agg"), timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == ("{}: ReLU.backward is not implemented yet. Fill that TODO gap first "
                                     "(./runtests.sh shows which tests check it).".format(script)), result.stderr
