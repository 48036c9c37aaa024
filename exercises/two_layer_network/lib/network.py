"""The sheet's 2-3-1 network: its parameters as one vector, its forward pass, its loss and its gradient.

For a batch X of N samples, shape (N, 2), and labels y in {0, 1}, shape (N,):
    z = X W + b          (N, 3)    the sheet's z_j = w_1j x_1 + w_2j x_2 + b_j for every sample
    a = relu(z)          (N, 3)
    s = a v + c          (N,)      the output's logit
    y_hat = sigmoid(s)   (N,)
    L = -(1/N) sum_n [y_n log(y_hat_n) + (1 - y_n) log(1 - y_hat_n)]   the mean binary cross-entropy

The parameters travel as one float64 vector `params` of PARAMETER_COUNT = 13 entries (the sheet's "weights
vector"), so that a gradient, a step and a velocity are vectors of the same layout:
    params[0:6]   W, shape (2, 3), row by row: w_11, w_12, w_13, w_21, w_22, w_23
    params[6:9]   b, shape (3,)
    params[9:12]  v, shape (3,)
    params[12]    c, a scalar
pack() and unpack() convert between the vector and (W, b, v, c).
"""
from typing import Tuple

import numpy as np

from lib.activations import relu, relu_derivative, sigmoid

INPUTS, HIDDEN = 2, 3
# Where each parameter sits in the vector: (start, stop, shape).
LAYOUT = {"W": (0, 6, (INPUTS, HIDDEN)), "b": (6, 9, (HIDDEN,)), "v": (9, 12, (HIDDEN,)), "c": (12, 13, ())}
PARAMETER_COUNT = 13


def pack(W: np.ndarray, b: np.ndarray, v: np.ndarray, c: float) -> np.ndarray:
    """The vector of shape (13,), float64, holding W (2, 3), b (3,), v (3,) and c (scalar), in LAYOUT's order.

    Any array of the right size is taken (b of shape (1, 3) as the sheet's starter code makes it, v of (3, 1)).
    """
    parts = [np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64), np.asarray(v, dtype=np.float64),
             np.asarray(c, dtype=np.float64)]
    for name, part in zip(LAYOUT, parts):
        start, stop, shape = LAYOUT[name]
        if part.size != stop - start:
            raise ValueError("pack: {} must have {} entries (shape {}), got shape {}".format(
                name, stop - start, shape, part.shape))
    return np.concatenate([part.ravel() for part in parts])


def unpack(params: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.float64]:
    """(W, b, v, c) from the vector params, shape (13,): W (2, 3), b (3,), v (3,), c a float64 scalar.

    They are copies: changing them leaves params as it was.
    """
    params = np.asarray(params, dtype=np.float64)
    if params.shape != (PARAMETER_COUNT,):
        raise ValueError("unpack: params must have shape ({},), got {}".format(PARAMETER_COUNT, params.shape))
    W, b, v, c = (params[start:stop].reshape(shape).copy() for start, stop, shape in LAYOUT.values())
    return W, b, v, c[()]


def init_params(rng: np.random.Generator, scale: float = 0.1) -> np.ndarray:
    """Initial parameters as the sheet draws them: every entry uniform in [-scale, scale). Shape (13,)."""
    return rng.uniform(-scale, scale, size=PARAMETER_COUNT)


def logits(params: np.ndarray, X: np.ndarray) -> np.ndarray:
    """s = relu(X W + b) v + c, shape (N,), for X of shape (N, 2)."""
    W, b, v, c = unpack(params)
    return relu(X @ W + b) @ v + c


def forward(params: np.ndarray, X: np.ndarray) -> np.ndarray:
    """y_hat = sigmoid(relu(X W + b) v + c), shape (N,): the probability of class 1 for each row of X (N, 2)."""
    return sigmoid(logits(params, X))


def loss(params: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """The mean binary cross-entropy of the network on (X, y): X (N, 2), y (N,) of 0.0 and 1.0.

    Computed from the logit s, as -y log(sigmoid(s)) - (1 - y) log(1 - sigmoid(s)) = log(1 + exp(s)) - y s,
    so that it stays finite where y_hat rounds to exactly 0 or 1.
    """
    s = logits(params, X)
    return float(np.mean(np.logaddexp(0.0, s) - y * s))


def grad_f(params: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The gradient of loss(params, X, y) with respect to params: a float64 vector of shape (13,), in the layout
    of params (dL/dW row by row, dL/db, dL/dv, dL/dc).

    params: (13,), X: (N, 2) with N >= 1, y: (N,) of 0.0 and 1.0. The loss is the mean over the N samples.
    At the kink z = 0 it takes relu's derivative as 0 (relu_derivative).
    """
    # START TODO ################
    # Use your answer to (A). Unpack params, redo the forward pass keeping z, a and y_hat, then apply the chain
    # rule backwards: first dL/ds for the logit s of every sample (remember L is a mean over the N samples),
    # then dL/dv and dL/dc, then dL/da, dL/dz (through relu_derivative), dL/dW and dL/db.
    # Use matrix products and sums over the batch axis: no Python loop over the samples.
    # Return pack(dL/dW, dL/db, dL/dv, dL/dc): a new float64 vector of shape (13,). Change neither params, X nor y.
    W, b, v, c = unpack(params)
    z = X @ W + b
    a = relu(z)
    y_hat = sigmoid(a @ v + c)
    grad_s = (y_hat - y) / len(y)
    grad_v = a.T @ grad_s
    grad_c = np.sum(grad_s)
    grad_z = np.outer(grad_s, v) * relu_derivative(z)
    grad_W = X.T @ grad_z
    grad_b = np.sum(grad_z, axis=0)
    return pack(grad_W, grad_b, grad_v, grad_c)
    # END TODO ##################
