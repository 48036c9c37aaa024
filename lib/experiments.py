"""The XOR experiment of the exercise sheet: data, model, one training step and the training loop."""
from typing import Optional

import numpy as np

from lib.activations import ReLU
from lib.gradient_utilities import zero_grad
from lib.network import Linear, Sequential
from lib.network_base import Module

# The four points of XOR, shape (4, 2), and their classes, shape (4,): 1 where exactly one input is 1.
XOR_INPUTS = np.array([[0.0, 0.0],
                       [0.0, 1.0],
                       [1.0, 0.0],
                       [1.0, 1.0]])
XOR_LABELS = np.array([0, 1, 1, 0])


def make_xor_model(hidden: int = 2, rng: Optional[np.random.Generator] = None) -> Sequential:
    """The sheet's model: Linear(2, hidden) -> ReLU -> Linear(hidden, 2), two logits per sample."""
    return Sequential(Linear(2, hidden, rng=rng), ReLU(), Linear(hidden, 2, rng=rng))


def backward_pass(model: Module, loss_fn: Module, lr: float) -> None:
    """Backpropagate from the loss through the model, then take one gradient-descent step.

    Call it after loss = loss_fn(model(x), y) and after the gradients were reset. It computes
        dL/dz = loss_fn.backward()                  (z: the model's output, shape (N, C))
        model.backward(dL/dz)                      (adds dL/dp into p.grad for every parameter p)
        p <- p - lr * dL/dp                        (for every p in model.parameters())
    """
    # START TODO ################
    # Get the gradient of the loss with respect to the model's output, send it backwards through
    # the model, then update every parameter's .data in place with its .grad and the learning rate lr.
    grad = loss_fn.backward()
    model.backward(grad)
    for param in model.parameters():
        param.data -= lr * param.grad
    # END TODO ##################


def train(model: Module, loss_fn: Module, x: np.ndarray, targets: np.ndarray, steps: int, lr: float) -> np.ndarray:
    """Run `steps` steps of gradient descent on the whole batch (x, targets).

    Returns the losses, shape (steps + 1,): entry k is the loss after k steps.
    """
    losses = []
    for _ in range(steps):
        zero_grad(model.parameters())
        losses.append(loss_fn(model(x), targets))
        backward_pass(model, loss_fn, lr)
    losses.append(loss_fn(model(x), targets))
    return np.array(losses)
