"""Experiments around XOR beyond the sheet's four points: momentum, input scales, L-BFGS, training snapshots.

The "quadrant" data of the sister assignment is XOR of signs: points uniform in [-2, 2]^2, labelled 1 where
both coordinates have the same sign. The model for it ends in one sigmoid unit and is trained with BCELoss.
"""
from typing import Dict, List, Optional

import numpy as np
import scipy.optimize
from scipy.special import softmax

from experiments.flat_parameters import flatten, loss_and_gradient, unflatten
from lib.activations import ReLU, Sigmoid
from lib.network import Linear, Sequential
from lib.network_base import Module
from lib.optimizers import SGD


def make_quadrant_data(num_points: int = 1000, rng: Optional[np.random.Generator] = None, limit: float = 2.0):
    """num_points points uniform in [-limit, limit]^2 and their XOR-of-signs labels.

    Returns x, shape (num_points, 2), and labels, shape (num_points,), integer: 1 where x_1 * x_2 > 0.
    """
    if num_points < 1:
        raise ValueError("make_quadrant_data needs num_points >= 1, got {}".format(num_points))
    rng = np.random.default_rng() if rng is None else rng
    x = rng.uniform(-limit, limit, size=(num_points, 2))
    labels = (np.sign(x[:, 0]) == np.sign(x[:, 1])).astype(np.int64)
    return x, labels


def make_quadrant_model(hidden: int = 3, rng: Optional[np.random.Generator] = None) -> Sequential:
    """The sister assignment's model: Linear(2, hidden) -> ReLU -> Linear(hidden, 1) -> Sigmoid.

    Its output, shape (N, 1), is the probability of class 1.
    """
    return Sequential(Linear(2, hidden, rng=rng), ReLU(), Linear(hidden, 1, rng=rng), Sigmoid())


def class1_probability(model: Module, x: np.ndarray) -> np.ndarray:
    """P(class 1 | x) for x of shape (N, D), returned with shape (N,).

    A model with one output is taken to output that probability already (it ends in a Sigmoid);
    a model with two outputs gives logits, turned into probabilities by the softmax.
    """
    out = model(x)
    if np.ndim(out) != 2 or out.shape[1] not in (1, 2):
        raise ValueError("class1_probability expects model outputs of shape (N, 1) or (N, 2), got shape {}"
                         .format(np.shape(out)))
    if out.shape[1] == 1:
        return out[:, 0]
    return softmax(out, axis=1)[:, 1]


def accuracy(model: Module, x: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of the N samples x (N, D) whose predicted class (P(class 1) > 0.5) equals labels (N,)."""
    return float(np.mean((class1_probability(model, x) > 0.5) == (np.asarray(labels) == 1)))


def hidden_representation(model: Sequential, x: np.ndarray) -> np.ndarray:
    """h = ReLU(Linear(x)): the first two modules of the model applied to x (N, D). Returns (N, hidden)."""
    return Sequential(*model.modules[:2])(x)


def train_with_sgd(model: Module, loss_fn: Module, x: np.ndarray, targets: np.ndarray, steps: int, lr: float,
                   momentum: float = 0.0, snapshot_every: int = 0):
    """Full-batch training with lib.optimizers.SGD (momentum = 0: plain gradient descent).

    Returns losses, shape (steps + 1,), entry k the loss after k steps. With snapshot_every = k > 0, also
    returns the flat parameter vectors (see experiments.flat_parameters) after steps 0, k, 2k, ... and after the
    last step, as a list of arrays of shape (P,), and their step numbers.
    """
    optimizer = SGD(model.parameters(), lr=lr, momentum=momentum)
    losses, snapshots, snapshot_steps = [], [], []
    for step in range(steps + 1):
        if snapshot_every and (step % snapshot_every == 0 or step == steps):
            snapshots.append(flatten(model.parameters()))
            snapshot_steps.append(step)
        optimizer.zero_grad()
        losses.append(loss_fn(model(x), targets))
        if step == steps:
            break
        model.backward(loss_fn.backward())
        optimizer.step()
    if snapshot_every:
        return np.array(losses), snapshots, snapshot_steps
    return np.array(losses)


def compare_momentum(loss_fn: Module, x: np.ndarray, labels: np.ndarray, seed: int, steps: int, lr: float,
                     momentum: float, hidden: int = 3) -> Dict[str, Dict]:
    """Train two copies of the same initial quadrant model, one with plain gradient descent, one with momentum.

    x: (N, 2), labels: (N,). Returns {"gradient descent": run, "momentum": run}, each run a dict with
    "model", "losses" (steps + 1,) and "accuracy" (a float).
    """
    targets = np.asarray(labels, dtype=np.float64)[:, None]
    runs = {}
    for name, beta in (("gradient descent", 0.0), ("momentum", momentum)):
        model = make_quadrant_model(hidden, rng=np.random.default_rng(seed))
        losses = train_with_sgd(model, loss_fn, x, targets, steps, lr, momentum=beta)
        runs[name] = {"model": model, "losses": losses, "accuracy": accuracy(model, x, labels), "momentum": beta}
    return runs


def standardise(x: np.ndarray) -> np.ndarray:
    """Each feature (column) of x, shape (N, D), shifted to mean 0 and scaled to standard deviation 1."""
    std = np.std(x, axis=0)
    if np.any(std == 0):
        raise ValueError("standardise needs features that vary; feature(s) {} are constant"
                         .format(np.flatnonzero(std == 0).tolist()))
    return (x - np.mean(x, axis=0)) / std


def first_layer_gradient(model: Sequential, loss_fn: Module, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """dL/dW of the first Linear layer, shape (hidden, D), at the model's current parameters."""
    theta = flatten(model.parameters())
    loss_and_gradient(theta, model, loss_fn, x, targets)
    return model.modules[0].W.grad.copy()


def compare_scaling(loss_fn: Module, x: np.ndarray, labels: np.ndarray, seed: int, steps: int, lr: float,
                    factor: float = 100.0, small_lr: Optional[float] = None, hidden: int = 3) -> Dict[str, Dict]:
    """Train the same initial quadrant model on x with feature 0 multiplied by factor, and on standardised x.

    Both runs use plain gradient descent with the learning rate lr; with small_lr, a third run trains on the
    scaled x with that smaller learning rate.
    Returns {"scaled": run, "standardised": run} (and "scaled, small lr": run); each run holds "x" (N, 2),
    "lr", "model", "losses" (steps + 1,), "accuracy" and "initial_gradient", the first layer's dL/dW
    (hidden, 2) before training.
    """
    targets = np.asarray(labels, dtype=np.float64)[:, None]
    scaled = np.array(x, dtype=np.float64)
    scaled[:, 0] *= factor
    settings = [("scaled", scaled, lr), ("standardised", standardise(scaled), lr)]
    if small_lr is not None:
        settings.append(("scaled, small lr", scaled, small_lr))
    runs = {}
    for name, inputs, run_lr in settings:
        model = make_quadrant_model(hidden, rng=np.random.default_rng(seed))
        initial_gradient = first_layer_gradient(model, loss_fn, inputs, targets)
        losses = train_with_sgd(model, loss_fn, inputs, targets, steps, run_lr)
        runs[name] = {"x": inputs, "lr": run_lr, "model": model, "losses": losses,
                      "accuracy": accuracy(model, inputs, labels), "initial_gradient": initial_gradient}
    return runs


def train_lbfgs(model: Module, loss_fn: Module, x: np.ndarray, targets: np.ndarray,
                max_iterations: int = 200) -> Dict:
    """Train all parameters at once with scipy.optimize.minimize(method="L-BFGS-B", jac=True).

    The objective is experiments.flat_parameters.loss_and_gradient; the model ends at the optimizer's solution.
    Returns {"result": scipy's OptimizeResult, "losses": the loss at the start and after each iteration}.
    """
    theta0 = flatten(model.parameters())
    losses: List[float] = [loss_and_gradient(theta0, model, loss_fn, x, targets)[0]]

    def record(intermediate_result):
        # scipy >= 1.11 passes an OptimizeResult; older versions pass the parameter vector itself.
        theta = getattr(intermediate_result, "x", intermediate_result)
        losses.append(loss_and_gradient(theta, model, loss_fn, x, targets)[0])

    result = scipy.optimize.minimize(loss_and_gradient, theta0, args=(model, loss_fn, x, targets), jac=True,
                                     method="L-BFGS-B", callback=record, options={"maxiter": max_iterations})
    unflatten(result.x, model.parameters())
    return {"result": result, "losses": np.array(losses)}
