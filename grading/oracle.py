"""The grader's second verdict: each gap run on fresh random inputs, its raw outputs compared outside the process.

The tests give the feedback, but they run in the same process as the student's code, so the outcome they report
is only as trustworthy as that process. For the grade of record, tools/grade.py also runs this module in the
sandbox, with a seed it draws anew for every grading run:

    python -c "import sys; sys.path.insert(0, '.'); from grading import oracle; oracle.main()" --seed S \
        --fd N [--tasks KEY,...]

It runs every gap on inputs made from that seed and writes what came back, as plain numbers, to the file
descriptor N, one JSON line as each case starts and ends. The grader runs the same on the reference solution, in
its own process, and compares: a task earns its points only if its tests pass and its outputs here equal the
reference's. Code that forges the tests' outcomes
gains nothing here: to write the right numbers for inputs it has never seen, it has to compute them.

Each case needs only its own gap (check_gradients, like its tests, also needs gaps 3 and 5); stand-in modules
are defined here.
"""
import argparse
import json
import os
import signal
import sys

import numpy as np

# Honest solutions differ in the order of their sums (matmul, einsum, a loop): a few units in the last place.
TOLERANCE = {"float64": {"rtol": 1e-7, "atol": 1e-10}, "float32": {"rtol": 1e-4, "atol": 1e-6}}


class Scale:
    """A stand-in module with parameters: out = x * s + t; dL/ds = sum_n grad_n x_n, dL/dt = sum_n grad_n."""

    def __init__(self, rng, width):
        from lib.network_base import Module, Parameter

        class Affine(Module):
            def __init__(self):
                super().__init__()
                self.s = Parameter(rng.normal(size=width), np.zeros(width), "s")
                self.t = Parameter(rng.normal(size=width), np.zeros(width), "t")

            def forward(self, x):
                self.input_cache = x
                return x * self.s.data + self.t.data

            def backward(self, grad):
                self.s.grad += np.sum(grad * self.input_cache, axis=0)
                self.t.grad += np.sum(grad, axis=0)
                return grad * self.s.data

            def parameters(self):
                return [self.s, self.t]

        self.module = Affine()


def matmul_module(matrix):
    from lib.network_base import Module

    class MatMul(Module):
        def forward(self, x):
            return x @ matrix

        def backward(self, grad):
            return grad @ matrix.T

    return MatMul()


# ---------------------------------------------------------------- one case per task

def zero_grad_case(rng):
    from lib.gradient_utilities import zero_grad
    from lib.network_base import Parameter
    params = [Parameter(rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), "a"),
              Parameter(rng.normal(size=5).astype(np.float32), rng.normal(size=5).astype(np.float32), "b"),
              Parameter(rng.normal(size=(2, 1, 3)), None, "c")]
    zero_grad(iter(params))
    out = {}
    for param in params:
        out[param.name + ".grad"] = param.grad
        out[param.name + ".data"] = param.data
    return out


def relu_backward_case(rng):
    from lib.activations import ReLU
    out = {}
    for shape in ((7,), (5, 6), (3, 4, 2)):
        z = rng.normal(size=shape)
        z.flat[::5] = 0.0  # the kink
        grad = rng.normal(size=shape)
        relu = ReLU()
        relu(z)
        out["backward {}".format(shape)] = relu.backward(grad.copy())
    relu = ReLU()
    relu(rng.normal(size=(4, 3)).astype(np.float32))
    out["backward float32"] = relu.backward(rng.normal(size=(4, 3)).astype(np.float32))
    return out


def linear_backward_case(rng):
    from lib.network import Linear
    out = {}
    for name, (n, d, m), bias, dtype in (("with bias", (6, 4, 3), True, np.float64),
                                         ("without bias", (5, 2, 4), False, np.float64),
                                         ("float32", (3, 5, 2), True, np.float32)):
        layer = Linear(d, m, bias=bias, dtype=dtype, rng=rng)
        x, grad = rng.normal(size=(n, d)).astype(dtype), rng.normal(size=(n, m)).astype(dtype)
        layer(x.copy())
        out[name + ": dL/dx"] = layer.backward(grad.copy())
        out[name + ": W.grad"] = layer.W.grad.copy()
        if bias:
            out[name + ": b.grad"] = layer.b.grad.copy()
        layer(x.copy())
        layer.backward(grad.copy())
        out[name + ": W.grad after two"] = layer.W.grad.copy()
    return out


def cross_entropy_backward_case(rng):
    from lib.losses import CrossEntropyLoss
    out = {}
    for name, (n, c), dtype in (("labels", (7, 3), np.float64), ("float32", (4, 5), np.float32)):
        loss_fn = CrossEntropyLoss()
        loss_fn(rng.normal(scale=2.0, size=(n, c)).astype(dtype), rng.integers(0, c, size=n))
        out[name] = loss_fn.backward()
        out[name + ", again"] = loss_fn.backward()
    return out


def sequential_backward_case(rng):
    from lib.activations import Tanh
    from lib.network import Sequential
    first, second = Scale(rng, 4).module, Scale(rng, 3).module
    model = Sequential(first, matmul_module(rng.normal(size=(4, 3))), Tanh(), second)
    modules = list(model.modules)
    model(rng.normal(size=(5, 4)))
    out = {"dL/dx": model.backward(rng.normal(size=(5, 3)))}
    for index, param in enumerate(model.parameters()):
        out["parameter {} .grad".format(index)] = param.grad
    out["modules unchanged"] = [a is b for a, b in zip(modules, model.modules)] + [len(modules) == len(model.modules)]
    return out


def check_gradients_case(rng):
    from lib.activations import Sigmoid
    from lib.gradient_utilities import check_gradients
    seed = int(rng.integers(2 ** 31))
    model = check_gradients(np.random.default_rng(seed))
    out = {"parameter {}".format(index): param.data for index, param in enumerate(model.parameters())}
    right = Sigmoid.backward

    def backward(self, grad):
        return grad * self.input_cache  # without the factor (1 - h): a wrong gradient the check must catch

    backward.__qualname__ = right.__qualname__
    Sigmoid.backward = backward
    try:
        check_gradients(np.random.default_rng(seed))
        out["catches a wrong gradient"] = False
    except RuntimeError:
        out["catches a wrong gradient"] = True
    finally:
        Sigmoid.backward = right
    return out


def backward_pass_case(rng):
    from lib.experiments import backward_pass
    from lib.losses import MSELoss
    model = Scale(rng, 5).module
    x, target = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    loss_fn = MSELoss()
    loss_fn(model(x), target)
    backward_pass(model, loss_fn, float(rng.uniform(0.05, 1.5)))
    return {name: value for param in model.parameters() for name, value in
            ((param.name + ".data", param.data), (param.name + ".grad", param.grad))}


CASES = {"zero_grad": zero_grad_case, "relu_backward": relu_backward_case, "linear_backward": linear_backward_case,
         "cross_entropy_backward": cross_entropy_backward_case, "sequential_backward": sequential_backward_case,
         "check_gradients": check_gradients_case, "backward_pass": backward_pass_case}


# ---------------------------------------------------------------- running and comparing

def encode(value):
    """A value as plain JSON: arrays with their exact type, dtype and shape."""
    if type(value) is np.ndarray:
        return {"dtype": str(value.dtype), "shape": list(value.shape),
                "values": np.asarray(value, dtype=np.float64).ravel().tolist()
                if value.dtype.kind in "biuf" else [repr(item) for item in value.ravel().tolist()]}
    if isinstance(value, (bool, list)):
        return {"plain": value if isinstance(value, bool) else [bool(item) for item in value]}
    return {"type": type(value).__name__}


class CaseTimeout(BaseException):
    """Raised by the alarm when a case takes too long (a BaseException: `except Exception` in a gap lets it by)."""


def run(seed: int, keys=None, write=None, seconds: int = 0) -> dict:
    """{task key: {"outputs": {name: encoded}} or {"error": text}} for the cases `keys` (all by default), each on
    its own random stream. With `write`, a line is written as each case starts and ends, so that the grader can
    tell which case a hang or crash happened in and run the rest again; `seconds` limits each case (Unix)."""
    results = {}
    keys = sorted(CASES) if keys is None else keys
    for key in keys:
        index = sorted(CASES).index(key)
        rng = np.random.default_rng([seed, index])
        if write:
            write({"start": key})
        try:
            if seconds and hasattr(signal, "SIGALRM"):
                signal.alarm(seconds)
            results[key] = {"outputs": {name: encode(value) for name, value in CASES[key](rng).items()}}
        except CaseTimeout:
            results[key] = {"error": "it took longer than {} s".format(seconds)}
        except Exception as error:  # a gap that raises loses its task here too
            results[key] = {"error": "{}: {}".format(type(error).__name__, str(error)[:200])}
        finally:
            if seconds and hasattr(signal, "SIGALRM"):
                signal.alarm(0)
        if write:
            write({"result": key, "value": results[key]})
    return results


def same(expected: dict, got: dict) -> bool:
    if set(expected) != set(got):
        return False
    if "values" in expected:
        return (expected["dtype"] == got["dtype"] and expected["shape"] == got["shape"] and
                isinstance(got.get("values"), list) and len(got["values"]) == len(expected["values"]) and
                bool(np.allclose(np.asarray(got["values"], dtype=np.float64),
                                 np.asarray(expected["values"], dtype=np.float64), equal_nan=True,
                                 **TOLERANCE.get(expected["dtype"], TOLERANCE["float64"]))))
    return expected == got


def compare(expected: dict, got: dict) -> dict:
    """{task key: None if the outputs agree, else one line that says which output differs}."""
    verdicts = {}
    for key, reference in expected.items():
        result = got.get(key) if isinstance(got, dict) else None
        if not isinstance(result, dict) or "outputs" not in result or not isinstance(result["outputs"], dict):
            verdicts[key] = "it raised or gave no result on the grader's random inputs"
            continue
        wrong = [name for name, value in reference["outputs"].items()
                 if not isinstance(result["outputs"].get(name), dict) or not same(value, result["outputs"][name])]
        extra = set(result["outputs"]) - set(reference["outputs"])
        verdicts[key] = ("its output '{}' on the grader's random inputs differs from the reference solution's"
                         .format(wrong[0]) if wrong else ("unexpected outputs" if extra else None))
    return verdicts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--fd", type=int, required=True, help="the open file descriptor to write JSON lines to")
    parser.add_argument("--tasks", help="comma-separated task keys (default: all)")
    parser.add_argument("--seconds", type=int, default=10, help="time limit of one case (default: %(default)s)")
    args = parser.parse_args(argv)

    def write(event):
        data = (json.dumps(event) + "\n").encode("utf-8")
        while data:
            data = data[os.write(args.fd, data):]

    def alarm(signum, frame):
        raise CaseTimeout()

    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, alarm)
    run(args.seed, args.tasks.split(",") if args.tasks else None, write, args.seconds)
    return 0


def read_lines(text: str) -> tuple:
    """({task key: result} of the finished cases, the case that started last without a result, or None)."""
    results, running = {}, None
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if isinstance(event.get("start"), str):
            running = event["start"]
        elif isinstance(event.get("result"), str):
            results[event["result"]] = event.get("value")
            if running == event["result"]:
                running = None
    return results, running


if __name__ == "__main__":
    sys.exit(main())
