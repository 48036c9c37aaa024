"""The value checks: each code task's gap run on inputs drawn from a random generator, its outputs returned by name.

The contract of a value check (grading/tasks.py registers each one with @value_check(key)):

- check(rng) -> {output name: value}. A value is a numpy array, a numpy scalar, a bool, an int, a float, a string
  or a list of those; grading/values.py encodes it with its exact class, dtype and shape.
- It is deterministic given rng: every input is drawn from rng, in an order that nothing the gap does can change
  (a gap that is handed a generator of its own gets one seeded from rng before any gap code runs).
- It runs only its own gap and the gaps of its task's `needs` (grading/tasks.py); every other module it uses is
  given code of lib/ or a stand-in of grading/stand_ins.py, the same stand-ins the tests use.
- It returns everything a graded test checks of the gap: the results, a second call after one forward pass, the
  arguments and caches left as they were, dtypes (float32 in, float32 out), shapes including a batch of one and
  an empty batch where the given code supports them, and for the few gaps that are handed a generator or pass a
  tolerance on, what they do with them. What the gap's comment leaves open (how a result is computed, in which
  order the sums run, whether an update is in place) is never an output, and results are compared within a
  tolerance per dtype, so that any honest solution compares equal to the reference.
- Output names are feedback that a student may read: plain words, in the order a student should fix things.
  Nothing here is a solution: the checks ship with the handout; the secrets are the grader's seed and the
  reference's outputs.

The grader runs the checks in the sandbox on the student's tree (grading/value_checks.py, with
rng = np.random.default_rng([seed, task number]) and a seed drawn anew for every grading run), runs the same
checks on the reference solution in its own process, and compares every output with grading/values.compare. A
task earns its points only if its tests pass and its outputs equal the reference's.
"""
from typing import Dict, List

import numpy as np

from grading.stand_ins import Affine, FixedGradientLoss, MatMul, NoBackward, Square, carries_the_gradient_check
from grading.tasks import value_check


def frozen(value):
    """A copy of an array as it is now (later calls may change the original); anything else as it is."""
    return value.copy() if isinstance(value, np.ndarray) else value


def scaled_normal(rng, size, low: float = -3.0, high: float = 3.0) -> np.ndarray:
    """Normal numbers whose magnitudes spread over 10**low to 10**high, signs mixed."""
    return rng.normal(size=size) * 10.0 ** rng.uniform(low, high, size=size)


# ---------------------------------------------------------------- task 1: zero_grad

@value_check("zero_grad")
def zero_grad_check(rng) -> Dict[str, object]:
    from lib.gradient_utilities import zero_grad
    from lib.network_base import Parameter

    not_finite = rng.normal(size=(2, 4))
    not_finite[0, 1], not_finite[1, 2], not_finite[1, 3] = np.nan, np.inf, -np.inf
    other_not_finite = rng.normal(size=5)
    other_not_finite[[0, 3]] = np.nan, -np.inf
    cases = [
        ("parameter 1 (float64, shape (3, 4))", rng.normal(size=(3, 4)), rng.normal(size=(3, 4))),
        ("parameter 1b (its grad is zero already)", rng.normal(size=(2, 2)), np.zeros((2, 2))),
        ("parameter 2 (float64, shape (3, 4), like parameter 1)", rng.normal(size=(3, 4)), rng.normal(size=(3, 4))),
        ("parameter 3 (float32, its old grad float64)", rng.normal(size=(2, 5)).astype(np.float32),
         rng.normal(size=(2, 5))),
        ("parameter 4 (its grad was None)", rng.normal(size=4), None),
        ("parameter 5 (float32, shape (2, 1, 3), its grad was None)", rng.normal(size=(2, 1, 3)).astype(np.float32),
         None),
        ("parameter 6 (its old grad had another shape)", rng.normal(size=(2, 3)), rng.normal(size=3)),
        ("parameter 7 (its old grad holds NaN and inf)", rng.normal(size=5), other_not_finite),
        ("parameter 8 (its data holds NaN and inf)", not_finite, rng.normal(size=(2, 4))),
        ("parameter 9 (no entries, shape (0, 3))", np.zeros((0, 3)), np.zeros((0, 3))),
    ]
    # Named as a network's parameters are, W and b over and over.
    params = [Parameter(data, grad, "Wb"[index % 2]) for index, (_, data, grad) in enumerate(cases)]
    added = [rng.normal(size=param.data.shape).astype(param.data.dtype) for param in params]
    data = [param.data for param in params]
    for param in params:
        param.state_dict["momentum_buffer"] = rng.normal(size=param.data.shape)
        param.note = "kept"  # what other code keeps on a parameter
    velocities = [param.state_dict["momentum_buffer"].copy() for param in params]

    zero_grad(param for param in params)  # any iterable of parameters, here a generator: it can be read once

    out = {}
    # zero_grad changes nothing but .grad.
    for (label, _, _), param, before, velocity in zip(cases, params, data, velocities):
        out[label + ": .data is the same array"] = param.data is before
        out[label + ": .name"] = param.name
        out[label + ": .note (an attribute of other code)"] = getattr(param, "note", None)
        buffer = param.state_dict.get("momentum_buffer") if isinstance(param.state_dict, dict) else None
        out[label + ": .state_dict['momentum_buffer'] (unchanged)"] = frozen(buffer)
    given = [Parameter(np.ones(2), np.ones(2), "W"), Parameter(np.ones(3), np.ones(3), "b")]
    listed = list(given)
    zero_grad(listed)
    out["a list of parameters given to zero_grad holds the same parameters after it"] = len(listed) == 2 and all(
        got is param for got, param in zip(listed, given))
    for param in given:
        out["a list of parameters given to zero_grad: {}.grad".format(param.name)] = frozen(param.grad)
    for (label, _, _), param in zip(cases, params):
        out[label + ": .grad"] = frozen(param.grad)
    for (label, _, _), param in zip(cases, params):
        out[label + ": .data (unchanged)"] = frozen(param.data)
    # A backward pass adds into .grad: the zeros must be an array of each parameter's own, apart from its .data.
    for param, extra in zip(params, added):
        if isinstance(param.grad, np.ndarray) and param.grad.shape == extra.shape and \
                param.grad.dtype == extra.dtype and param.grad.flags.writeable:
            param.grad += extra
    for (label, _, _), param in zip(cases, params):
        out[label + ": .grad after a backward pass added into it"] = frozen(param.grad)
        out[label + ": .data after a backward pass added into .grad"] = frozen(param.data)
    return out


# ---------------------------------------------------------------- task 2: ReLU.backward

def relu_cases(rng) -> List[tuple]:
    """(label, z, grad) of the ReLU check: many shapes, the kink, tiny positive inputs, views, float32."""
    def with_kinks(z):
        z.flat[::5] = 0.0  # the kink: dh/dz = 0 there
        return z

    tiny = np.array([1e-9, -1e-9, 5e-324, -5e-324, 1e-300, 2.5e-308, 0.0, -0.0, 1e-12, 3.0])
    tiny_float32 = np.array([1e-9, -1e-9, 1e-40, -1e-40, 1e-30, 0.0, 2.0, -2.0], dtype=np.float32)
    wide = rng.normal(size=(6, 9))
    return [
        ("z of shape (7,)", with_kinks(rng.normal(size=7)), rng.normal(size=7)),
        ("z of shape (5, 6)", with_kinks(rng.normal(size=(5, 6))), rng.normal(size=(5, 6))),
        ("z of shape (3, 4, 2)", with_kinks(rng.normal(size=(3, 4, 2))), rng.normal(size=(3, 4, 2))),
        ("z of shape (1, 2, 2, 3)", with_kinks(rng.normal(size=(1, 2, 2, 3))), rng.normal(size=(1, 2, 2, 3))),
        ("a batch of one, z of shape (1, 5)", rng.normal(size=(1, 5)), rng.normal(size=(1, 5))),
        ("an empty batch, z of shape (0, 4)", np.zeros((0, 4)), np.zeros((0, 4))),
        ("tiny positive and negative z (1e-9, 5e-324, ...)", tiny, rng.normal(size=tiny.size)),
        ("large z and large gradients", scaled_normal(rng, (4, 5), 0.0, 6.0), scaled_normal(rng, (4, 5), 0.0, 4.0)),
        ("z and grad that are views with strides (not contiguous)", wide[::2, 1::3],
         rng.normal(size=(9, 6)).T[1::2, ::3]),
        ("z and grad of shape (4, 3), transposed views", rng.normal(size=(3, 4)).T, rng.normal(size=(3, 4)).T),
        ("float32 z and grad", with_kinks(rng.normal(size=(4, 3)).astype(np.float32)),
         rng.normal(size=(4, 3)).astype(np.float32)),
        ("tiny float32 z (1e-9, 1e-40, ...)", tiny_float32, rng.normal(size=tiny_float32.size).astype(np.float32)),
    ]


@value_check("relu_backward")
def relu_backward_check(rng) -> Dict[str, object]:
    from lib.activations import ReLU

    cases = relu_cases(rng)
    second_z, second_grad = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    out = {}
    for label, z, grad in cases:
        relu = ReLU()
        relu(z)
        grad_before = grad.copy()
        out["{}: dL/dz".format(label)] = frozen(relu.backward(grad))
        out["{}: the incoming grad after backward (unchanged)".format(label)] = frozen(grad)
        out["{}: the forward output h cached in input_cache after backward (unchanged)".format(label)] = \
            frozen(relu.input_cache)
        out["{}: dL/dz of a second backward call after the same forward".format(label)] = frozen(
            relu.backward(grad_before.copy()))
    # One module, two forward passes: the second backward must use the second forward's output.
    relu = ReLU()
    first_z, first_grad = cases[1][1], cases[1][2]
    relu(first_z)
    first = relu.backward(first_grad.copy())
    first_values = frozen(first)
    relu(second_z)
    out["z of shape (5, 6), a second forward with other z: dL/dz"] = frozen(relu.backward(second_grad))
    # The caller keeps the first result: a later call must not change it (an array kept on self and reused).
    out["z of shape (5, 6): the first call's dL/dz after a second call"] = frozen(first)
    out["z of shape (5, 6): the first call's dL/dz as it was returned"] = first_values
    return out


# ---------------------------------------------------------------- task 3: Linear.backward

LINEAR_CASES = (
    # label, N, D, M, bias, dtype
    ("with bias, N = 6, D = 4, M = 3", 6, 4, 3, True, np.float64),
    ("without bias (b is None), N = 5, D = 2, M = 4", 5, 2, 4, False, np.float64),
    ("a batch of one, N = 1, D = 4, M = 3", 1, 4, 3, True, np.float64),
    ("one output, N = 4, D = 3, M = 1", 4, 3, 1, True, np.float64),
    ("one input feature, N = 3, D = 1, M = 2", 3, 1, 2, True, np.float64),
    ("one sample, one feature, one output, N = D = M = 1", 1, 1, 1, True, np.float64),
    ("an empty batch, N = 0, D = 3, M = 2", 0, 3, 2, True, np.float64),
    ("large gradients, N = 5, D = 3, M = 4", 5, 3, 4, True, np.float64),
    ("float32, N = 3, D = 5, M = 2", 3, 5, 2, True, np.float32),
    ("float32 without bias, N = 4, D = 2, M = 3", 4, 2, 3, False, np.float32),
)


@value_check("linear_backward")
def linear_backward_check(rng) -> Dict[str, object]:
    from lib.network import Linear

    out = {}
    for label, n, d, m, bias, dtype in LINEAR_CASES:
        layer = Linear(d, m, bias=bias, dtype=dtype, rng=rng)
        # Gradients from an earlier backward pass: backward() adds into them.
        layer.W.grad = rng.normal(size=(m, d)).astype(dtype)
        if bias:
            layer.b.grad = rng.normal(size=m).astype(dtype)
        x = rng.normal(size=(n, d)).astype(dtype)
        grad = (scaled_normal(rng, (n, m)) if label.startswith("large") else rng.normal(size=(n, m))).astype(dtype)
        grad_before = grad.copy()
        layer(x)
        grad_x = layer.backward(grad)
        out[label + ": W.grad (it held a gradient before)"] = frozen(layer.W.grad)
        if bias:
            out[label + ": b.grad (it held a gradient before)"] = frozen(layer.b.grad)
        out[label + ": the returned dL/dx"] = frozen(grad_x)
        out[label + ": the incoming grad after backward (unchanged)"] = frozen(grad)
        out[label + ": input_cache after backward (unchanged)"] = frozen(layer.input_cache)
        out[label + ": W.data after backward (unchanged)"] = frozen(layer.W.data)
        out[label + ": b is still None" if not bias else label + ": b.data after backward (unchanged)"] = \
            layer.b is None if not bias else frozen(layer.b.data)
        # A second backward call after the same forward: the same dL/dx, and the gradients add up.
        out[label + ": dL/dx of a second backward call"] = frozen(layer.backward(grad_before.copy()))
        out[label + ": W.grad after two backward calls"] = frozen(layer.W.grad)
        if bias:
            out[label + ": b.grad after two backward calls"] = frozen(layer.b.grad)
    return out


# ---------------------------------------------------------------- task 4: CrossEntropyLoss.backward

CROSS_ENTROPY_CASES = (
    # label, N, C, targets, dtype
    ("integer labels, N = 7, C = 3", 7, 3, "labels", np.float64),
    ("one-hot targets, N = 5, C = 4", 5, 4, "one-hot", np.float64),
    ("a batch of one, N = 1, C = 3", 1, 3, "labels", np.float64),
    ("a batch of one with one-hot targets, N = 1, C = 2", 1, 2, "one-hot", np.float64),
    ("as many samples as classes, N = C = 4", 4, 4, "labels", np.float64),
    ("logits of +-1000, N = 3, C = 2", 3, 2, "extreme", np.float64),
    ("float32 logits, N = 4, C = 5", 4, 5, "labels", np.float32),
    ("float32 logits and float64 one-hot targets, N = 3, C = 3", 3, 3, "one-hot", np.float32),
)


@value_check("cross_entropy_backward")
def cross_entropy_backward_check(rng) -> Dict[str, object]:
    from lib.losses import CrossEntropyLoss
    from lib.utilities import one_hot_encoding

    out = {}
    for label, n, c, kind, dtype in CROSS_ENTROPY_CASES:
        logits = rng.normal(scale=2.0, size=(n, c))
        if kind == "extreme":
            logits = 1000.0 * np.sign(logits)
        logits = logits.astype(dtype)
        labels = rng.integers(0, c, size=n)
        targets = labels if kind != "one-hot" else one_hot_encoding(labels, c)
        loss_fn = CrossEntropyLoss()
        loss_fn(logits, targets)
        got = loss_fn.backward()
        out[label + ": dL/dz"] = frozen(got)
        out[label + ": dL/dz of a second backward call after the same forward"] = frozen(loss_fn.backward())
        out[label + ": the probabilities cached by forward, after backward (unchanged)"] = frozen(
            loss_fn.input_cache[0])
        out[label + ": the targets cached by forward, after backward (unchanged)"] = frozen(loss_fn.input_cache[1])
    # One loss, two forward passes: the second backward must use the second forward's cache.
    loss_fn = CrossEntropyLoss()
    loss_fn(rng.normal(size=(5, 3)), rng.integers(0, 3, size=5))
    loss_fn.backward()
    loss_fn(rng.normal(size=(6, 4)), rng.integers(0, 4, size=6))
    out["a second forward with other logits, N = 6, C = 4: dL/dz"] = frozen(loss_fn.backward())
    return out


# ---------------------------------------------------------------- task 5: Sequential.backward

@value_check("sequential_backward")
def sequential_backward_check(rng) -> Dict[str, object]:
    from lib.activations import Sigmoid
    from lib.network import Sequential

    out = {}
    calls = []
    inner = Sequential(MatMul(rng.normal(size=(3, 3)), "inner MatMul", calls), Sigmoid())
    modules = [Affine(rng.normal(size=4), rng.normal(size=4), "first Affine", calls),
               MatMul(rng.normal(size=(4, 3)), "MatMul", calls), Square(), inner,
               Affine(rng.normal(size=3), rng.normal(size=3), "last Affine", calls)]
    model = Sequential(*modules)
    x, grad = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    grad_before = grad.copy()
    output = model(x)
    got = model.backward(grad)
    out["a chain of 5 modules, one a Sequential: the returned dL/dx"] = frozen(got)
    for index, param in enumerate(model.parameters()):
        out["a chain of 5 modules: parameter {} ({}) .grad".format(index, param.name)] = frozen(param.grad)
    out["a chain of 5 modules: the order of the backward calls"] = list(calls)
    out["a chain of 5 modules: model.modules after backward"] = [repr(module) for module in model.modules]
    out["a chain of 5 modules: model.modules holds the same modules after backward"] = \
        len(model.modules) == len(modules) and all(a is b for a, b in zip(model.modules, modules))
    out["a chain of 5 modules: the incoming grad after backward (unchanged)"] = frozen(grad)
    out["a chain of 5 modules: dL/dx of a second backward call after the same forward"] = frozen(
        model.backward(grad_before.copy()))
    for index, param in enumerate(model.parameters()):
        out["a chain of 5 modules: parameter {} ({}) .grad after two backward calls".format(index, param.name)] = \
            frozen(param.grad)
    out["a chain of 5 modules: a forward after backward gives the same output"] = frozen(model(x))
    del output

    for label, n in (("a batch of one", 1), ("an empty batch, N = 0", 0)):
        chain = Sequential(MatMul(rng.normal(size=(3, 2))), Square(), Affine(rng.normal(size=2), rng.normal(size=2)))
        chain(rng.normal(size=(n, 3)))
        out["{}: the returned dL/dx".format(label)] = frozen(chain.backward(rng.normal(size=(n, 2))))
        for index, param in enumerate(chain.parameters()):
            out["{}: parameter {} ({}) .grad".format(label, index, param.name)] = frozen(param.grad)

    # A float32 chain: the gradient stays float32 all the way through.
    chain = Sequential(MatMul(rng.normal(size=(3, 2)), dtype=np.float32), Square(),
                       Affine(rng.normal(size=2), rng.normal(size=2), dtype=np.float32))
    chain(rng.normal(size=(4, 3)).astype(np.float32))
    out["a float32 chain: the returned dL/dx"] = frozen(chain.backward(rng.normal(size=(4, 2)).astype(np.float32)))
    for index, param in enumerate(chain.parameters()):
        out["a float32 chain: parameter {} ({}) .grad".format(index, param.name)] = frozen(param.grad)

    single = Affine(rng.normal(size=3), rng.normal(size=3))
    chain = Sequential(single)
    chain(rng.normal(size=(4, 3)))
    out["a Sequential of one module: the returned dL/dx"] = frozen(chain.backward(rng.normal(size=(4, 3))))
    out["a Sequential of one module: s.grad"] = frozen(single.s.grad)
    empty_grad = rng.normal(size=(2, 3))
    out["a Sequential of no modules: the returned dL/dx"] = frozen(Sequential().backward(empty_grad.copy()))

    # A module without a backward pass: its NotImplementedError reaches the caller, and no module before it runs.
    calls = []
    chain = Sequential(Affine(rng.normal(size=3), rng.normal(size=3), "first Affine", calls), NoBackward(),
                       Affine(rng.normal(size=3), rng.normal(size=3), "last Affine", calls))
    chain(rng.normal(size=(2, 3)))
    try:
        chain.backward(rng.normal(size=(2, 3)))
        raised = "nothing was raised"
    except NotImplementedError as error:
        if "has no backward()" not in str(error):
            raise  # a gap that is not filled yet: the check fails with its message
        raised = "NotImplementedError"
    out["a chain with a module without backward(): what backward raised"] = raised
    out["a chain with a module without backward(): the backward calls"] = list(calls)
    return out


# ---------------------------------------------------------------- task 6: check_gradients

@value_check("check_gradients")
def check_gradients_check(rng) -> Dict[str, object]:
    from lib.activations import Sigmoid
    from lib.gradient_utilities import check_gradients
    from lib.network_base import GRADIENT_CHECK_TOLERANCE, Module

    # The generators the gap is handed: seeded from rng before any gap code runs.
    seeds = [int(seed) for seed in rng.integers(2 ** 62, size=2)]

    # 1. What the gap hands Module.check_gradients: recorded, not run (any tolerance at or below the default is
    #    right, but a tighter one than finite differences can meet fails on correct gradients).
    calls = []
    real_check = Module.check_gradients

    def record(module, input_args, *args, **kwargs):
        calls.append((module, input_args, args, kwargs))

    record.__qualname__ = real_check.__qualname__
    Module.check_gradients = record
    try:
        model = check_gradients(np.random.default_rng(seeds[0]))
        default_model = check_gradients()
    finally:
        Module.check_gradients = real_check
    out = {"the returned network: its modules": [repr(module) for module in getattr(model, "modules", [])],
           "the returned network is a Sequential": type(model).__name__ == "Sequential"}
    parameters = model.parameters() if hasattr(model, "parameters") else []
    for index, param in enumerate(parameters):
        out["the returned network: parameter {} ({}) .data".format(index, param.name)] = frozen(param.data)
    out["check_gradients() without an rng: its network's modules"] = [
        repr(module) for module in getattr(default_model, "modules", [])]
    out["calls of model.check_gradients for two check_gradients calls"] = len(calls)
    first = calls[0] if calls else (None, None, (), {})
    module, input_args, args, kwargs = first
    out["model.check_gradients was called on the returned network"] = module is model
    out["model.check_gradients was given a tuple of one input"] = isinstance(input_args, tuple) and \
        len(input_args) == 1
    out["the input x handed to model.check_gradients"] = frozen(input_args[0]) if isinstance(
        input_args, tuple) and input_args else frozen(input_args)
    tolerance = kwargs.get("tolerance", args[0] if args else GRADIENT_CHECK_TOLERANCE)
    out["model.check_gradients was run at the default tolerance or a tighter one"] = bool(
        len(args) + len(kwargs) <= 1 and set(kwargs) <= {"tolerance"} and
        isinstance(tolerance, (int, float, np.integer, np.floating)) and 0 < tolerance <= GRADIENT_CHECK_TOLERANCE)

    # 2. The check run for real on a network whose Sigmoid has a wrong backward pass: it must raise.
    right = Sigmoid.backward

    def backward(self, grad):
        return grad * self.input_cache  # without the factor (1 - h)

    backward.__qualname__ = right.__qualname__
    Sigmoid.backward = backward
    try:
        check_gradients(np.random.default_rng(seeds[1]))
        caught = "nothing was raised"
    except NotImplementedError:
        raise  # a gap that is not filled yet: the check fails with its message
    except Exception as error:  # what was raised is the output
        ours = carries_the_gradient_check(error)
        caught = type(error).__name__ + ("" if ours else " (not the gradient check's)")
    finally:
        Sigmoid.backward = right
    out["check_gradients with a wrong Sigmoid gradient raises"] = caught
    return out


# ---------------------------------------------------------------- task 7: backward_pass

def reset(model) -> None:
    """Gradients to zero before a step, as the training loop does (zero_grad is another task's gap, not used here:
    the stand-in's data are finite, so 0 * data is zeros of their shape and dtype)."""
    for param in model.parameters():
        param.grad = 0 * param.data


@value_check("backward_pass")
def backward_pass_check(rng) -> Dict[str, object]:
    from lib.experiments import backward_pass
    from lib.losses import MSELoss

    out = {}
    # Several steps on the same parameters: whatever a step keeps for the next one (momentum, a step count, a
    # decaying learning rate) shows from the second step on.
    runs = (("float64, MSELoss", np.float64, 4, float(rng.uniform(0.05, 0.6))),
            ("float32, MSELoss", np.float32, 3, float(rng.uniform(0.05, 0.6))))
    for label, dtype, steps, lr in runs:
        model = Affine(rng.normal(size=5), rng.normal(size=5), dtype=dtype)
        x = rng.normal(scale=2.0, size=(6, 5)).astype(dtype)
        target = rng.normal(scale=3.0, size=(6, 5)).astype(dtype)
        loss_fn = MSELoss()
        for step in range(1, steps + 1):
            reset(model)
            loss_fn(model(x), target)
            backward_pass(model, loss_fn, lr)
            for param in model.parameters():
                where = "{}, lr = {:.4f}, after step {}: {}".format(label, lr, step, param.name)
                out[where + ".grad"] = frozen(param.grad)
                out[where + ".data"] = frozen(param.data)

    # Large and small gradients from a stand-in loss: a step that is clipped or scaled shows here.
    lr = float(rng.uniform(0.1, 2.0))
    model = Affine(rng.normal(size=4), rng.normal(size=4))
    x = rng.normal(size=(3, 4))
    loss_fn = FixedGradientLoss(scaled_normal(rng, (3, 4), -2.0, 4.0))
    for step in range(1, 4):
        reset(model)
        model(x)
        backward_pass(model, loss_fn, lr)
        for param in model.parameters():
            where = "gradients from 0.01 to 10000, lr = {:.4f}, after step {}: {}".format(lr, step, param.name)
            out[where + ".grad"] = frozen(param.grad)
            out[where + ".data"] = frozen(param.data)
    out["gradients from 0.01 to 10000: calls of loss_fn.backward() in 3 steps"] = loss_fn.backward_calls
    return out
