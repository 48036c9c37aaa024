"""Measure the sheet's XOR experiment over many seeds and learning rates, for the reference answers.

    python tools/survey_xor_runs.py                     # seeds 0..19, lr 0.1, 0.3, 1, 3 and 10
    python tools/survey_xor_runs.py --json              # the same as one JSON object
    python tools/survey_xor_runs.py --seeds 50 --lr 1   # other settings

Each run is what `python run_xor_experiment.py --seed S --lr LR` does, without its printing and figures:
make_xor_model(2, rng=default_rng(S)), one backward_pass, then train() for 100 more steps, all on the
four XOR points. solutions/reference_answers.md quotes the default table; tools/tests/test_reference_answers.py
checks the quotes against survey() and checks one run against the script's own output.
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere: lib/ is at the repo root

from lib.experiments import XOR_INPUTS, XOR_LABELS, backward_pass, make_xor_model, train  # noqa: E402
from lib.losses import CrossEntropyLoss  # noqa: E402
from lib.network import Sequential  # noqa: E402
from lib.utilities import one_hot_encoding  # noqa: E402

DEFAULT_SEEDS = 20
DEFAULT_LRS = (0.1, 0.3, 1.0, 3.0, 10.0)
STEPS = 100  # steps after the first one, as run_xor_experiment.py's default
# A step "increased" the loss if it rose by more than this; smaller rises are rounding noise on a plateau.
INCREASE_TOLERANCE = 1e-9


def dead_units(model: Sequential) -> int:
    """Hidden ReLU units that output 0 for all four XOR points: they get no gradient and cannot recover."""
    hidden = Sequential(*model.modules[:2])(XOR_INPUTS)
    return int(np.sum(np.all(hidden <= 0, axis=0)))


def run(seed: int, lr: float, steps: int = STEPS, hidden: int = 2) -> Dict:
    """One run of the sheet's experiment. Returns its losses (1 + steps + 1 values, before any step first)."""
    model = make_xor_model(hidden, rng=np.random.default_rng(seed))
    dead_at_start = dead_units(model)
    loss_fn = CrossEntropyLoss()
    targets = one_hot_encoding(XOR_LABELS, 2)
    loss_before = loss_fn(model(XOR_INPUTS), targets)
    predictions_before = np.argmax(model(XOR_INPUTS), axis=1)
    backward_pass(model, loss_fn, lr)
    predictions_after_one_step = np.argmax(model(XOR_INPUTS), axis=1)
    losses = np.concatenate([[loss_before], train(model, loss_fn, XOR_INPUTS, targets, steps, lr)])
    predictions = np.argmax(model(XOR_INPUTS), axis=1)
    return {
        "seed": seed,
        "lr": lr,
        "losses": losses,
        "predictions": predictions.tolist(),
        "correct": bool(np.array_equal(predictions, XOR_LABELS)),
        "first_step_decreased": bool(losses[1] < losses[0]),
        "first_step_changed_predictions": bool(not np.array_equal(predictions_before, predictions_after_one_step)),
        # Steps after which the loss was higher than before them.
        "increases": int(np.sum(np.diff(losses) > INCREASE_TOLERANCE)),
        "dead_units_at_start": dead_at_start,
        "dead_units_at_end": dead_units(model),
    }


def survey(seeds: int = DEFAULT_SEEDS, lrs: Sequence[float] = DEFAULT_LRS, steps: int = STEPS, hidden: int = 2) -> Dict:
    """Per learning rate, over seeds 0..seeds-1: how many runs end with all four predictions correct, etc."""
    table = {}
    for lr in lrs:
        runs = [run(seed, lr, steps, hidden) for seed in range(seeds)]
        final = np.array([r["losses"][-1] for r in runs])
        table["{:g}".format(lr)] = {
            "runs": seeds,
            "correct": sum(r["correct"] for r in runs),
            "correct_seeds": [r["seed"] for r in runs if r["correct"]],
            "first_step_decreased": sum(r["first_step_decreased"] for r in runs),
            "first_step_changed_predictions": sum(r["first_step_changed_predictions"] for r in runs),
            "runs_with_an_increase": sum(r["increases"] > 0 for r in runs),
            "runs_with_a_dead_unit_at_start": sum(r["dead_units_at_start"] > 0 for r in runs),
            "runs_with_a_dead_unit_at_end": sum(r["dead_units_at_end"] > 0 for r in runs),
            "median_final_loss": float(np.median(final)),
            "finite_final_loss": int(np.sum(np.isfinite(final))),
        }
    return {"seeds": seeds, "steps_after_first": steps, "hidden": hidden, "by_lr": table}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help="seeds 0..SEEDS-1 (default: %(default)s)")
    parser.add_argument("--lr", type=float, nargs="+", default=list(DEFAULT_LRS), help="learning rates")
    parser.add_argument("--steps", type=int, default=STEPS, help="steps after the first (default: %(default)s)")
    parser.add_argument("--hidden", type=int, default=2, help="hidden units (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with np.errstate(over="ignore", invalid="ignore"):  # a too-large lr may overflow; that is a result
        result = survey(args.seeds, args.lr, args.steps, args.hidden)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print("{} seeds, {} hidden units, 1 + {} steps each".format(
        result["seeds"], result["hidden"], result["steps_after_first"]))
    columns = ("correct", "first_step_decreased", "first_step_changed_predictions", "runs_with_an_increase",
               "runs_with_a_dead_unit_at_start", "runs_with_a_dead_unit_at_end")
    print("runs out of {} per learning rate:".format(result["seeds"]))
    print("{:>6} {:>8} {:>14} {:>15} {:>13} {:>11} {:>9} {:>12}".format(
        "lr", "correct", "1st step down", "1st step moved", "some step up", "dead start", "dead end", "median loss"))
    for lr, row in result["by_lr"].items():
        print("{:>6} {:>8} {:>14} {:>15} {:>13} {:>11} {:>9} {:>12.4g}".format(
            lr, *[row[name] for name in columns], row["median_final_loss"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
