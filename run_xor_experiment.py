"""The sheet's experiment: train Linear(2, 2) -> ReLU -> Linear(2, 2) on the four XOR points, and more.

    python run_xor_experiment.py                 # seed 0, 100 steps after the first, lr = 1
    python run_xor_experiment.py --seed 3        # another initialisation
    python run_xor_experiment.py --experiment momentum   # gradient descent against momentum, 1000 points
    python run_xor_experiment.py --experiment scaling    # one input feature x 100, against standardised inputs
    python run_xor_experiment.py --experiment lbfgs      # the network as one function, trained by scipy's L-BFGS-B
    python run_xor_experiment.py --animate       # also write the sheet's training run as a GIF
    python run_xor_experiment.py --experiment all --animate --out docs/figures   # every figure of the README

Figures are PNG files in --out (default results/); they open in a window only with --show.
Options left out take the experiment's default, listed under each option.
"""
import argparse
import os

import matplotlib.pyplot as plt
import numpy as np

from experiments.flat_parameters import parameter_count
from experiments.xor_extensions import (accuracy, compare_momentum, compare_scaling, make_quadrant_data, train_lbfgs,
                                        train_with_sgd)
from lib.experiments import XOR_INPUTS, XOR_LABELS, backward_pass, make_xor_model, train
from lib.losses import BCELoss, CrossEntropyLoss
from lib.utilities import one_hot_encoding
from plotting import run_script, use_backend, xor_figures
from plotting.animation import write_training_gif

EXPERIMENTS = ("sheet", "momentum", "scaling", "lbfgs")
# Per experiment: the values of the options that were not given.
DEFAULTS = {
    "sheet": {"seed": 0, "steps": 100, "lr": 1.0, "hidden": 2},
    "momentum": {"seed": 2, "steps": 1000, "lr": 0.1, "hidden": 3},
    "scaling": {"seed": 2, "steps": 1000, "lr": 0.1, "hidden": 3},
    "lbfgs": {"seed": 4, "steps": 200, "lr": 1.0, "hidden": 2},
}
QUADRANT_DATA_SEED = 0
QUADRANT_POINTS = 1000
SCALE_FACTOR = 100.0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", choices=EXPERIMENTS + ("all",), default="sheet",
                        help="which experiment to run (default: %(default)s)")
    parser.add_argument("--seed", type=int, help="seed of the initial weights (default: 0 for sheet, "
                        "2 for momentum and scaling, 4 for lbfgs)")
    parser.add_argument("--steps", type=int, help="sheet: steps after the first one (default 100); momentum and "
                        "scaling: steps (default 1000); lbfgs: the most L-BFGS-B iterations (default 200)")
    parser.add_argument("--lr", type=float, help="learning rate (default: 1 for sheet and lbfgs's gradient-descent "
                        "comparison, 0.1 for momentum and scaling)")
    parser.add_argument("--hidden", type=int, help="hidden units (default: 2 for sheet and lbfgs, "
                        "3 for momentum and scaling)")
    parser.add_argument("--momentum", type=float, default=0.9,
                        help="momentum of the second run of --experiment momentum (default: %(default)s)")
    parser.add_argument("--out", default="results", help="folder for the figures (default: %(default)s)")
    parser.add_argument("--show", action="store_true", help="also show the figures in windows")
    parser.add_argument("--animate", action="store_true",
                        help="also write the sheet's training run as training_animation.gif")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 0 or args.hidden is not None and args.hidden < 1 \
            or args.lr is not None and not args.lr > 0:
        parser.error("need --steps >= 0, --hidden >= 1 and --lr > 0")
    if not 0 <= args.momentum < 1:
        parser.error("need 0 <= --momentum < 1")
    return args


def settings(args: argparse.Namespace, experiment: str) -> argparse.Namespace:
    """The options for one experiment: those given on the command line, the experiment's defaults for the rest."""
    values = dict(DEFAULTS[experiment])
    values.update((key, getattr(args, key)) for key in values if getattr(args, key) is not None)
    return argparse.Namespace(**values)


def print_parameters(title: str, model, attribute: str) -> None:
    """Print param.data or param.grad of every parameter, labelled by its layer."""
    print(title)
    for index, module in enumerate(model.modules):
        for param in module.parameters():
            values = np.array2string(getattr(param, attribute), prefix="    ")
            print("  layer {} {}, {}:\n    {}".format(index, module, param.name, values))


def run_sheet(opts: argparse.Namespace, out: str) -> list:
    """The sheet's run, printed step by step; returns the paths of its three figures."""
    model = make_xor_model(opts.hidden, rng=np.random.default_rng(opts.seed))
    loss_fn = CrossEntropyLoss()
    targets = one_hot_encoding(XOR_LABELS, 2)

    logits = model(XOR_INPUTS)
    loss_before = loss_fn(logits, targets)
    print("Inputs:", XOR_INPUTS.tolist(), " labels:", XOR_LABELS.tolist())
    print("Initial predictions", np.argmax(logits, axis=1))
    print("Loss before any step: {:.6f}".format(loss_before))
    print_parameters("Parameters before the step:", model, "data")
    print_parameters("Gradients before the step:", model, "grad")

    backward_pass(model, loss_fn, opts.lr)
    print_parameters("Gradients after the step:", model, "grad")
    print_parameters("Parameters after the step:", model, "data")

    losses = train(model, loss_fn, XOR_INPUTS, targets, opts.steps, opts.lr)
    print("Loss after 1 step: {:.6f}".format(losses[0]))
    for step, loss in enumerate(losses[1:], start=2):
        print("Loss after {} steps: {:.6f}".format(step, loss))
    print("Final predictions", np.argmax(model(XOR_INPUTS), axis=1), " (labels {})".format(XOR_LABELS))

    all_losses = np.concatenate([[loss_before], losses])
    title = "after {} steps (lr = {:g}, seed {}): accuracy {:.0%}".format(
        len(all_losses) - 1, opts.lr, opts.seed, accuracy(model, XOR_INPUTS, XOR_LABELS))
    return [
        xor_figures.save(xor_figures.sheet_loss_figure(all_losses, opts.hidden, opts.lr, opts.seed), out,
                         "xor_loss_curve.png"),
        xor_figures.save(xor_figures.sheet_boundary_figure(model, XOR_INPUTS, XOR_LABELS, title), out,
                         "xor_decision_boundary.png"),
        xor_figures.save(xor_figures.hidden_space_figure(model, XOR_INPUTS, XOR_LABELS), out, "xor_hidden_space.png"),
    ]


def run_momentum(opts: argparse.Namespace, momentum: float, out: str) -> list:
    x, labels = make_quadrant_data(QUADRANT_POINTS, rng=np.random.default_rng(QUADRANT_DATA_SEED))
    print("Gradient descent against momentum {:g}: {} points in [-2, 2]^2, Linear(2, {h}) -> ReLU -> Linear({h}, 1) "
          "-> Sigmoid, BCELoss, lr = {:g}, {} steps, seed {}".format(
              momentum, len(x), opts.lr, opts.steps, opts.seed, h=opts.hidden))
    runs = compare_momentum(BCELoss(), x, labels, opts.seed, opts.steps, opts.lr, momentum, opts.hidden)
    curves = {}
    for name, run in runs.items():
        label = name if not run["momentum"] else "{} {:g}".format(name, run["momentum"])
        below = np.flatnonzero(run["losses"] < 0.2)
        when = "first below 0.2 after {} steps".format(below[0]) if below.size else "never below 0.2"
        print("  {:<16} final loss {:.4f}, accuracy {:.1%}, loss {}".format(
            label, run["losses"][-1], run["accuracy"], when))
        curves[label] = run["losses"]
    title = "{} points, same initial weights (seed {}), lr = {:g}".format(len(x), opts.seed, opts.lr)
    return [
        xor_figures.save(xor_figures.loss_curves_figure(curves, title, ylabel="binary cross-entropy (log scale)"),
                         out, "momentum_loss_curves.png"),
        xor_figures.save(xor_figures.momentum_boundaries_figure(runs, x, labels), out,
                         "momentum_decision_boundaries.png"),
    ]


def run_scaling(opts: argparse.Namespace, out: str) -> list:
    x, labels = make_quadrant_data(QUADRANT_POINTS, rng=np.random.default_rng(QUADRANT_DATA_SEED))
    runs = compare_scaling(BCELoss(), x, labels, opts.seed, opts.steps, opts.lr, SCALE_FACTOR,
                           small_lr=opts.lr / SCALE_FACTOR, hidden=opts.hidden)
    print("Inputs on different scales: feature 1 x {:g} against standardised features, plain gradient descent, "
          "{} steps, seed {}".format(SCALE_FACTOR, opts.steps, opts.seed))
    for name, run in runs.items():
        print("  {:<16} lr = {:<6g} final loss {:.4f}, accuracy {:.1%}".format(
            name, run["lr"], run["losses"][-1], run["accuracy"]))
    scaled_columns = np.linalg.norm(runs["scaled"]["initial_gradient"], axis=0)
    standard_columns = np.linalg.norm(runs["standardised"]["initial_gradient"], axis=0)
    ratio = scaled_columns[0] / scaled_columns[1]
    print("First layer's dL/dW at the start: ||column 1|| / ||column 2|| = {:.0f} with feature 1 x {:g}, {:.1f} with "
          "standardised features.".format(ratio, SCALE_FACTOR, standard_columns[0] / standard_columns[1]))
    return [xor_figures.save(xor_figures.scaling_figure(runs, SCALE_FACTOR), out, "scaling_loss_curves.png")]


def run_lbfgs(opts: argparse.Namespace, out: str) -> list:
    targets = one_hot_encoding(XOR_LABELS, 2)
    model = make_xor_model(opts.hidden, rng=np.random.default_rng(opts.seed))
    result = train_lbfgs(model, CrossEntropyLoss(), XOR_INPUTS, targets, max_iterations=opts.steps)
    gd_model = make_xor_model(opts.hidden, rng=np.random.default_rng(opts.seed))
    gd_losses = train(gd_model, CrossEntropyLoss(), XOR_INPUTS, targets, DEFAULTS["sheet"]["steps"] + 1, opts.lr)
    print("scipy.optimize.minimize(loss_and_gradient, theta, method='L-BFGS-B', jac=True) on the XOR network, "
          "{} weights, seed {}:".format(parameter_count(model.parameters()), opts.seed))
    print("  {} after {} iterations ({} evaluations): loss {:.2e}, predictions {}, accuracy {:.0%}".format(
        result["result"].message, result["result"].nit, result["result"].nfev, result["losses"][-1],
        np.argmax(model(XOR_INPUTS), axis=1), accuracy(model, XOR_INPUTS, XOR_LABELS)))
    print("  gradient descent from the same weights, {} steps of lr = {:g}: loss {:.2e}, accuracy {:.0%}".format(
        len(gd_losses) - 1, opts.lr, gd_losses[-1], accuracy(gd_model, XOR_INPUTS, XOR_LABELS)))
    figure = xor_figures.lbfgs_figure(result["losses"], gd_losses, opts.lr, opts.seed,
                                      parameter_count(model.parameters()))
    return [xor_figures.save(figure, out, "xor_lbfgs_loss.png")]


def run_animation(opts: argparse.Namespace, out: str) -> list:
    """The sheet's run again (1 + steps gradient-descent steps from the same weights), as a GIF."""
    model = make_xor_model(opts.hidden, rng=np.random.default_rng(opts.seed))
    targets = one_hot_encoding(XOR_LABELS, 2)
    steps = opts.steps + 1
    # About 25 frames whatever the run's length keeps the GIF small.
    losses, snapshots, snapshot_steps = train_with_sgd(model, CrossEntropyLoss(), XOR_INPUTS, targets, steps,
                                                       opts.lr, snapshot_every=max(1, steps // 25))
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "training_animation.gif")
    title = "XOR, Linear(2, {0}) -> ReLU -> Linear({0}, 2), lr = {1:g}, seed {2}".format(
        opts.hidden, opts.lr, opts.seed)
    write_training_gif(path, model, snapshots, snapshot_steps, losses, XOR_INPUTS, XOR_LABELS, title=title)
    return [path]


def main(argv=None) -> int:
    args = parse_args(argv)
    use_backend(args.show)
    np.set_printoptions(precision=4, suppress=True)
    experiments = EXPERIMENTS if args.experiment == "all" else (args.experiment,)
    written = []
    for experiment in experiments:
        opts = settings(args, experiment)
        if experiment == "sheet":
            written += run_sheet(opts, args.out)
        elif experiment == "momentum":
            written += run_momentum(opts, args.momentum, args.out)
        elif experiment == "scaling":
            written += run_scaling(opts, args.out)
        else:
            written += run_lbfgs(opts, args.out)
    if args.animate:
        written += run_animation(settings(args, "sheet"), args.out)
    for path in written:
        print("Wrote", path)
    if args.show:
        plt.show()
    plt.close("all")
    return 0


if __name__ == "__main__":
    run_script(main, __file__)
