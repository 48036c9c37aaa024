"""The numbers in solutions/reference_answers.md agree with the code that produces them.

How numbers are read from the Markdown (the same rules are written at the end of the answers file):
- A checked row is a Markdown table row whose first cell is a key in backticks and whose last cell is a
  number: | `gradients.w0` | ... | 0.75 |. Other lines, and lines in fenced code blocks, are ignored.
- Pen-and-paper keys: `inputs.NAME` is SHEET_VALUES[NAME]; any other key without brackets is a dotted path
  into run_pen_and_paper.py --json (experiments.pen_and_paper.solve(**SHEET_VALUES)); `after_step.PATH` is PATH in
  solve() at the updated weights.
- Experiment keys: `xor[lr=..,steps=..,hidden=..].FIELD` is survey(20 seeds, [lr], steps, hidden) of
  tools/survey_xor_runs.py, `xor_run[seed=..,lr=..].FIELD` one run() of it.
- A written number must equal the computed one rounded to the decimals written; integers exactly.
"""
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSWERS = REPO_ROOT / "solutions" / "reference_answers.md"
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "tools")]

from experiments.pen_and_paper import SHEET_VALUES, solve  # noqa: E402
from survey_xor_runs import run, survey  # noqa: E402

ROW = re.compile(r"^\|\s*`(?P<key>[^`]+)`\s*\|.*\|\s*(?P<value>[-+]?\d+(?:\.\d+)?)\s*\|\s*$")
EXPERIMENT_KEY = re.compile(r"^(?P<kind>xor|xor_run)\[(?P<params>[^\]]*)\]\.(?P<field>\w+)$")
SURVEY_SEEDS = 20


def checked_rows():
    """(line number, key, written value as text) for every checked table row of the answers."""
    rows, in_code_block = [], False
    for number, line in enumerate(ANSWERS.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_code_block = not in_code_block  # an example row inside a code block is not a checked row
            continue
        match = None if in_code_block else ROW.match(line.strip())
        if match:
            rows.append((number, match.group("key"), match.group("value")))
    return rows


def agrees(written: str, computed: float) -> bool:
    """True if `written` is `computed` rounded to the number of decimals written (integers: exactly)."""
    if not math.isfinite(computed):
        return False
    decimals = len(written.split(".")[1]) if "." in written else 0
    if decimals == 0 and float(computed).is_integer():
        return int(written) == int(computed)
    # Half a unit in the last written place, plus a hair for the binary representation of the decimal.
    return abs(float(written) - computed) <= 0.5 * 10.0 ** -decimals * (1 + 1e-9) + 1e-12


def lookup(tree: dict, path: str):
    for part in path.split("."):
        tree = tree[part]
    return tree


@pytest.fixture(scope="module")
def script_json() -> dict:
    """run_pen_and_paper.py --json, run as a student would run it."""
    out = subprocess.run([sys.executable, "run_pen_and_paper.py", "--json"], cwd=str(REPO_ROOT), check=True,
                         stdout=subprocess.PIPE, timeout=120).stdout
    return json.loads(out.decode("utf-8"))


@pytest.fixture(scope="module")
def pen_and_paper_rows():
    rows = [row for row in checked_rows() if not EXPERIMENT_KEY.match(row[1])]
    assert rows, "no pen-and-paper table rows found in {}".format(ANSWERS)
    return rows


def pen_and_paper_value(key: str, result: dict, after_step: dict) -> float:
    if key.startswith("inputs."):
        return SHEET_VALUES[key[len("inputs."):]]
    if key.startswith("after_step."):
        return lookup(after_step, key[len("after_step."):])
    return lookup(result, key)


def test_answers_file_exists():
    assert ANSWERS.is_file(), "{} is missing".format(ANSWERS)


def test_script_json_is_solve_of_the_sheet_values(script_json):
    """The script and the library give the same numbers, so the answers may be checked against either."""
    assert script_json == json.loads(json.dumps(solve(**SHEET_VALUES)))


def test_pen_and_paper_numbers(script_json, pen_and_paper_rows):
    after_step = solve(**dict(SHEET_VALUES, **script_json["updated_weights"]))
    wrong = []
    for line, key, written in pen_and_paper_rows:
        try:
            computed = pen_and_paper_value(key, script_json, after_step)
        except KeyError:
            wrong.append("line {}: unknown key `{}`".format(line, key))
            continue
        if not agrees(written, float(computed)):
            wrong.append("line {}: `{}` is written as {} but computed as {!r}".format(line, key, written, computed))
    assert not wrong, "reference answers disagree with run_pen_and_paper.py --json:\n" + "\n".join(wrong)


def test_every_pen_and_paper_number_is_in_the_table(script_json, pen_and_paper_rows):
    """Each value of the JSON (except the finite-difference estimates) has exactly one row."""
    keys = [key for _, key, _ in pen_and_paper_rows]
    expected = ["inputs." + name for name in SHEET_VALUES]
    for section, values in script_json.items():
        if section == "finite_differences":
            continue
        expected += [section] if not isinstance(values, dict) else [section + "." + name for name in values]
    missing = [key for key in expected if key not in keys]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    assert not missing, "rows missing from the pen-and-paper table: {}".format(missing)
    assert not repeated, "rows that appear more than once: {}".format(repeated)


def experiment_value(kind: str, params: dict, field: str, cache: dict) -> float:
    if kind == "xor_run":
        result = run(int(params["seed"]), float(params["lr"]))
        losses = result["losses"]
        values = {"loss_before": losses[0], "loss_after_one_step": losses[1], "final_loss": losses[-1],
                  "correct": int(result["correct"])}
        return float(values[field])
    lr, steps, hidden = float(params["lr"]), int(params.get("steps", 100)), int(params.get("hidden", 2))
    if (lr, steps, hidden) not in cache:
        with np.errstate(over="ignore", invalid="ignore"):
            table = survey(SURVEY_SEEDS, [lr], steps, hidden)["by_lr"]
        cache[(lr, steps, hidden)] = next(iter(table.values()))
    return float(cache[(lr, steps, hidden)][field])


def experiment_rows():
    rows = []
    for line, key, written in checked_rows():
        match = EXPERIMENT_KEY.match(key)
        if match:
            params = dict(item.split("=") for item in match.group("params").split(","))
            rows.append((line, key, written, match.group("kind"), params, match.group("field")))
    return rows


def test_experiment_numbers():
    rows = experiment_rows()
    assert rows, "no experiment table rows found in {}".format(ANSWERS)
    cache, wrong = {}, []
    for line, key, written, kind, params, field in rows:
        try:
            computed = experiment_value(kind, params, field, cache)
        except KeyError:
            wrong.append("line {}: unknown key `{}`".format(line, key))
            continue
        if not agrees(written, computed):
            wrong.append("line {}: `{}` is written as {} but measured as {!r}".format(line, key, written, computed))
    assert not wrong, ("reference answers disagree with tools/survey_xor_runs.py:\n" + "\n".join(wrong)
                       + "\n(rerun `python tools/survey_xor_runs.py` and update the answers)")


def test_numbers_in_the_experiment_prose_come_from_the_table():
    text = ANSWERS.read_text(encoding="utf-8")
    start, end = text.index("## Questions on the experiments"), text.index("## How the tables are checked")
    prose_lines = [line for line in text[start:end].splitlines() if not line.lstrip().startswith("|")]
    prose = re.sub(r"<!--.*?-->", "", "\n".join(prose_lines), flags=re.S)
    table_values = {written for _, _, written, *_ in experiment_rows()}
    counts = re.findall(r"(\d+) of {}\b".format(SURVEY_SEEDS), prose)
    decimals = re.findall(r"(?<![\d.])(\d+\.\d{3,})(?![\d.])", prose)
    assert counts and decimals, "expected quoted counts and decimals in the experiment answers"
    unknown = [value for value in counts + decimals if value not in table_values]
    assert not unknown, "numbers in the prose that are not values of the experiment table: {}".format(unknown)


def test_survey_run_is_the_scripts_run(tmp_path):
    """tools/survey_xor_runs.run() repeats what run_xor_experiment.py prints, here for the default seed 0."""
    out = subprocess.run([sys.executable, "run_xor_experiment.py", "--seed", "0", "--out", str(tmp_path)],
                         cwd=str(REPO_ROOT), check=True, stdout=subprocess.PIPE, timeout=300).stdout.decode()
    result = run(0, 1.0)
    printed_losses = [float(value) for value in re.findall(r"^Loss (?:before any step|after \d+ steps?): (\S+)$",
                                                           out, flags=re.M)]
    assert len(printed_losses) == len(result["losses"]), "the script printed {} losses, run() has {}".format(
        len(printed_losses), len(result["losses"]))
    np.testing.assert_allclose(printed_losses, result["losses"], atol=5e-7)
    printed_predictions = re.search(r"^Final predictions \[([\d ]+)\]", out, flags=re.M).group(1).split()
    assert [int(value) for value in printed_predictions] == result["predictions"]
