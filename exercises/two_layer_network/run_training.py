"""Train the sheet's 2-3-1 network on XOR with gradient descent and with momentum: (D), (E) and (F).

    python run_training.py                      # seed 2, 3000 iterations, lr 0.1, momentum 0.5 and 0.9
    python run_training.py --lr 0.5 --alphas 0.9 --out results/lr05

Prints the final loss and accuracy of every run and writes loss_curves.png and decision_boundary.png into --out.
Needs gaps 1 to 8 filled.
"""
import argparse
import os
import sys

# Write files only, never open a window (also on a machine without a display).
os.environ.setdefault("MPLBACKEND", "Agg")

from experiments import DEFAULTS, accuracy, run, write_figures  # noqa: E402  (after choosing the backend)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="seed of the data and the initial "
                        "parameters (default: %(default)s)")
    parser.add_argument("--points", type=int, default=DEFAULTS["points"], help="XOR points (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=DEFAULTS["iterations"], help="(default: %(default)s)")
    parser.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="learning rate (default: %(default)s)")
    parser.add_argument("--alphas", type=float, nargs="*", default=list(DEFAULTS["alphas"]),
                        help="the momentum of each momentum run (default: %(default)s)")
    parser.add_argument("--init-scale", type=float, default=DEFAULTS["init_scale"],
                        help="initial parameters are uniform in [-scale, scale) (default: %(default)s)")
    parser.add_argument("--out", default="results", help="folder for the figures (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    result = run(args.seed, args.points, args.iterations, args.lr, args.alphas, args.init_scale)
    for label, (params, losses) in result["runs"].items():
        score = accuracy(params, result["X"], result["y"])
        print("{:<22} final loss {:.4f}   accuracy {:.1%}".format(label, losses[-1], score))
    for path in write_figures(result, args.lr, args.out):
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
