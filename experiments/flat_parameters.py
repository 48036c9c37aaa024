"""The whole network as one function of one vector: L(theta), with theta all parameters laid end to end.

This is the view of general-purpose optimizers such as scipy.optimize.minimize, which know nothing of
layers. PyTorch calls the same pair of operations parameters_to_vector and vector_to_parameters.

    theta = flatten(model.parameters())                          # shape (P,), P = total parameter count
    loss, gradient = loss_and_gradient(theta, model, loss_fn, x, targets)
    scipy.optimize.minimize(loss_and_gradient, theta, args=(model, loss_fn, x, targets),
                            jac=True, method="L-BFGS-B")
"""
from typing import Sequence, Tuple

import numpy as np

from lib.gradient_utilities import zero_grad
from lib.network_base import Module, Parameter


def parameter_count(params: Sequence[Parameter]) -> int:
    """P, the number of scalars in all parameters together."""
    return int(sum(np.size(param.data) for param in params))


def flatten(params: Sequence[Parameter]) -> np.ndarray:
    """The values of all parameters, each raveled in C order and concatenated in the given order.

    params: a list of Parameters, e.g. model.parameters(), with data of any shapes.
    Returns theta, a new float64 array of shape (P,).
    """
    params = list(params)
    if not params:
        return np.zeros(0)
    return np.concatenate([np.ravel(param.data).astype(np.float64) for param in params])


def flatten_gradients(params: Sequence[Parameter]) -> np.ndarray:
    """dL/dtheta: the .grad of all parameters, laid out exactly as flatten() lays out their values.

    Returns a new float64 array of shape (P,).
    """
    params = list(params)
    missing = [repr(param) for param in params if param.grad is None]
    if missing:
        raise ValueError("flatten_gradients needs a .grad on every parameter; none on {}".format(", ".join(missing)))
    if not params:
        return np.zeros(0)
    return np.concatenate([np.ravel(param.grad).astype(np.float64) for param in params])


def unflatten(theta: np.ndarray, params: Sequence[Parameter]) -> None:
    """The inverse of flatten(): copy the entries of theta, shape (P,), back into the parameters' data.

    Each parameter keeps its shape and dtype; theta is copied, so changing it later does not change the model.
    """
    params = list(params)
    theta = np.asarray(theta)
    expected = parameter_count(params)
    if theta.shape != (expected,):
        raise ValueError("unflatten expects a vector of shape ({},) for these parameters, got shape {}"
                         .format(expected, theta.shape))
    start = 0
    for param in params:
        stop = start + np.size(param.data)
        param.data[...] = theta[start:stop].reshape(np.shape(param.data))
        start = stop


def loss_and_gradient(theta: np.ndarray, model: Module, loss_fn: Module, x: np.ndarray,
                      targets: np.ndarray) -> Tuple[float, np.ndarray]:
    """L(theta) and dL/dtheta for the whole batch, by one forward and one backward pass.

    theta: all parameters of model, shape (P,), in the order of flatten(model.parameters()).
    x: the inputs, e.g. shape (N, D). targets: what loss_fn expects next to model(x).
    Returns (loss, gradient): a float and an array of shape (P,).

    The model's parameters are left at theta (with their .grad at dL/dtheta), so after an optimizer
    has finished, the model holds the last point it evaluated.
    """
    params = model.parameters()
    unflatten(theta, params)
    zero_grad(params)
    loss = loss_fn(model(x), targets)
    model.backward(loss_fn.backward())
    return float(loss), flatten_gradients(params)
