"""Optimizers update parameters from their gradients."""
from typing import Iterable

from lib.gradient_utilities import zero_grad
from lib.network_base import Parameter


class SGD:
    """Stochastic gradient descent with optional momentum, in PyTorch's convention:

        v <- momentum * v + dL/dp
        p <- p - lr * v

    With momentum = 0 this is plain gradient descent, p <- p - lr * dL/dp. The velocity v of each
    parameter lives in param.state_dict["momentum_buffer"] and starts at zero.
    """

    def __init__(self, params: Iterable[Parameter], lr: float, momentum: float = 0.0):
        if not lr > 0:
            raise ValueError("SGD needs a learning rate lr > 0, got {}".format(lr))
        if not 0 <= momentum < 1:
            raise ValueError("SGD needs a momentum in [0, 1), got {}".format(momentum))
        self.params = list(params)
        self.lr = lr
        self.momentum = momentum

    def step(self) -> None:
        """Update every parameter in place from its current .grad; parameters without a .grad are left alone."""
        for param in self.params:
            if param.grad is None:
                continue
            if self.momentum == 0:
                param.data -= self.lr * param.grad
                continue
            velocity = param.state_dict.get("momentum_buffer")
            if velocity is None:
                velocity = param.state_dict["momentum_buffer"] = param.grad.copy()
            else:
                velocity *= self.momentum
                velocity += param.grad
            param.data -= self.lr * velocity

    def zero_grad(self) -> None:
        """Reset the gradients of all parameters to zero."""
        zero_grad(self.params)
