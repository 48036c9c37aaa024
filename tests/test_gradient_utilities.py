"""Tests of lib/gradient_utilities.py. Graded: zero_grad (task 1) and check_gradients (task 6)."""
import sys

import numpy as np
import pytest

from lib.activations import Sigmoid
from lib.gradient_utilities import check_gradients, zero_grad
from lib.network import Linear, Sequential
from lib.network_base import GRADIENT_CHECK_TOLERANCE, Module, Parameter
from grading.stand_ins import Affine, carries_the_gradient_check
from tests.helpers import check_array, fail, numerical_gradient, plain, shape_of


# ---------------------------------------------------------------- zero_grad (task 1)

@pytest.mark.zero_grad
def test_zero_grad_small_numbers():
    weights = Parameter(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0], [7.0, 8.0]]), "W")
    bias = Parameter(np.array([1.0, 2.0, 3.0]), None, "b")  # a gradient that was never set
    zero_grad([weights, bias])
    check_array("zero_grad: W.grad", weights.grad, [[0.0, 0.0], [0.0, 0.0]])
    check_array("zero_grad: b.grad (it was None before)", bias.grad, [0.0, 0.0, 0.0])
    check_array("zero_grad: W.data (must not change)", weights.data, [[1.0, 2.0], [3.0, 4.0]],
                hints=[(np.zeros((2, 2)), "the data was set to zero: reset .grad, and leave .data alone")])
    weights.grad[0, 0] = 5.0
    check_array("zero_grad: W.data after changing W.grad (they must be separate arrays)", weights.data,
                [[1.0, 2.0], [3.0, 4.0]], hints=[([[5.0, 2.0], [3.0, 4.0]], ".grad and .data are the same array: "
                                                  "make a new array of zeros for .grad")])


@pytest.mark.zero_grad
def test_zero_grad_keeps_the_dtype_of_the_data():
    # The gap asks for zeros with the shape and dtype of .data: a float32 model keeps float32 gradients.
    weights = Parameter(np.ones((2, 3), dtype=np.float32), np.ones((2, 3), dtype=np.float32), "W")
    bias = Parameter(np.ones(3, dtype=np.float32), None, "b")
    zero_grad([weights, bias])
    check_array("zero_grad: W.grad of a float32 parameter", weights.grad, np.zeros((2, 3), dtype=np.float32))
    check_array("zero_grad: b.grad of a float32 parameter (it was None before)", bias.grad,
                np.zeros(3, dtype=np.float32))


OLD_GRAD_HINT = "zero_grad made the zeros from the old .grad: make them from .data, with its shape and dtype"


@pytest.mark.zero_grad
def test_zero_grad_replaces_an_old_grad_of_another_dtype_or_shape():
    # The gap asks for zeros with the shape and dtype of .data, whatever .grad held before.
    weights = Parameter(np.ones((2, 3), dtype=np.float32), np.ones((2, 3), dtype=np.float16), "W")
    bias = Parameter(np.ones(3), np.ones(1), "b")
    zero_grad([weights, bias])
    check_array("zero_grad: W.grad of float32 data whose old grad was float16", weights.grad,
                np.zeros((2, 3), dtype=np.float32), dtype_hints={"float16": OLD_GRAD_HINT})
    check_array("zero_grad: b.grad of data of shape (3,) whose old grad had shape (1,)", bias.grad, np.zeros(3),
                hints=[(np.zeros(1), OLD_GRAD_HINT)])


@pytest.mark.zero_grad
def test_zero_grad_gives_zeros_whatever_the_old_grad_and_the_data_hold():
    # NaN * 0 and inf * 0 are NaN: the zeros must be new zeros, not a product of the old grad or the data with 0.
    old_grad = np.array([np.nan, np.inf, -np.inf, 1.0])
    data = np.array([[np.inf, 1.0], [np.nan, -np.inf]])
    first = Parameter(np.ones(4), old_grad.copy(), "W")
    second = Parameter(data.copy(), np.ones((2, 2)), "b")
    zero_grad([first, second])
    with np.errstate(invalid="ignore"):  # the results of the two mistakes: NaN from inf * 0
        times_zero = [old_grad * 0, data * 0]
    check_array("zero_grad: W.grad after an old grad of [nan, inf, -inf, 1]", first.grad, np.zeros(4),
                inputs={"W.grad before": old_grad},
                hints=[(times_zero[0], "NaN * 0 and inf * 0 are NaN: set new zeros instead of multiplying the "
                                       "old grad by 0")])
    check_array("zero_grad: b.grad of data [[inf, 1], [nan, -inf]]", second.grad, np.zeros((2, 2)),
                inputs={"b.data": data},
                hints=[(times_zero[1], "0 * inf and 0 * NaN are NaN: make zeros of the data's shape and dtype "
                                       "instead of multiplying the data by 0")])


@pytest.mark.zero_grad
def test_zero_grad_makes_the_next_backward_match_finite_differences():
    rng = np.random.default_rng(7)
    module = Affine(rng.normal(size=3), rng.normal(size=3))
    x = rng.normal(size=(4, 3))
    expected = [numerical_gradient(lambda: float(np.sum(module(x))), p.data) for p in module.parameters()]
    for _ in range(2):  # without a reset, the second backward adds onto the first
        module.backward(np.ones_like(module(x)))
    zero_grad(module.parameters())
    module.backward(np.ones_like(module(x)))
    for param, gradient in zip(module.parameters(), expected):
        check_array("zero_grad, then one backward(): {}.grad".format(param.name), param.grad, gradient)


@pytest.mark.zero_grad
@pytest.mark.parametrize("seed", range(3))
def test_zero_grad_random_shapes(seed):
    rng = np.random.default_rng(seed)
    shapes = [shape_of(np.empty(rng.integers(1, 5, size=rng.integers(1, 4)))) for _ in range(rng.integers(1, 5))]
    params = [Parameter(rng.normal(size=shape), rng.normal(size=shape), "p{}".format(i))
              for i, shape in enumerate(shapes)]
    data_before = [p.data.copy() for p in params]
    zero_grad(iter(params))  # any iterable of parameters, e.g. a generator
    for param, data in zip(params, data_before):
        check_array("zero_grad: {}.grad of shape {}".format(param.name, param.data.shape), param.grad,
                    np.zeros(param.data.shape))
        check_array("zero_grad: {}.data (must not change)".format(param.name), param.data, data)


@pytest.mark.zero_grad
def test_zero_grad_changes_nothing_but_grad():
    # Two Linear(2, 3) layers' parameters, as model.parameters() gives them: names and shapes repeat (W, b, W, b),
    # the first grad is zero already, and an optimizer keeps its velocity in state_dict. Every grad is reset;
    # nothing else changes.
    rng = np.random.default_rng(3)
    shapes = [(3, 2), (3,), (3, 2), (3,)]
    params = [Parameter(rng.normal(size=shape), rng.normal(size=shape), name) for shape, name in zip(shapes, "WbWb")]
    params[0].grad = np.zeros(shapes[0])
    for param in params:
        param.state_dict["momentum_buffer"] = np.ones(param.data.shape)
        param.note = "kept"  # what other code keeps on a parameter
    given = list(params)
    data = [param.data for param in params]
    zero_grad(given)
    if any(got is not param for got, param in zip(given, params)) or len(given) != len(params):
        fail("zero_grad changed the list it was given: it holds {}, expected the same 4 parameters {}".format(
            given, params))
    for index, (param, before) in enumerate(zip(params, data)):
        kind = ", its grad already zero" if index == 0 else ", a second {} of that shape".format(
            param.name) if index > 1 else ""
        what = "zero_grad: parameter {} of 4 ({}, shape {}{})".format(index + 1, param.name, param.data.shape, kind)
        check_array(what + ": .grad", param.grad, np.zeros(shapes[index]))
        if param.data is not before:
            fail("{}: .data is another array than before zero_grad, expected the same array (zero_grad changes "
                 "nothing but .grad)".format(what))
        check_array(what + ": .state_dict['momentum_buffer'] (must not change)",
                    param.state_dict.get("momentum_buffer"), np.ones(shapes[index]))
        if getattr(param, "note", None) != "kept":
            fail("{}: the attribute .note is {!r}, expected 'kept' (zero_grad changes nothing but .grad)".format(
                what, getattr(param, "note", None)))


# ---------------------------------------------------------------- check_gradients (task 6)

def _shapes_of(model) -> list:
    return [(type(m).__name__, m.W.data.shape if isinstance(m, Linear) else None) for m in model.modules]


@pytest.mark.check_gradients
def test_check_gradients_builds_the_sheets_network():
    model = check_gradients()
    if not isinstance(model, Sequential):
        fail("check_gradients should return the Sequential it checked, got {!r}".format(model))
    expected = [("Linear", (30, 10)), ("Sigmoid", None), ("Linear", (10, 30))]
    if _shapes_of(model) != expected:
        fail("check_gradients: the network (module, W shape) is {}, expected {} "
             "(Linear(10, 30) -> Sigmoid -> Linear(30, 10))".format(_shapes_of(model), expected))


def record_check_gradients_calls(monkeypatch) -> list:
    """Replace Module.check_gradients by a recorder; returns the list of (module, input_args, args, kwargs)."""
    calls = []

    def check_gradients(module, input_args, *args, **kwargs):
        calls.append((module, input_args, args, kwargs))

    # The same name as the real method, so that a gap cannot tell them apart by repr().
    check_gradients.__qualname__ = Module.check_gradients.__qualname__
    monkeypatch.setattr(Module, "check_gradients", check_gradients)
    return calls


def effective_tolerance(args, kwargs):
    """The tolerance a call of Module.check_gradients(input_args, *args, **kwargs) runs at, or None if the call
    passes something else."""
    if not args and not kwargs:
        return GRADIENT_CHECK_TOLERANCE
    if len(args) + len(kwargs) == 1 and set(kwargs) <= {"tolerance"}:
        return args[0] if args else kwargs["tolerance"]
    return None


@pytest.mark.check_gradients
def test_check_gradients_runs_the_check_on_the_network(monkeypatch):
    calls = record_check_gradients_calls(monkeypatch)
    model = check_gradients(np.random.default_rng(5))
    if len(calls) != 1 or calls[0][0] is not model:
        fail("check_gradients should call model.check_gradients once, on the network it returns; calls seen: {}"
             .format([repr(call[0]) for call in calls]))
    _, input_args, args, kwargs = calls[0]
    if not isinstance(input_args, tuple) or len(input_args) != 1:
        fail("check_gradients should pass the tuple (x,) to model.check_gradients, got {}".format(
            "a tuple of {} items".format(len(input_args)) if isinstance(input_args, tuple)
            else type(input_args).__name__))
    # x comes first from the rng check_gradients was given (the given code draws it before the gap).
    expected_x = np.random.default_rng(5).uniform(-1.0, 1.0, size=(2, 10))
    check_array("check_gradients: the input in the tuple handed to model.check_gradients", input_args[0],
                expected_x)
    tolerance = effective_tolerance(args, kwargs)
    if tolerance is None:
        fail("check_gradients handed model.check_gradients the extra arguments {} {}: it takes the tuple of inputs "
             "and, if you like, a tolerance".format(plain(list(args)), {k: plain(v) for k, v in kwargs.items()}))
    if not isinstance(tolerance, (int, float, np.integer, np.floating)) or not 0 < tolerance <= \
            GRADIENT_CHECK_TOLERANCE:
        fail("check_gradients ran model.check_gradients at a tolerance of {!r}, expected one above 0 and at most the "
             "default, {:g}\nhint: a looser tolerance lets wrong gradients pass the check".format(
                 plain(tolerance), GRADIENT_CHECK_TOLERANCE))


def layers_of(model) -> list:
    return [module for module in getattr(model, "modules", []) if isinstance(module, Linear)]


def layer_weights(layers) -> list:
    return [(layer.W.data, layer.b.data if layer.b is not None else None) for layer in layers]


def built_after_x(seed, order=(0, 1), skip=0) -> list:
    """The (W, b) of Linear(10, 30) and Linear(30, 10) built from default_rng(seed) after x was drawn, in `order`,
    after `skip` more draws of an x: what check_gradients(default_rng(seed)) builds, and its common variants."""
    rng = np.random.default_rng(seed)
    for _ in range(1 + skip):
        rng.uniform(-1.0, 1.0, size=(2, 10))
    sizes = ((10, 30), (30, 10))
    built = {index: Linear(*sizes[index], rng=rng) for index in order}
    return layer_weights([built[0], built[1]])


def weight_hints(seed) -> list:
    """[(candidate (W, b) of both layers, hint)] for the common ways of building the network from the wrong rng."""
    fresh = np.random.default_rng(0)
    anew = layer_weights([Linear(10, 30, rng=fresh), Linear(30, 10, rng=fresh)])
    each = layer_weights([Linear(10, 30, rng=np.random.default_rng(0)), Linear(30, 10, rng=np.random.default_rng(0))])
    made = "these are the weights of layers built from a new np.random.default_rng(0), not from the rng that " \
           "check_gradients was given: pass rng=rng to each Linear, and make no new rng"
    return [(built_after_x(seed, order=(1, 0)), "these are the weights of the layers built the other way round, "
                                                "Linear(30, 10) first: build Linear(10, 30) first"),
            (built_after_x(seed, skip=1), "the rng drew one more input x before the layers were built: use the x "
                                          "that the given code drew, and draw nothing else from the rng"),
            (anew, made), (each, made)]


@pytest.mark.check_gradients
@pytest.mark.parametrize("seed", range(2))
def test_check_gradients_builds_the_network_with_the_rng_given(monkeypatch, seed):
    record_check_gradients_calls(monkeypatch)
    model, again = check_gradients(np.random.default_rng(seed)), check_gradients(np.random.default_rng(seed))
    layers = layers_of(model)
    if len(layers) != 2:
        fail("check_gradients: the network should hold two Linear layers, found {}".format(len(layers)))
    for index, layer in enumerate(layers):
        if layer.b is None:
            fail("check_gradients: Linear layer {} has no bias (its b is None): build each Linear with its bias, "
                 "as Linear does by default (bias=True)".format(index + 1))
    # The network the gap asks for: after x was drawn, each Linear built with rng=rng, in order.
    expected = built_after_x(seed)
    got = layer_weights(layers)
    repeated = layer_weights(layers_of(again))
    hints = weight_hints(seed)
    for index, ((w, b), (want_w, want_b)) in enumerate(zip(got, expected)):
        for name, value, want, other in (("W", w, want_w, repeated[index][0] if len(repeated) == 2 else None),
                                         ("b", b, want_b, repeated[index][1] if len(repeated) == 2 else None)):
            part = 0 if name == "W" else 1
            candidates = [(candidate[index][part], hint) for candidate, hint in hints]
            if isinstance(value, np.ndarray) and isinstance(other, np.ndarray) and value.shape == other.shape and \
                    not np.array_equal(value, other):
                candidates = [(value, "check_gradients built other weights in two calls with equal rngs: pass "
                                      "rng=rng to each Linear (without it, a Linear draws from a new generator "
                                      "every time)")]
            check_array("check_gradients(rng): {}.data of Linear layer {}".format(name, index + 1), value, want,
                        hints=candidates)


@pytest.mark.check_gradients
@pytest.mark.parametrize("seed", range(2))
def test_check_gradients_catches_a_wrong_gradient(monkeypatch, seed):
    def backward(self, grad):
        return grad * self.input_cache  # forgets the factor (1 - h)

    backward.__qualname__ = Sigmoid.backward.__qualname__  # indistinguishable by repr() from the real one

    check_gradients(np.random.default_rng(seed))  # correct gradients pass
    monkeypatch.setattr(Sigmoid, "backward", backward)
    other = None
    try:
        check_gradients(np.random.default_rng(seed))
    except RuntimeError as error:
        if not carries_the_gradient_check(error):
            raise
        return
    except Exception as error:  # reported below, outside this block, so that the first line is ours
        other = type(error).__name__
    if other is not None:
        fail("check_gradients raised {} for a network whose Sigmoid.backward was wrong, expected a RuntimeError: "
             "the gradient check's, or one that carries it".format(other))
    fail("check_gradients returned although the network's Sigmoid.backward was wrong (here without its factor "
         "(1 - h)): it should let the RuntimeError of the gradient check reach its caller")


def test_module_check_gradients_reports_what_failed_and_restores_parameters():
    module = Affine([1.0, 2.0], [0.0, 0.0])
    module.backward = lambda grad: grad  # the true dL/dx is grad * s
    data_before = [p.data.copy() for p in module.parameters()]
    with pytest.raises(RuntimeError, match=r"the input: relative error .* > tolerance"):
        module.check_gradients((np.ones((2, 2)),))
    for param, data in zip(module.parameters(), data_before):
        check_array("Module.check_gradients leaves {}.data unchanged".format(param.name), param.data, data)
    with pytest.raises(TypeError, match="tuple"):
        module.check_gradients(np.ones((2, 2)))


def test_module_check_gradients_names_the_failing_parameter():
    class WrongShiftGradient(Affine):
        def backward(self, grad):
            out = super().backward(grad)
            self.t.grad *= 2
            return out

    with pytest.raises(RuntimeError, match=r"parameter 1 \('t'"):
        WrongShiftGradient([1.0, 2.0], [0.0, 0.0]).check_gradients((np.ones((3, 2)),))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
