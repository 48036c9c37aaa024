"""Tests of lib/experiments.py. Graded: backward_pass (task 7)."""
import sys

import numpy as np
import pytest

from lib.experiments import XOR_INPUTS, XOR_LABELS, backward_pass, make_xor_model, train
from lib.losses import CrossEntropyLoss, MSELoss
from grading.stand_ins import Affine, FixedGradientLoss
from tests.helpers import check_array, fail, numerical_gradient


def step_hints(before, grad, lr) -> list:
    """The data after the common mistakes of backward_pass, each with what it means."""
    return [(before, "the parameters did not change: update each param.data in place (param.data -= ...) or assign "
                     "param.data = ...; rebinding the loop variable (param = ...) changes nothing. Update after "
                     "model.backward(), when .grad holds the gradient"),
            (before + lr * grad, "the step went uphill: subtract lr * grad"),
            (before - grad, "the step ignores the learning rate: subtract lr * grad")]


# ---------------------------------------------------------------- backward_pass (task 7)

@pytest.mark.backward_pass
def test_backward_pass_small_numbers():
    model = Affine([2.0, -1.0], [0.5, 0.5])
    x = np.array([[1.0, 2.0],
                  [3.0, 0.0]])
    model(x)
    loss_fn = FixedGradientLoss([[1.0, 1.0],
                                 [0.0, -1.0]])
    backward_pass(model, loss_fn, lr=0.5)
    if loss_fn.backward_calls != 1:
        fail("backward_pass should call loss_fn.backward() once, it called it {} times"
             .format(loss_fn.backward_calls))
    # dL/ds = sum_n grad_n * x_n = [1, 2], dL/dt = sum_n grad_n = [1, 0]; p <- p - 0.5 * dL/dp.
    inputs = {"s before": np.array([2.0, -1.0]), "t before": np.array([0.5, 0.5]), "x": x,
              "loss_fn.backward()": loss_fn.gradient, "lr": 0.5}
    check_array("backward_pass: s.grad", model.s.grad, [1.0, 2.0], inputs=inputs,
                hints=[(np.zeros(2), "s.grad is zero: call model.backward() with the gradient of the loss")])
    check_array("backward_pass: t.grad", model.t.grad, [1.0, 0.0], inputs=inputs)
    check_array("backward_pass: s.data after the step", model.s.data, [1.5, -2.0], inputs=inputs,
                hints=step_hints(np.array([2.0, -1.0]), np.array([1.0, 2.0]), 0.5))
    check_array("backward_pass: t.data after the step", model.t.data, [0.0, 0.5], inputs=inputs,
                hints=step_hints(np.array([0.5, 0.5]), np.array([1.0, 0.0]), 0.5))


@pytest.mark.backward_pass
def test_backward_pass_steps_along_the_finite_difference_gradient():
    rng = np.random.default_rng(8)
    model = Affine(rng.normal(size=3), rng.normal(size=3))
    x, target = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    loss_fn = MSELoss()
    before = [p.data.copy() for p in model.parameters()]
    gradients = [numerical_gradient(lambda: loss_fn(model(x), target), p.data) for p in model.parameters()]
    loss_fn(model(x), target)
    backward_pass(model, loss_fn, lr=0.1)
    for param, data, gradient in zip(model.parameters(), before, gradients):
        check_array("backward_pass: {}.data after a step with lr = 0.1".format(param.name), param.data,
                    data - 0.1 * gradient, hints=step_hints(data, gradient, 0.1))


@pytest.mark.backward_pass
@pytest.mark.parametrize("seed", range(3))
def test_backward_pass_random_models_and_learning_rates(seed):
    rng = np.random.default_rng(seed)
    n, d = (int(size) for size in rng.integers(1, 6, size=2))
    lr = float(rng.uniform(0.01, 2.0))
    model = Affine(rng.normal(size=d), rng.normal(size=d))
    x, gradient = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    before = [p.data.copy() for p in model.parameters()]
    # Computed before the call, from copies: the gap gets these arrays and could change them.
    expected_grads = [np.sum(gradient * x, axis=0), np.sum(gradient, axis=0)]
    model(x.copy())
    backward_pass(model, FixedGradientLoss(gradient.copy()), lr)
    for param, data, grad in zip(model.parameters(), before, expected_grads):
        where = "{} of shape {}, lr = {:.3f}".format(param.name, (d,), lr)
        check_array("backward_pass: {}.grad".format(where), param.grad, grad)
        check_array("backward_pass: {}.data after the step".format(where), param.data, data - lr * grad,
                    hints=step_hints(data, grad, lr))


def reset(model) -> None:
    """Gradients to zero before a step, as the training loop does (zero_grad is another task's gap, not used here:
    the stand-in's data are finite, so 0 * data is zeros of their shape and dtype)."""
    for param in model.parameters():
        param.grad = 0 * param.data


@pytest.mark.backward_pass
def test_backward_pass_several_steps():
    # train() calls backward_pass once per step, on the same parameters: each call takes one plain step
    # p <- p - lr * dL/dp with the gradient of that step, whatever the steps before it did.
    rng = np.random.default_rng(15)
    model = Affine(rng.normal(size=3), rng.normal(size=3))
    x, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    s, t, lr = model.s.data.copy(), model.t.data.copy(), 0.3
    loss_fn = MSELoss()
    for step in range(1, 5):
        # The expected step, from the closed form: dL/dz = 2 (z - target) / size for the MSE of z = x * s + t.
        gradient = 2 * (x * s + t - target) / target.size
        s, t = s - lr * np.sum(gradient * x, axis=0), t - lr * np.sum(gradient, axis=0)
        reset(model)
        loss_fn(model(x), target)
        backward_pass(model, loss_fn, lr)
        hint = [] if step == 1 else [(model.s.data, "the first step was right, step {} is not: each call takes one "
                                                    "plain step with the gradient it is given and keeps nothing for "
                                                    "the next (no momentum, no step count, the same lr)".format(step))]
        check_array("backward_pass: s.data after step {} of 4 with lr = 0.3".format(step), model.s.data, s, hints=hint)
        check_array("backward_pass: t.data after step {} of 4 with lr = 0.3".format(step), model.t.data, t,
                    hints=[(model.t.data, hint[0][1])] if hint else [])


@pytest.mark.backward_pass
def test_backward_pass_large_and_small_gradients():
    rng = np.random.default_rng(16)
    model = Affine(rng.normal(size=3), rng.normal(size=3))
    x = rng.normal(size=(2, 3))
    gradient = rng.normal(size=(2, 3)) * 10.0 ** rng.uniform(-2.0, 4.0, size=(2, 3))
    before = [p.data.copy() for p in model.parameters()]
    expected_grads = [np.sum(gradient * x, axis=0), np.sum(gradient, axis=0)]
    model(x.copy())
    backward_pass(model, FixedGradientLoss(gradient), 1.5)
    for param, data, grad in zip(model.parameters(), before, expected_grads):
        step = data - param.data if isinstance(param.data, np.ndarray) and param.data.shape == data.shape else None
        limit = float(np.max(np.abs(step))) if step is not None and step.size else 0.0
        hints = step_hints(data, grad, 1.5) + [(data - np.clip(1.5 * grad, -limit, limit), "the step was cut off at "
                                                "+-{:g}: take the whole step lr * grad".format(limit))]
        check_array("backward_pass: {}.data after a step with gradients from 1e-2 to 1e4, lr = 1.5".format(param.name),
                    param.data, data - 1.5 * grad, hints=hints)


@pytest.mark.backward_pass
def test_backward_pass_keeps_a_float32_model_float32():
    # Multiples of 1/8: float32 arithmetic on them is exact, so every correct order of operations gives these numbers.
    model = Affine([2.0, -1.0], [0.5, 0.25], dtype=np.float32)
    x = np.array([[1.0, 2.0], [3.0, 0.5]], dtype=np.float32)
    model(x)
    backward_pass(model, FixedGradientLoss([[1.0, 0.5], [0.25, -1.0]], dtype=np.float32), 0.5)
    # dL/ds = sum_n grad_n * x_n = [1.75, 0.5], dL/dt = [1.25, -0.5]; p <- p - 0.5 * dL/dp.
    wider = {"float64": "the float32 parameters became float64: a float64 array in the step (e.g. from "
                        ".astype(float)) turns the result into float64; the step must keep the parameter's dtype"}
    check_array("backward_pass: s.data of a float32 model after the step", model.s.data,
                np.array([1.125, -1.25], dtype=np.float32), dtype_hints=wider)
    check_array("backward_pass: t.data of a float32 model after the step", model.t.data,
                np.array([-0.125, 0.5], dtype=np.float32), dtype_hints=wider)


def test_training_solves_xor():
    # Not graded: it needs every gap of the backward pass (ReLU, Linear, CrossEntropyLoss, Sequential, backward_pass).
    model = make_xor_model(hidden=4, rng=np.random.default_rng(0))
    losses = train(model, CrossEntropyLoss(), XOR_INPUTS, XOR_LABELS, steps=300, lr=0.5)
    assert losses.shape == (301,)
    if not losses[-1] < 0.1 * losses[0]:
        fail("300 steps on XOR took the loss from {:.4f} only to {:.4f}".format(losses[0], losses[-1]))
    predictions = np.argmax(model(XOR_INPUTS), axis=1)
    check_array("predictions on XOR after training", predictions, XOR_LABELS)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
