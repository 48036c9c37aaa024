"""Tests of lib/network.py. Graded: Linear.backward (task 3) and Sequential.backward (task 5)."""
import sys

import numpy as np
import pytest

from lib.activations import Sigmoid
from lib.network import Linear, Sequential
from grading.stand_ins import Affine, MatMul, NoBackward, Square
from tests.helpers import NO_RETURN, check_array, fail, numerical_gradient


def make_linear(W, b=None) -> Linear:
    """A Linear layer with the given weights (and bias, if b is given), gradients zero."""
    W = np.array(W, dtype=float)
    layer = Linear(W.shape[1], W.shape[0], bias=b is not None)
    layer.W.data = W
    if b is not None:
        layer.b.data = np.array(b, dtype=float)
    return layer


# ---------------------------------------------------------------- Linear.backward (task 3)

def linear_hints(x, grad, W, n) -> dict:
    """{quantity: hints} for the common mistakes of Linear.backward, from the closed forms of the docstring."""
    if n == 0:
        return {"W.grad": [], "b.grad": [], "dL/dx": []}  # an empty batch: every sum is 0, no mistake shows
    return {
        "W.grad": [(x.T @ grad, "it is x^T grad, shape (D, M): dL/dW = grad^T x has the shape (M, D) of W"),
                   (grad.T @ x / n, "it is divided by the batch size N: Linear sums over the batch; the loss "
                                    "already took the mean")],
        "b.grad": [(grad.sum(axis=1), "it is summed over the wrong axis: sum grad over the batch, axis 0"),
                   (grad, "it is grad itself: sum it over the batch (axis 0) to get shape (M,)"),
                   (grad.mean(axis=0), "it is the mean over the batch: sum it instead")],
        "dL/dx": [(x, "it returns x: return dL/dx = grad W")],
    }


def cut_off(got, before) -> list:
    """A hint for an array whose large entries were cut off at the largest magnitude it holds."""
    if not isinstance(got, np.ndarray) or got.shape != np.shape(before) or not got.size:
        return []
    limit = float(np.max(np.abs(got)))
    return [(np.clip(before, -limit, limit), "the large entries of grad were cut off at +-{:g} in place: leave the "
                                             "argument as it is".format(limit))]


def squeezed(expected, what) -> list:
    """Hints for a result that lost (and maybe regained, in another order) its axes of length 1."""
    expected = np.asarray(expected)
    hint = "it lost its axes of length 1 (np.squeeze?): {} keeps its shape also when N, D or M is 1".format(what)
    return [(np.squeeze(expected), hint), (np.atleast_2d(np.squeeze(expected)), hint)]


def check_linear_backward(layer, x, grad, expected, where=""):
    """Forward x, backward grad twice; check W.grad, b.grad and dL/dx after the first and the sums after the second,
    and that backward() changed neither its argument nor the x that forward() cached."""
    layer(x)
    grad_before, x_before = grad.copy(), np.array(x)
    grad_x = layer.backward(grad)
    W = layer.W.data
    inputs = {"x": x_before, "grad": grad_before, "W": W}
    hints = linear_hints(x_before, grad_before, W, len(x_before))
    check_array("Linear.backward: its argument grad afterwards (must not change)" + where, grad, grad_before,
                hints=cut_off(grad, grad_before))
    check_array("Linear.backward: the x cached by forward(), after backward() (must not change)" + where,
                layer.input_cache, x_before, hints=[(expected["dL/dx"], "backward() wrote dL/dx into the cached x: "
                                                                        "return a new array")])
    check_array("Linear.backward: W.grad" + where, layer.W.grad, expected["W.grad"], inputs=inputs,
                hints=hints["W.grad"])
    if layer.b is not None:
        check_array("Linear.backward: b.grad" + where, layer.b.grad, expected["b.grad"], inputs=inputs,
                    hints=hints["b.grad"])
    check_array("Linear.backward: the returned dL/dx" + where, grad_x, expected["dL/dx"], inputs=inputs,
                hints=hints["dL/dx"] + squeezed(expected["dL/dx"], "dL/dx, shape (N, D),"), if_none=NO_RETURN)
    # backward() adds into .grad (+=), so that the gradients of several backward passes add up.
    again = layer.backward(grad_before.copy())
    check_array("Linear.backward: the returned dL/dx of a second backward() after the same forward()" + where, again,
                expected["dL/dx"])
    overwritten = "it holds the gradient of one backward(), not the sum of both: add into .grad (+=), do not " \
                  "overwrite it (=)"
    check_array("Linear.backward: W.grad after a second backward() (the two must add up)" + where, layer.W.grad,
                2 * np.asarray(expected["W.grad"]), hints=[(expected["W.grad"], overwritten)])
    if layer.b is not None:
        check_array("Linear.backward: b.grad after a second backward() (the two must add up)" + where,
                    layer.b.grad, 2 * np.asarray(expected["b.grad"]), hints=[(expected["b.grad"], overwritten)])


@pytest.mark.linear_backward
def test_linear_backward_small_numbers():
    # N = 4 samples, D = 3 inputs, M = 2 outputs: every mix-up of N, D and M gives another shape.
    layer = make_linear(W=[[1.0, 2.0, 3.0],
                           [4.0, 5.0, 6.0]], b=[0.5, -0.5])
    x = np.array([[1.0, 0.0, -1.0],
                  [2.0, 1.0, 0.0],
                  [0.0, 1.0, 2.0],
                  [1.0, -1.0, 1.0]])
    grad = np.array([[1.0, -1.0],
                     [0.0, 2.0],
                     [3.0, 0.0],
                     [-1.0, 1.0]])
    # dL/dW = grad^T x (M, D), dL/db = the sum of grad over the batch (M,), dL/dx = grad W (N, D).
    expected = {"W.grad": [[0.0, 4.0, 4.0],
                           [4.0, 1.0, 2.0]],
                "b.grad": [3.0, 2.0],
                "dL/dx": [[-3.0, -3.0, -3.0],
                          [8.0, 10.0, 12.0],
                          [3.0, 6.0, 9.0],
                          [3.0, 3.0, 3.0]]}
    check_linear_backward(layer, x, grad, {key: np.array(value) for key, value in expected.items()})


@pytest.mark.linear_backward
def test_linear_backward_without_bias_small_numbers():
    layer = make_linear(W=[[2.0, -1.0]])
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 1.0]])
    grad = np.array([[1.0], [2.0], [-1.0]])
    expected = {"W.grad": np.array([[7.0, -1.0]]), "dL/dx": np.array([[2.0, -1.0], [4.0, -2.0], [-2.0, 1.0]])}
    check_linear_backward(layer, x, grad, expected, " (a layer without bias, b is None)")


@pytest.mark.linear_backward
@pytest.mark.parametrize("bias", [True, False], ids=["with bias", "without bias"])
def test_linear_backward_passes_gradient_check(bias):
    rng = np.random.default_rng(3)
    Linear(4, 3, bias=bias, rng=rng).check_gradients((rng.normal(size=(5, 4)),))


@pytest.mark.linear_backward
@pytest.mark.parametrize("seed", range(3))
def test_linear_backward_random_shapes_accumulates(seed):
    rng = np.random.default_rng(seed)
    n, d, m = (int(size) for size in rng.integers(1, 6, size=3))
    layer = Linear(d, m, rng=rng)
    x, grad = rng.normal(size=(n, d)), rng.normal(size=(n, m))

    def weighted_output() -> float:
        # L = sum(grad * z) has dL/dz = grad, so its numerical gradients are what backward(grad) must give.
        return float(np.sum(grad * layer(x)))

    expected = {"W.grad": numerical_gradient(weighted_output, layer.W.data),
                "b.grad": numerical_gradient(weighted_output, layer.b.data),
                "dL/dx": numerical_gradient(weighted_output, x)}
    check_linear_backward(layer, x, grad, expected, ", Linear({}, {}) on x of shape {}".format(d, m, (n, d)))


@pytest.mark.linear_backward
def test_linear_backward_keeps_float32():
    # Multiples of 1/4: float32 sums of them are exact, so every correct order of the sums gives these numbers.
    rng = np.random.default_rng(9)
    layer = Linear(3, 2, dtype=np.float32, rng=rng)
    layer.W.data = (rng.integers(-8, 9, size=(2, 3)) / 4).astype(np.float32)
    layer.b.data = (rng.integers(-8, 9, size=2) / 4).astype(np.float32)
    x = (rng.integers(-8, 9, size=(4, 3)) / 4).astype(np.float32)
    grad = (rng.integers(-8, 9, size=(4, 2)) / 4).astype(np.float32)
    wide_x, wide_grad, wide_w = x.astype(np.float64), grad.astype(np.float64), layer.W.data.astype(np.float64)
    expected = {"W.grad": (wide_grad.T @ wide_x).astype(np.float32),
                "b.grad": wide_grad.sum(axis=0).astype(np.float32),
                "dL/dx": (wide_grad @ wide_w).astype(np.float32)}
    check_linear_backward(layer, x, grad, expected, " (a float32 layer)")


@pytest.mark.linear_backward
@pytest.mark.parametrize("n, d, m", [(1, 4, 3), (3, 1, 2), (4, 3, 1), (1, 1, 1)],
                         ids=["a batch of one", "one input feature", "one output", "N = D = M = 1"])
def test_linear_backward_axes_of_length_one(n, d, m):
    # The docstring's shapes hold for every N, D and M, also 1: a batch of one sample is still a batch, (1, D).
    rng = np.random.default_rng(n + 10 * d + 100 * m)
    layer = Linear(d, m, rng=rng)
    x, grad = rng.normal(size=(n, d)), rng.normal(size=(n, m))
    expected = {"W.grad": grad.T @ x, "b.grad": grad.sum(axis=0), "dL/dx": grad @ layer.W.data}
    check_linear_backward(layer, x, grad, expected, " (N = {}, D = {}, M = {})".format(n, d, m))


@pytest.mark.linear_backward
def test_linear_backward_empty_batch():
    # A batch of no samples, x of shape (0, D): the sums over the batch are zero, dL/dx has shape (0, D).
    layer = Linear(3, 2, rng=np.random.default_rng(13))
    expected = {"W.grad": np.zeros((2, 3)), "b.grad": np.zeros(2), "dL/dx": np.zeros((0, 3))}
    check_linear_backward(layer, np.zeros((0, 3)), np.zeros((0, 2)), expected, " (an empty batch, N = 0)")


@pytest.mark.linear_backward
def test_linear_backward_large_and_small_gradients():
    rng = np.random.default_rng(14)
    layer = Linear(3, 4, rng=rng)
    x = rng.normal(size=(5, 3))
    grad = rng.normal(size=(5, 4)) * 10.0 ** rng.uniform(-3.0, 4.0, size=(5, 4))
    expected = {"W.grad": grad.T @ x, "b.grad": grad.sum(axis=0), "dL/dx": grad @ layer.W.data}
    check_linear_backward(layer, x, grad, expected, " (grad from 1e-3 to 1e4)")


# ---------------------------------------------------------------- Linear, the given part

def test_linear_forward_and_shapes():
    layer = make_linear(W=[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], b=[1.0, 0.0, -1.0])
    check_array("Linear.forward", layer(np.array([[1.0, 1.0]])), [[4.0, 7.0, 10.0]])
    assert layer.W.grad.shape == (3, 2) and layer.b.grad.shape == (3,)
    assert not layer.W.grad.any() and not layer.b.grad.any(), "gradients start as zeros"
    assert Linear(2, 3, bias=False).b is None and len(Linear(2, 3, bias=False).parameters()) == 1


def test_linear_rejects_wrong_number_of_features():
    with pytest.raises(ValueError, match=r"\(N, 3\).*\(4, 2\)"):
        Linear(3, 2)(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"\(N, 3\).*\(3,\)"):
        Linear(3, 2)([1.0, 2.0, 3.0])
    assert Linear(3, 2)([[1.0, 2.0, 3.0]]).shape == (1, 2), "a nested list is a batch of one sample"


def test_linear_keeps_float32():
    layer = Linear(3, 2, dtype=np.float32)
    assert layer.W.data.dtype == np.float32 and layer.b.data.dtype == np.float32
    assert layer(np.ones((4, 3), dtype=np.float32)).dtype == np.float32


def test_linear_initialisation_is_reproducible_with_rng():
    first = Linear(3, 2, rng=np.random.default_rng(7))
    second = Linear(3, 2, rng=np.random.default_rng(7))
    check_array("Linear.W with equal seeds", first.W.data, second.W.data)


# ---------------------------------------------------------------- Sequential.backward (task 5)

def check_modules_unchanged(model, modules, listed):
    """Sequential.backward must leave model.modules as they were: the next forward() goes through them in order.

    modules: the modules in their order before; listed: the list object model.modules was before."""
    now = model.__dict__.get("modules")
    if isinstance(now, list) and len(now) == len(modules) and all(a is b for a, b in zip(now, modules)):
        return
    shown = [repr(m) for m in now] if isinstance(now, (list, tuple)) else repr(now)
    hint = ""
    if isinstance(now, list) and len(now) == len(modules) and all(a is b for a, b in zip(now, modules[::-1])):
        hint = ("self.modules.reverse() reverses the list in place, so the next forward() runs backwards; "
                "reversed(self.modules) goes through it last first without changing it" if now is listed else
                "backward() replaced self.modules by the reversed list, so the next forward() runs backwards: go "
                "through the modules last first without changing self.modules")
    elif isinstance(now, list) and len(now) < len(modules):
        hint = "backward() took modules out of self.modules ({} of {} are left): leave the list as it is".format(
            len(now), len(modules))
    fail("Sequential.backward changed self.modules to {}, expected {} as before{}".format(
        shown, [repr(m) for m in modules], "\nhint: " + hint if hint else ""))


@pytest.mark.sequential_backward
def test_sequential_backward_small_numbers_in_reverse_order():
    calls = []
    first = MatMul([[1.0, 2.0], [0.0, 1.0]], "first", calls)
    second = MatMul([[0.0, 1.0], [1.0, 0.0]], "second", calls)
    model = Sequential(first, second)
    listed = model.modules
    model(np.array([[1.0, 1.0]]))
    got = model.backward(np.array([[1.0, 3.0]]))
    if not calls and isinstance(got, np.ndarray) and got.shape == (1, 2) and np.allclose(got, [[5.0, 1.0]]):
        fail("Sequential.backward returned the right dL/dx without calling backward() of the modules in "
             "self.modules (none was called, expected the order ['second', 'first']): it called backward() of "
             "copies of them, so the modules' own parameters would get no gradient")
    if calls != ["second", "first"]:
        fail("Sequential.backward called backward() of the modules in the order {}, expected {}{}".format(
            calls, ["second", "first"], "\nhint: go through the modules last first: reversed(self.modules)"
            if calls == ["first", "second"] and model.__dict__.get("modules") == [first, second] else ""))
    check_modules_unchanged(model, [first, second], listed)
    # dL/dx = grad B^T A^T: first [1, 3] B^T = [3, 1], then [3, 1] A^T = [5, 1].
    check_array("Sequential.backward: the returned dL/dx", got, [[5.0, 1.0]], if_none=NO_RETURN)


@pytest.mark.sequential_backward
def test_sequential_backward_lets_a_modules_error_reach_the_caller():
    # A module without a backward pass cannot be skipped: the gradients before it would be wrong.
    calls = []
    model = Sequential(MatMul([[1.0, 0.0], [0.0, 1.0]], "first", calls), NoBackward(),
                       MatMul([[0.0, 1.0], [1.0, 0.0]], "last", calls))
    model(np.array([[1.0, 2.0]]))
    raised = None
    try:
        model.backward(np.array([[1.0, 3.0]]))
    except NotImplementedError as error:
        if "has no backward()" not in str(error):
            raise
        raised = error
    if raised is None:
        fail("Sequential.backward returned although NoBackward.backward() raised NotImplementedError, expected that "
             "error to reach the caller (backward() was called in the order {})".format(calls))
    if not calls:
        fail("Sequential.backward called backward() of copies of the modules, not of the modules in self.modules "
             "(none of theirs was called, expected ['last'] before NoBackward raised NotImplementedError)")
    if calls != ["last"]:
        fail("Sequential.backward called backward() of the modules in the order {}, expected ['last'] before "
             "NoBackward raised NotImplementedError".format(calls))


@pytest.mark.sequential_backward
def test_sequential_backward_passes_gradient_check():
    rng = np.random.default_rng(4)
    model = Sequential(Affine(rng.normal(size=3), rng.normal(size=3)), Sigmoid(),
                       MatMul(rng.normal(size=(3, 2))), Square(), Affine(rng.normal(size=2), rng.normal(size=2)))
    model.check_gradients((rng.normal(size=(4, 3)),))


@pytest.mark.sequential_backward
@pytest.mark.parametrize("seed", range(3))
def test_sequential_backward_random_chains(seed):
    rng = np.random.default_rng(seed)
    widths = rng.integers(1, 5, size=rng.integers(2, 6))
    modules = []
    for d_in, d_out in zip(widths[:-1], widths[1:]):
        modules += [MatMul(rng.normal(size=(d_in, d_out))), Affine(rng.normal(size=d_out), rng.normal(size=d_out)),
                    [Sigmoid(), Square()][int(rng.integers(2))]]
    model = Sequential(*modules)
    listed = model.modules
    x, grad = rng.normal(size=(3, widths[0])), rng.normal(size=(3, widths[-1]))
    expected_x = numerical_gradient(lambda: float(np.sum(grad * model(x))), x)
    expected_params = [numerical_gradient(lambda: float(np.sum(grad * model(x))), p.data)
                       for p in model.parameters()]
    model(x)
    got = model.backward(grad)
    check_modules_unchanged(model, modules, listed)
    where = "a chain of {} modules".format(len(modules))
    check_array("Sequential.backward: the returned dL/dx for " + where, got, expected_x, if_none=NO_RETURN)
    for index, (param, expected) in enumerate(zip(model.parameters(), expected_params)):
        check_array("Sequential.backward: parameter {} ({}) .grad for {}".format(index, param.name, where),
                    param.grad, expected)


@pytest.mark.sequential_backward
def test_sequential_backward_through_a_sequential_inside_a_sequential():
    rng = np.random.default_rng(505)
    inner = Sequential(MatMul(rng.normal(size=(3, 3))), Sigmoid())
    model = Sequential(Affine(rng.normal(size=3), rng.normal(size=3)), inner,
                       Affine(rng.normal(size=3), rng.normal(size=3)))
    x, grad = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    expected_x = numerical_gradient(lambda: float(np.sum(grad * model(x))), x)
    expected_params = [numerical_gradient(lambda: float(np.sum(grad * model(x))), p.data)
                       for p in model.parameters()]
    model(x)
    check_array("Sequential.backward: dL/dx through a Sequential inside a Sequential", model.backward(grad),
                expected_x, if_none=NO_RETURN)
    for index, (param, expected) in enumerate(zip(model.parameters(), expected_params)):
        check_array("Sequential.backward: parameter {} ({}) .grad through a Sequential inside a Sequential".format(
            index, param.name), param.grad, expected)


@pytest.mark.sequential_backward
def test_sequential_backward_of_no_modules_returns_the_gradient():
    grad = np.array([[1.0, -2.0]])
    check_array("Sequential().backward(grad)", Sequential().backward(grad), grad)


def test_sequential_forward_chains_and_collects_parameters():
    model = Sequential(MatMul([[2.0]]), Affine([1.0], [3.0]), MatMul([[-1.0]]))
    check_array("Sequential.forward", model(np.array([[1.0]])), [[-5.0]])
    assert [p.name for p in model.parameters()] == ["s", "t"]
    with pytest.raises(TypeError, match="Module"):
        Sequential(np.zeros(2))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
