"""The pen-and-paper task of the sheet, computed with the library: forward pass, backward pass, one step.

    python run_pen_and_paper.py                      # the sheet's numbers
    python run_pen_and_paper.py --w0 -1              # any other numbers, to check a hand computation
    python run_pen_and_paper.py --json               # one JSON object instead of text
    python run_pen_and_paper.py --plot               # also draw the network with its numbers (results/)
    python run_pen_and_paper.py --experiment skip    # a deep chain trained with and without skip connections
"""
import argparse
import contextlib
import json
import os
import sys

from experiments.deep_chains import DEFAULTS as SKIP_DEFAULTS
from experiments.pen_and_paper import SHEET_VALUES, WEIGHT_NAMES, solve
from plotting import run_script, use_backend


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Defaults are filled in after parsing, so that an option given for the other mode is an error, not ignored.
    for name, default in SHEET_VALUES.items():
        help_text = "default: {:g}".format(default)
        if name == "lr":
            help_text = "learning rate (default: {:g}; {:g} with --experiment skip)".format(
                default, SKIP_DEFAULTS["lr"])
        parser.add_argument("--" + name, type=float, default=None, help=help_text)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--plot", action="store_true", help="draw the network with its numbers into --out")
    parser.add_argument("--out", default="results", help="folder for the figures (default: %(default)s)")
    parser.add_argument("--show", action="store_true", help="also open the figures in a window")
    skip = parser.add_argument_group("the skip experiment")
    skip.add_argument("--experiment", choices=["skip"],
                      help="skip: train a deep chain with and without skip connections on XOR and plot both")
    skip.add_argument("--depth", type=int, help="blocks in the chain (default: {})".format(SKIP_DEFAULTS["depth"]))
    skip.add_argument("--width", type=int, help="units per block (default: {})".format(SKIP_DEFAULTS["width"]))
    skip.add_argument("--activation", choices=["tanh", "sigmoid"],
                      help="nonlinearity of each block (default: {})".format(SKIP_DEFAULTS["activation"]))
    skip.add_argument("--steps", type=int, help="training steps (default: {})".format(SKIP_DEFAULTS["steps"]))
    skip.add_argument("--seed", type=int,
                      help="seed of the initial weights (default: {})".format(SKIP_DEFAULTS["seed"]))
    args = parser.parse_args(argv)

    sheet_only = [name for name in SHEET_VALUES if name != "lr" and getattr(args, name) is not None]
    sheet_only += [flag for flag in ("json", "plot") if getattr(args, flag)]
    skip_only = [name for name in SKIP_DEFAULTS if name != "lr" and getattr(args, name) is not None]
    if args.experiment and sheet_only:
        parser.error("--{} belong(s) to the sheet's network, not to --experiment skip".format(", --".join(sheet_only)))
    if not args.experiment and skip_only:
        parser.error("--{} need(s) --experiment skip".format(", --".join(skip_only)))
    for name, default in SHEET_VALUES.items():
        if getattr(args, name) is None:
            setattr(args, name, SKIP_DEFAULTS["lr"] if (name == "lr" and args.experiment) else default)
    for name, default in SKIP_DEFAULTS.items():
        if name != "lr" and getattr(args, name) is None:
            setattr(args, name, default)
    if args.depth < 1 or args.width < 1 or args.steps < 0 or not args.lr > 0:
        parser.error("need --depth >= 1, --width >= 1, --steps >= 0 and --lr > 0")
    return args


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


def make_pen_and_paper_figure(inputs: dict, result: dict):
    """The figure of plotting.network_graph for these inputs; returns (figure, top labels, bottom labels)."""
    from plotting.network_graph import plot_pen_and_paper
    after_inputs = dict(inputs, **result["updated_weights"])
    return plot_pen_and_paper(inputs, result, solve(**after_inputs))


def save(figure, out: str, name: str, message_stream) -> None:
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name)
    figure.savefig(path, dpi=110)
    print("Wrote {}".format(path), file=message_stream)


def run_skip_experiment(args: argparse.Namespace) -> None:
    from experiments.deep_chains import run_skip_experiment as run
    from plotting.gradient_flow import plot_skip_experiment
    results = run(args.depth, args.width, args.activation, args.steps, args.lr, args.seed)
    settings = "{} blocks of Linear({w}, {w}) + {}, seed {}, {} steps of lr {:g}".format(
        args.depth, args.activation, args.seed, args.steps, args.lr, w=args.width)
    figure = plot_skip_experiment(results, settings)
    # The default activation's figure is skip_experiment.png; others are named after their activation.
    name = "skip_experiment{}.png".format("" if args.activation == SKIP_DEFAULTS["activation"] else
                                          "_" + args.activation)
    save(figure, args.out, name, sys.stdout)
    plain, residual = results["plain"], results["residual"]
    print("Skip experiment ({}): ||dL/dW|| of block 1 vs block {} is {:.1e} vs {:.1e} without skips and "
          "{:.2g} vs {:.2g} with them; XOR loss {:.3f} -> {:.3f} without skips, {:.3f} -> {:.4f} with them."
          .format(settings, args.depth, plain["gradient_norms"][0], plain["gradient_norms"][-1],
                  residual["gradient_norms"][0], residual["gradient_norms"][-1], plain["losses"][0],
                  plain["losses"][-1], residual["losses"][0], residual["losses"][-1]))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.plot or args.experiment:
        use_backend(args.show)
    if args.experiment:
        run_skip_experiment(args)
    else:
        inputs = {name: getattr(args, name) for name in SHEET_VALUES}
        # With --json, stdout holds nothing but the JSON object: what the gaps print (a debug print) goes to stderr.
        with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
            result = solve(**inputs)
            figure = make_pen_and_paper_figure(inputs, result)[0] if args.plot else None
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print_report(result, args.lr)
        if figure is not None:
            save(figure, args.out, "pen_and_paper_graph.png", sys.stderr if args.json else sys.stdout)
    if args.show and (args.plot or args.experiment):
        import matplotlib.pyplot as plt
        plt.show()
    return 0


if __name__ == "__main__":
    run_script(main, __file__)
