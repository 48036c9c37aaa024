"""The pen-and-paper network of the exercise sheet, put together from library modules.

    z0 = w0 x          h0 = ReLU(z0)
    z1 = w1 h0         h1 = ReLU(z1)
    z2 = w2 h1 + ws h0              (ws: the skip connection from unit 0 to unit 2)
    y_hat = z2         L = |y - y_hat|

Each unit is a bias-free Linear(1, 1), so the backward pass is the library's own: your ReLU.backward,
Linear.backward and Sequential.backward (TODO gaps 2, 3 and 5). Probes after each unit record its value and
the gradient reaching it. SHEET_VALUES holds the sheet's data point, initial weights and learning rate.
"""
from typing import Dict

import numpy as np
import scipy.optimize

from experiments.modules import Probe, Sum
from lib.activations import ReLU
from lib.losses import L1Loss
from lib.network import Linear, Sequential
from lib.network_base import Module

SHEET_VALUES = {"x": 1.0, "y": -3.0, "w0": 0.5, "w1": 0.5, "w2": 0.5, "ws": 0.5, "lr": 1.0}
WEIGHT_NAMES = ("w0", "w1", "w2", "ws")
NODE_NAMES = ("z0", "h0", "z1", "h1", "z2")


def _unit(weight: float, name: str) -> Linear:
    """A single bias-free unit, z = weight * input, as a Linear(1, 1) layer."""
    unit = Linear(1, 1, bias=False)
    unit.W.data[...] = weight
    unit.W.name = name
    return unit


class PenAndPaperNetwork(Module):
    """The sheet's network for a batch of scalar inputs x, shape (N, 1). Returns y_hat, shape (N, 1).

    After forward() and backward(), probes[name].value and probes[name].gradient hold each node's value and
    dL/d(node), for the names in NODE_NAMES.
    """

    def __init__(self, w0: float, w1: float, w2: float, ws: float):
        super().__init__()
        self.probes = {name: Probe(name) for name in NODE_NAMES}
        p = self.probes
        self.weights = {name: _unit(value, name) for name, value in zip(WEIGHT_NAMES, (w0, w1, w2, ws))}
        w = self.weights
        # x -> unit 0 -> then two branches that meet at unit 2: through unit 1, and the skip connection.
        through_unit1 = Sequential(w["w1"], p["z1"], ReLU(), p["h1"], w["w2"])
        self.chain = Sequential(w["w0"], p["z0"], ReLU(), p["h0"], Sum(through_unit1, w["ws"]), p["z2"])

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.chain(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """grad: dL/dz2 (= dL/dy_hat, since y_hat = z2). Returns dL/dx."""
        return self.chain.backward(grad)

    def parameters(self):
        return [self.weights[name].W for name in WEIGHT_NAMES]


def _loss(x: float, y: float, weights: np.ndarray) -> float:
    network = PenAndPaperNetwork(*weights)
    return L1Loss()(network(np.array([[x]])), np.array([[y]]))


def solve(x: float, y: float, w0: float, w1: float, w2: float, ws: float, lr: float) -> Dict:
    """One forward pass, one backward pass and one gradient-descent step, all as plain floats.

    Returns {"forward": {z0, h0, z1, h1, z2, y_hat, loss},
             "backward": {y_hat, z2, h1, z1, h0, z0}          (dL/d of each node),
             "gradients": {w0, w1, w2, ws},                     (dL/dw from backpropagation)
             "finite_differences": {w0, w1, w2, ws},            (the same, estimated from the loss alone)
             "updated_weights": {w0, w1, w2, ws},               (w - lr * dL/dw)
             "loss_after_step": float}
    """
    network = PenAndPaperNetwork(w0, w1, w2, ws)
    loss_fn = L1Loss()
    y_hat = network(np.array([[x]]))
    loss = loss_fn(y_hat, np.array([[y]]))
    grad_y_hat = loss_fn.backward()
    network.backward(grad_y_hat)  # y_hat = z2, so dL/dz2 = dL/dy_hat

    forward = {name: network.probes[name].value.item() for name in NODE_NAMES}
    forward.update(y_hat=y_hat.item(), loss=loss)
    backward = {"y_hat": grad_y_hat.item()}
    backward.update((name, network.probes[name].gradient.item()) for name in reversed(NODE_NAMES))
    gradients = {param.name: param.grad.item() for param in network.parameters()}

    weights = np.array([w0, w1, w2, ws], dtype=float)
    estimates = scipy.optimize.approx_fprime(weights, lambda w: _loss(x, y, w), 1e-7)
    updated = weights - lr * np.array([gradients[name] for name in WEIGHT_NAMES])
    return {
        "forward": forward,
        "backward": backward,
        "gradients": gradients,
        "finite_differences": dict(zip(WEIGHT_NAMES, estimates.tolist())),
        "updated_weights": dict(zip(WEIGHT_NAMES, updated.tolist())),
        "loss_after_step": _loss(x, y, updated),
    }
