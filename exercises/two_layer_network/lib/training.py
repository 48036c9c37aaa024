"""The training loops of (D) and (E): full-batch gradient descent and momentum, the loss kept at every step."""
from typing import Tuple

import numpy as np

from lib.network import grad_f, loss
from lib.optimizers import gd_step, momentum_step


def gradient_descent(X: np.ndarray, y: np.ndarray, params: np.ndarray, iterations: int,
                     lr: float) -> Tuple[np.ndarray, np.ndarray]:
    """`iterations` steps of gradient descent from params on the whole batch (X (N, 2), y (N,)).

    Returns (the parameters after the last step, shape (13,); the losses, shape (iterations + 1,)): losses[k] is
    the loss after k steps, losses[0] the initial one.
    """
    losses = [loss(params, X, y)]
    for _ in range(iterations):
        params = gd_step(params, grad_f(params, X, y), lr)
        losses.append(loss(params, X, y))
    return params, np.array(losses)


def gradient_descent_momentum(X: np.ndarray, y: np.ndarray, params: np.ndarray, iterations: int, lr: float,
                              alpha: float) -> Tuple[np.ndarray, np.ndarray]:
    """Like gradient_descent, with momentum alpha (momentum_step); the velocity starts at zero."""
    velocity = np.zeros_like(params, dtype=np.float64)
    losses = [loss(params, X, y)]
    for _ in range(iterations):
        params, velocity = momentum_step(params, velocity, grad_f(params, X, y), lr, alpha)
        losses.append(loss(params, X, y))
    return params, np.array(losses)
