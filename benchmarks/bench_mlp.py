"""Time one training step of an MLP three ways: the library, PyTorch on the CPU, and a bare-NumPy floor.

One step is: forward through Linear -> ReLU -> ... -> Linear, mean cross-entropy on integer labels,
backward, and a plain SGD update (lr = 0.01, no momentum).

All three do the same work: the backward pass also computes dL/dx of the network's input, as the library's
Sequential.backward always returns it.

- lib:      lib.network.Sequential of lib Linear/ReLU modules, lib CrossEntropyLoss, lib SGD.
- torch:    torch.nn.Sequential with the same weights, shapes, dtype and thread count (the BLAS thread
            count threadpoolctl reports is passed to torch.set_num_threads); its input has requires_grad=True.
            Skipped when torch is missing.
- floor:    the same step as plain array code, no modules.
- floor_acc (only with --accumulate): the floor, but with the library's gradient contract: zero_grad sets
            every gradient to zeros and backward adds (+=) into them, one more pass over each weight matrix
            that the floor and PyTorch (whose zero_grad sets gradients to None) do not make.

The repetitions of the implementations are interleaved (in a rotating order), so that noise from the
machine hits them alike; each reported time is the median over the repetitions of the time per step.
Memory: the peak of what tracemalloc sees allocated during one step (numpy reports its buffers to it),
tracing started right before the step; PyTorch's allocator is invisible to tracemalloc, so only lib and
the floor are compared.

Usage (from the repository root):
    python benchmarks/bench_mlp.py                       # all sizes, float64 and float32
    python benchmarks/bench_mlp.py --sizes xor,small --repeats 3
    python benchmarks/bench_mlp.py --json                # a list of rows {"size", "dtype", "lib_s", ...}
    python benchmarks/bench_mlp.py --sizes mnist --accumulate   # what the += gradient contract costs
Timing targets are reported, never asserted: the exit code is 0 whether or not they are met.
"""
import argparse
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from typing import Callable, Dict, List, Optional

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    # Lets `python benchmarks/bench_mlp.py` import lib without installing anything.
    sys.path.insert(0, REPO_ROOT)

from lib.activations import ReLU  # noqa: E402
from lib.losses import CrossEntropyLoss  # noqa: E402
from lib.network import Linear, Sequential  # noqa: E402
from lib.optimizers import SGD  # noqa: E402

# name: (batch size N, layer widths: input, hidden..., classes)
SIZES = {
    "xor": (4, (2, 2, 2)),
    "small": (256, (2, 64, 2)),
    "mnist": (256, (784, 512, 512, 10)),
    "large": (512, (2048, 2048, 2048, 10)),
}
DTYPES = ("float64", "float32")
LEARNING_RATE = 0.01
# Each timed repetition runs enough steps back to back to last about this long, so that the clock's
# resolution and the loop's own overhead do not matter for the tiny sizes.
MIN_REPETITION_SECONDS = 0.05
# numpy's OpenBLAS and PyTorch's OpenMP keep their idle threads spinning for a while after work
# (OpenBLAS for about 2^28 cycles, 0.1 s); on 2 cores those spinning threads would steal the cores from
# the next implementation. A pause before each timed block lets them go to sleep. It is not timed.
SETTLE_SECONDS = 0.15

# The targets (ratios in one run, reported and never asserted).
OVERHEAD_SIZES = ("xor", "small")      # lib <= 0.5x PyTorch
MATMUL_SIZES = ("mnist", "large")      # lib <= 1.10x floor and <= 1.0x PyTorch
TARGET_LIB_TORCH_SMALL = 0.5
TARGET_LIB_FLOOR = 1.10
TARGET_LIB_TORCH_LARGE = 1.0
TARGET_MEMORY = 1.2                    # lib's peak extra memory <= 1.2x the floor's, every size


def blas_info() -> Dict[str, object]:
    """The BLAS numpy uses, as threadpoolctl reports it (None values when threadpoolctl is missing).

    scipy ships its own OpenBLAS too; numpy's is the one under numpy's directory, and the one matmul uses.
    """
    unknown = {"internal_api": None, "version": None, "architecture": None, "num_threads": None}
    try:
        import threadpoolctl
    except ImportError:
        return unknown
    pools = [pool for pool in threadpoolctl.threadpool_info() if pool.get("user_api") == "blas"]
    pools.sort(key=lambda pool: "numpy" not in os.path.basename(os.path.dirname(pool.get("filepath", ""))))
    return {key: pools[0].get(key) for key in unknown} if pools else unknown


def import_torch(disabled: bool):
    """Return the torch module, or None when it is disabled or not installed."""
    if disabled:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def initial_weights(widths, dtype: str, seed: int = 0):
    """One (W (out, in), b (out,)) pair per layer, in the given dtype, as PyTorch initialises nn.Linear."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        weights.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype),
                        rng.uniform(-bound, bound, fan_out).astype(dtype)))
    return weights


def make_lib_step(weights, x: np.ndarray, labels: np.ndarray) -> Callable[[], float]:
    """The step as a student writes it with the library: zero_grad, forward, loss, backward, SGD step."""
    modules = []
    for index, (w, b) in enumerate(weights):
        layer = Linear(w.shape[1], w.shape[0], dtype=w.dtype)
        layer.W.data[...] = w
        layer.b.data[...] = b
        modules.append(layer)
        if index < len(weights) - 1:
            modules.append(ReLU())
    model = Sequential(*modules)
    loss_fn = CrossEntropyLoss()
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE)

    def step() -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(x), labels)
        model.backward(loss_fn.backward())
        optimizer.step()
        return loss

    step.first_weight = modules[0].W.data
    return step


def make_floor_step(weights, x: np.ndarray, labels: np.ndarray, accumulate: bool = False) -> Callable[[], float]:
    """The step as plain array code, dL/dx of the network input included.

    With accumulate, the parameter gradients are added into fresh zeros, as the library's zero_grad and
    backward do, instead of being used as the products return them.
    """
    params = [(w.copy(), b.copy()) for w, b in weights]
    rows = np.arange(len(labels))
    n = len(labels)

    def step() -> float:
        inputs = [x]  # the input of every layer
        for w, b in params[:-1]:
            z = inputs[-1] @ w.T
            z += b
            inputs.append(np.maximum(z, 0))
        w, b = params[-1]
        logits = inputs[-1] @ w.T
        logits += b
        # Softmax cross-entropy, shifted by the row maximum for stability.
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        sum_exp = exp.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(sum_exp[:, 0]) - logits[rows, labels]))
        g = exp / sum_exp
        g[rows, labels] -= 1
        g /= n
        grads = []
        for layer in range(len(params) - 1, -1, -1):
            w, b = params[layer]
            dw, db = g.T @ inputs[layer], g.sum(axis=0)
            if accumulate:
                dw_sum, db_sum = np.zeros_like(w), np.zeros_like(b)
                dw_sum += dw
                db_sum += db
                dw, db = dw_sum, db_sum
            grads.append((dw, db))
            g = g @ w
            if layer > 0:
                g *= inputs[layer] > 0  # ReLU: inputs[layer] = max(z, 0) > 0 exactly where z > 0
        for (w, b), (dw, db) in zip(params, reversed(grads)):
            w -= LEARNING_RATE * dw
            b -= LEARNING_RATE * db
        return loss

    step.first_weight = params[0][0]
    return step


def make_torch_step(torch, weights, x: np.ndarray, labels: np.ndarray) -> Callable[[], float]:
    """The same step in PyTorch's idiom (optimizer.zero_grad() sets the gradients to None)."""
    torch_dtype = getattr(torch, x.dtype.name)
    modules = []
    for index, (w, b) in enumerate(weights):
        layer = torch.nn.Linear(w.shape[1], w.shape[0], dtype=torch_dtype)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
        modules.append(layer)
        if index < len(weights) - 1:
            modules.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*modules)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    inputs = torch.from_numpy(x).requires_grad_(True)  # so that loss.backward() computes dL/dx too
    targets = torch.from_numpy(labels)

    def step() -> float:
        optimizer.zero_grad()
        inputs.grad = None
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss  # a 0-d tensor; converting it is left to the caller, outside the timing

    step.first_weight = modules[0].weight
    return step


def check_same_step(steps: Dict[str, Callable], dtype: str) -> None:
    """Take one step with each implementation from the same weights; they must agree."""
    tolerance = 1e-9 if dtype == "float64" else 1e-4
    results = {}
    for name, step in steps.items():
        loss = step()
        loss = float(loss.detach()) if hasattr(loss, "detach") else float(loss)
        first_weight = step.first_weight
        if not isinstance(first_weight, np.ndarray):
            first_weight = first_weight.detach().numpy()
        results[name] = (loss, first_weight.astype(np.float64))
    reference_loss, reference_weight = results["lib"]
    for name, (loss, weight) in results.items():
        if not np.isclose(loss, reference_loss, rtol=tolerance, atol=tolerance) or \
                not np.allclose(weight, reference_weight, rtol=tolerance, atol=tolerance):
            raise RuntimeError("{} and lib disagree after one step in {}: loss {} vs {}, max weight difference {}"
                               .format(name, dtype, loss, reference_loss, np.abs(weight - reference_weight).max()))


def time_interleaved(steps: Dict[str, Callable], repeats: int, settle: float = SETTLE_SECONDS) -> Dict[str, float]:
    """Median seconds per step of each implementation; repetitions interleaved in a rotating order."""
    for step in steps.values():  # warm up: first-touch page faults, thread pools, caches
        step()
    single = {}
    for name, step in steps.items():
        time.sleep(settle)
        start = time.perf_counter()
        step()
        single[name] = time.perf_counter() - start
    inner = max(1, int(MIN_REPETITION_SECONDS / max(single.values())))
    names = list(steps)
    samples = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for repetition in range(repeats):
            shift = repetition % len(names)
            for name in names[shift:] + names[:shift]:
                step = steps[name]
                time.sleep(settle)
                start = time.perf_counter()
                for _ in range(inner):
                    step()
                samples[name].append((time.perf_counter() - start) / inner)
    finally:
        if gc_was_enabled:
            gc.enable()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    medians["inner_steps"] = inner
    return medians


def peak_step_memory(step: Callable) -> int:
    """Peak bytes allocated (as tracemalloc sees them) during one step, counted from the step's start."""
    step()  # not the first step: the lib's gradients and caches already exist, as in a training loop
    gc.collect()
    tracemalloc.start()
    try:
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def targets_for(size: str, row: Dict[str, object]) -> Dict[str, Optional[bool]]:
    """Which of the issue's targets this row meets: True, False, or None (not measured here)."""
    def at_most(value, limit):
        return None if value is None else bool(value <= limit)

    targets = {"memory_lib_floor<=1.2": at_most(row["mem_lib_floor"], TARGET_MEMORY)}
    if size in OVERHEAD_SIZES:
        targets["lib_torch<=0.5"] = at_most(row["lib_torch"], TARGET_LIB_TORCH_SMALL)
    if size in MATMUL_SIZES:
        targets["lib_floor<=1.10"] = at_most(row["lib_floor"], TARGET_LIB_FLOOR)
        targets["lib_torch<=1.0"] = at_most(row["lib_torch"], TARGET_LIB_TORCH_LARGE)
    return targets


def benchmark(size: str, dtype: str, repeats: int, torch, measure_memory: bool = True,
              settle: float = SETTLE_SECONDS, accumulate: bool = False) -> Dict[str, object]:
    n, widths = SIZES[size]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, widths[0])).astype(dtype)
    labels = rng.integers(0, widths[-1], size=n)
    weights = initial_weights(widths, dtype)
    steps = {"lib": make_lib_step(weights, x, labels), "floor": make_floor_step(weights, x, labels)}
    if accumulate:
        steps["floor_acc"] = make_floor_step(weights, x, labels, accumulate=True)
    if torch is not None:
        steps["torch"] = make_torch_step(torch, weights, x, labels)
    check_same_step(steps, dtype)
    times = time_interleaved(steps, repeats, settle)
    row = {"size": size, "dtype": dtype, "batch": n, "layers": "-".join(str(w) for w in widths),
           "lib_s": times["lib"], "torch_s": times.get("torch"), "floor_s": times["floor"],
           "floor_acc_s": times.get("floor_acc")}
    row["lib_torch"] = ratio(row["lib_s"], row["torch_s"])
    row["lib_floor"] = ratio(row["lib_s"], row["floor_s"])
    row["lib_floor_acc"] = ratio(row["lib_s"], row["floor_acc_s"])
    row["lib_peak_bytes"] = peak_step_memory(steps["lib"]) if measure_memory else None
    row["floor_peak_bytes"] = peak_step_memory(steps["floor"]) if measure_memory else None
    row["mem_lib_floor"] = ratio(row["lib_peak_bytes"], row["floor_peak_bytes"])
    row["repeats"] = repeats
    row["inner_steps"] = times["inner_steps"]
    row["targets"] = targets_for(size, row)
    return row


def format_seconds(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return "{:.1f} us".format(seconds * 1e6)
    return "{:.2f} ms".format(seconds * 1e3)


def format_ratio(value: Optional[float]) -> str:
    return "-" if value is None else "{:.2f}x".format(value)


def format_bytes(count: Optional[int]) -> str:
    if count is None:
        return "-"
    if count < 2 ** 20:
        return "{:.1f} KiB".format(count / 2 ** 10)
    return "{:.1f} MiB".format(count / 2 ** 20)


def format_targets(targets: Dict[str, Optional[bool]]) -> str:
    words = []
    for name, met in targets.items():
        words.append("{} {}".format(name, "n/a" if met is None else ("met" if met else "MISSED")))
    return "; ".join(words)


def print_table(rows: List[Dict[str, object]]) -> None:
    header = ["size (N x layers)", "dtype", "lib", "torch", "floor", "lib/torch", "lib/floor", "lib mem",
              "floor mem", "mem ratio"]
    lines = [header]
    for row in rows:
        lines.append(["{} ({} x {})".format(row["size"], row["batch"], row["layers"]), row["dtype"],
                      format_seconds(row["lib_s"]), format_seconds(row["torch_s"]), format_seconds(row["floor_s"]),
                      format_ratio(row["lib_torch"]), format_ratio(row["lib_floor"]),
                      format_bytes(row["lib_peak_bytes"]),
                      format_bytes(row["floor_peak_bytes"]), format_ratio(row["mem_lib_floor"])])
    if any(row["floor_acc_s"] is not None for row in rows):  # --accumulate
        header += ["floor+acc", "lib/floor+acc"]
        for line, row in zip(lines[1:], rows):
            line += [format_seconds(row["floor_acc_s"]), format_ratio(row["lib_floor_acc"])]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    print("| " + " | ".join(cell.ljust(width) for cell, width in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for line in lines[1:]:
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths)) + " |")
    print()
    print("Targets (reported, not asserted):")
    for row in rows:
        print("  {:6s} {:8s} {}".format(row["size"], row["dtype"], format_targets(row["targets"])))


def parse_list(text: str, allowed) -> List[str]:
    values = [value.strip() for value in text.split(",") if value.strip()]
    for value in values:
        if value not in allowed:
            raise argparse.ArgumentTypeError("{!r} is not one of {}".format(value, ", ".join(allowed)))
    return values


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=lambda text: parse_list(text, SIZES), default=list(SIZES),
                        help="comma-separated, from {} (default: all)".format(",".join(SIZES)))
    parser.add_argument("--dtypes", type=lambda text: parse_list(text, DTYPES), default=list(DTYPES),
                        help="comma-separated, from {} (default: both)".format(",".join(DTYPES)))
    parser.add_argument("--repeats", type=int, default=11, help="timed repetitions per implementation (default 11)")
    parser.add_argument("--settle", type=float, default=SETTLE_SECONDS,
                        help="untimed pause in seconds before each timed block (default {})".format(SETTLE_SECONDS))
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out (torch_s is null)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc measurement")
    parser.add_argument("--accumulate", action="store_true",
                        help="also time floor+acc: the floor with the library's zero-then-add (+=) gradients")
    parser.add_argument("--json", action="store_true", help="print a JSON list of rows instead of the table")
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON rows to FILE")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1, got {}".format(args.repeats))
    if args.settle < 0:
        parser.error("--settle must be >= 0, got {}".format(args.settle))
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    torch = import_torch(args.no_torch)
    blas = blas_info()
    if torch is not None and blas["num_threads"]:
        torch.set_num_threads(blas["num_threads"])
    rows = []
    for size in args.sizes:
        for dtype in args.dtypes:
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
            row = benchmark(size, dtype, args.repeats, torch, measure_memory=not args.no_memory,
                            settle=args.settle, accumulate=args.accumulate)
            row["load_avg_1min"] = load
            row["blas"] = "{} {} ({}), {} threads".format(
                blas["internal_api"], blas["version"], blas["architecture"], blas["num_threads"])
            row["torch_version"] = None if torch is None else torch.__version__
            rows.append(row)
            if not args.json:
                print("measured {} {}".format(size, dtype), file=sys.stderr)

    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=1)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print("numpy {}; BLAS: {} {}, kernel {}, {} threads (threadpoolctl)".format(
        np.__version__, blas["internal_api"], blas["version"], blas["architecture"], blas["num_threads"]))
    print("OPENBLAS_CORETYPE={}, OPENBLAS_L2_SIZE={}".format(
        os.environ.get("OPENBLAS_CORETYPE", "(unset)"), os.environ.get("OPENBLAS_L2_SIZE", "(unset)")))
    if torch is None:
        print("PyTorch: not used (missing or --no-torch)")
    else:
        print("PyTorch {} on the CPU, {} threads, MKL {}".format(torch.__version__, torch.get_num_threads(),
                                                                 torch.backends.mkl.is_available()))
    print("Median time per step over {} interleaved repetitions; memory: peak bytes allocated during one step."
          .format(args.repeats))
    if load_before is not None:
        # Other processes on the machine slow every implementation, the multi-threaded BLAS calls most.
        print("Load average (1 min) before the run: {:.2f} on {} CPUs".format(load_before, os.cpu_count()))
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
