"""The sheet's experiment: train Linear(2, 2) -> ReLU -> Linear(2, 2) on the four XOR points.

    python run_xor_experiment.py                 # seed 0, 100 steps after the first, lr = 1
    python run_xor_experiment.py --seed 3        # another initialisation
"""
import argparse
import sys

import numpy as np

from lib.experiments import XOR_INPUTS, XOR_LABELS, backward_pass, make_xor_model, train
from lib.losses import CrossEntropyLoss
from lib.utilities import one_hot_encoding


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=100, help="steps after the first one (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate (default: %(default)s)")
    parser.add_argument("--hidden", type=int, default=2, help="hidden units (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.steps < 0 or args.hidden < 1 or not args.lr > 0:
        parser.error("need --steps >= 0, --hidden >= 1 and --lr > 0")
    return args


def print_parameters(title: str, model, attribute: str) -> None:
    """Print param.data or param.grad of every parameter, labelled by its layer."""
    print(title)
    for index, module in enumerate(model.modules):
        for param in module.parameters():
            values = np.array2string(getattr(param, attribute), prefix="    ")
            print("  layer {} {}, {}:\n    {}".format(index, module, param.name, values))


def main(argv=None) -> int:
    args = parse_args(argv)
    np.set_printoptions(precision=4, suppress=True)
    model = make_xor_model(args.hidden, rng=np.random.default_rng(args.seed))
    loss_fn = CrossEntropyLoss()
    targets = one_hot_encoding(XOR_LABELS, 2)

    logits = model(XOR_INPUTS)
    print("Inputs:", XOR_INPUTS.tolist(), " labels:", XOR_LABELS.tolist())
    print("Initial predictions", np.argmax(logits, axis=1))
    print("Loss before any step: {:.6f}".format(loss_fn(logits, targets)))
    print_parameters("Parameters before the step:", model, "data")
    print_parameters("Gradients before the step:", model, "grad")

    backward_pass(model, loss_fn, args.lr)
    print_parameters("Gradients after the step:", model, "grad")
    print_parameters("Parameters after the step:", model, "data")

    losses = train(model, loss_fn, XOR_INPUTS, targets, args.steps, args.lr)
    print("Loss after 1 step: {:.6f}".format(losses[0]))
    for step, loss in enumerate(losses[1:], start=2):
        print("Loss after {} steps: {:.6f}".format(step, loss))
    print("Final predictions", np.argmax(model(XOR_INPUTS), axis=1), " (labels {})".format(XOR_LABELS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
