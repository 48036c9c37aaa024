"""Tests of lib/gradient_utilities.py. Graded: zero_grad (task 1) and check_gradients (task 6)."""
import sys

import numpy as np
import pytest

from lib.activations import Sigmoid
from lib.gradient_utilities import check_gradients, zero_grad
from lib.network import Linear, Sequential
from lib.network_base import GRADIENT_CHECK_TOLERANCE, Module, Parameter
from tests.helpers import check_array, fail, numerical_gradient, shape_of
from tests.modules_for_tests import Affine


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
    check_array("check_gradients: the x passed to model.check_gradients((x,))", input_args[0], expected_x)
    if args or kwargs:
        fail("check_gradients should call model.check_gradients((x,)) with the default tolerance ({:g}), got the "
             "extra arguments {} {}\nhint: a looser tolerance lets wrong gradients pass the check".format(
                 GRADIENT_CHECK_TOLERANCE, list(args), kwargs))


@pytest.mark.check_gradients
@pytest.mark.parametrize("seed", range(2))
def test_check_gradients_builds_the_network_with_the_rng_given(monkeypatch, seed):
    record_check_gradients_calls(monkeypatch)
    model = check_gradients(np.random.default_rng(seed))
    # The network the gap asks for: after x was drawn, each Linear built with rng=rng, in order.
    reference = np.random.default_rng(seed)
    reference.uniform(-1.0, 1.0, size=(2, 10))
    expected = [Linear(10, 30, rng=reference), Linear(30, 10, rng=reference)]
    layers = [module for module in model.modules if isinstance(module, Linear)]
    if len(layers) != 2:
        fail("check_gradients: the network should hold two Linear layers, found {}".format(len(layers)))
    for index, (layer, wanted) in enumerate(zip(layers, expected)):
        for name in ("W", "b"):
            got, want = getattr(layer, name).data, getattr(wanted, name).data
            check_array("check_gradients(rng): {}.data of Linear layer {}".format(name, index + 1), got, want,
                        hints=[(got, "these are not the weights of Linear(..., rng=rng) built from the rng that "
                                     "check_gradients was given: pass rng=rng to each Linear, and make no new rng")])


@pytest.mark.check_gradients
@pytest.mark.parametrize("seed", range(2))
def test_check_gradients_catches_a_wrong_gradient(monkeypatch, seed):
    def backward(self, grad):
        return grad * self.input_cache  # forgets the factor (1 - h)

    backward.__qualname__ = Sigmoid.backward.__qualname__  # indistinguishable by repr() from the real one

    check_gradients(np.random.default_rng(seed))  # correct gradients pass
    monkeypatch.setattr(Sigmoid, "backward", backward)
    with pytest.raises(RuntimeError, match="Gradient check"):
        check_gradients(np.random.default_rng(seed))


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
