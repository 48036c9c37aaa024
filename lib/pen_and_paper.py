"""The pen-and-paper network of the exercise sheet, built from library modules.

    z0 = w0 x          h0 = ReLU(z0)
    z1 = w1 h0         h1 = ReLU(z1)
    z2 = w2 h1 + ws h0              (ws: the skip connection from unit 0 to unit 2)
    y_hat = z2         L = |y - y_hat|

No biases. SHEET_VALUES holds the sheet's data point, initial weights and learning rate.
"""
from typing import Dict

import numpy as np
import scipy.optimize

from lib.activations import ReLU
from lib.losses import L1Loss
from lib.network import Linear
from lib.network_base import Module

SHEET_VALUES = {"x": 1.0, "y": -3.0, "w0": 0.5, "w1": 0.5, "w2": 0.5, "ws": 0.5, "lr": 1.0}
WEIGHT_NAMES = ("w0", "w1", "w2", "ws")


def _unit(weight: float, name: str) -> Linear:
    """A single bias-free unit, z = weight * input, as a Linear(1, 1) layer."""
    unit = Linear(1, 1, bias=False)
    unit.W.data[...] = weight
    unit.W.name = name
    return unit


class PenAndPaperNetwork(Module):
    """The sheet's network for a batch of scalar inputs x, shape (N, 1). Returns y_hat, shape (N, 1).

    After forward() and backward(), `values` holds z0, h0, z1, h1, z2 and `node_gradients` holds
    dL/dz2, dL/dh1, dL/dz1, dL/dh0 and dL/dz0.
    """

    def __init__(self, w0: float, w1: float, w2: float, ws: float):
        super().__init__()
        self.unit0, self.unit1 = _unit(w0, "w0"), _unit(w1, "w1")
        self.unit2, self.skip = _unit(w2, "w2"), _unit(ws, "ws")
        self.relu0, self.relu1 = ReLU(), ReLU()
        self.values = {}
        self.node_gradients = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        z0 = self.unit0(x)
        h0 = self.relu0(z0)
        z1 = self.unit1(h0)
        h1 = self.relu1(z1)
        z2 = self.unit2(h1) + self.skip(h0)
        self.values = {"z0": z0, "h0": h0, "z1": z1, "h1": h1, "z2": z2}
        return z2

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """grad: dL/dz2 (= dL/dy_hat, since y_hat = z2). Returns dL/dx."""
        grad_z2 = grad
        grad_h1 = self.unit2.backward(grad_z2)
        grad_z1 = self.relu1.backward(grad_h1)
        # h0 feeds both unit 1 and, through the skip connection, unit 2: its gradient sums both paths.
        grad_h0 = self.unit1.backward(grad_z1) + self.skip.backward(grad_z2)
        grad_z0 = self.relu0.backward(grad_h0)
        self.node_gradients = {"z2": grad_z2, "h1": grad_h1, "z1": grad_z1, "h0": grad_h0, "z0": grad_z0}
        return self.unit0.backward(grad_z0)

    def parameters(self):
        return [self.unit0.W, self.unit1.W, self.unit2.W, self.skip.W]


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

    forward = {name: value.item() for name, value in network.values.items()}
    forward.update(y_hat=y_hat.item(), loss=loss)
    backward = {"y_hat": grad_y_hat.item()}
    backward.update((name, value.item()) for name, value in network.node_gradients.items())
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
