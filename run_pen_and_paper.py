"""The pen-and-paper task of the sheet, computed with the library: forward pass, backward pass, one step.

    python run_pen_and_paper.py            # the sheet's numbers
    python run_pen_and_paper.py --w0 -1    # any other numbers, to check a hand computation
    python run_pen_and_paper.py --json     # one JSON object instead of text
"""
import argparse
import json
import sys

from lib.pen_and_paper import SHEET_VALUES, WEIGHT_NAMES, solve


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in SHEET_VALUES.items():
        parser.add_argument("--" + name, type=float, default=default, help="default: %(default)s")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser.parse_args(argv)


def print_report(result: dict, lr: float) -> None:
    forward, backward, gradients = result["forward"], result["backward"], result["gradients"]
    print("Forward pass")
    for name in ("z0", "h0", "z1", "h1", "z2", "y_hat"):
        print("  {:6} = {: .6g}".format(name, forward[name]))
    print("  {:6} = {: .6g}".format("L", forward["loss"]))
    print("Backward pass")
    for name in ("y_hat", "z2", "h1", "z1", "h0", "z0"):
        print("  dL/d{:6} = {: .6g}".format(name, backward[name]))
    print("Weight gradients (backpropagation | finite differences)")
    for name in WEIGHT_NAMES:
        estimate = result["finite_differences"][name]
        verdict = "agree" if abs(estimate - gradients[name]) <= 1e-5 else "DISAGREE"
        print("  dL/d{:4} = {: .6g} | {: .6g}  {}".format(name, gradients[name], estimate, verdict))
    print("Gradient-descent step, w <- w - {:g} * dL/dw".format(lr))
    for name in WEIGHT_NAMES:
        print("  {:4} = {: .6g}".format(name, result["updated_weights"][name]))
    print("Loss after the step: L = {:.6g}".format(result["loss_after_step"]))


def main(argv=None) -> int:
    args = parse_args(argv)
    result = solve(**{name: getattr(args, name) for name in SHEET_VALUES})
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result, args.lr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
