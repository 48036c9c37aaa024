"""One step of gradient descent and one of gradient descent with momentum, on the parameter vector.

params, grad and velocity are float64 vectors of one layout (lib/network.py), shape (13,) for the sheet's network
(any shape works alike). Each step returns new arrays and changes none of its arguments, so that a training loop
can keep the whole trajectory.
"""
from typing import Tuple

import numpy as np


def gd_step(params: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
    """One step of gradient descent: params - lr * grad. Returns a new float64 array of params' shape."""
    # START TODO ################
    # Return the parameters after one step downhill along grad with the learning rate lr, as a new array of
    # params' shape. Change neither params nor grad in place (no -=).
    return params - lr * grad
    # END TODO ##################


def momentum_step(params: np.ndarray, velocity: np.ndarray, grad: np.ndarray, lr: float,
                  alpha: float) -> Tuple[np.ndarray, np.ndarray]:
    """One step of gradient descent with momentum (Goodfellow, Bengio and Courville, Deep Learning, Algorithm 8.2):

        velocity <- alpha * velocity - lr * grad
        params   <- params + velocity              (with the velocity just computed)

    alpha in [0, 1) is the momentum (the sheet's name for it); alpha = 0 gives gd_step. The velocity starts as
    zeros of params' shape. Returns (new params, new velocity), two new float64 arrays of params' shape.
    """
    # START TODO ################
    # Compute the new velocity from the old one and grad, then move params by the new velocity.
    # Return both as a tuple (params, velocity) of new arrays. Change none of params, velocity, grad in place.
    new_velocity = alpha * velocity - lr * grad
    return params + new_velocity, new_velocity
    # END TODO ##################
