"""Layers with parameters, and containers that chain modules into a network."""
from typing import List, Optional

import numpy as np

from lib.network_base import Module, Parameter


class Linear(Module):
    """A fully connected layer: z = x W^T + b.

    Args:
        in_features: D, the number of input features.
        out_features: M, the number of outputs.
        bias: whether to add the bias b.
        dtype: the dtype of W and b (float64 by default; float32 halves memory and time).
        rng: a numpy Generator for the initial weights; pass one to make runs reproducible.

    Parameters (initialised like PyTorch's nn.Linear: uniform in [-1/sqrt(D), 1/sqrt(D)]):
        W: shape (M, D).
        b: shape (M,), or None without bias.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=np.float64,
                 rng: Optional[np.random.Generator] = None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.in_features = in_features
        self.out_features = out_features
        bound = 1.0 / np.sqrt(in_features)
        w_data = rng.uniform(-bound, bound, size=(out_features, in_features)).astype(dtype)
        self.W = Parameter(w_data, np.zeros_like(w_data), "W")
        self.b = None
        if bias:
            b_data = rng.uniform(-bound, bound, size=out_features).astype(dtype)
            self.b = Parameter(b_data, np.zeros_like(b_data), "b")

    def __repr__(self) -> str:
        return "Linear({}, {}, bias={})".format(self.in_features, self.out_features, self.b is not None)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: shape (N, D). Returns z = x W^T + b, shape (N, M)."""
        x = np.asarray(x)
        if np.ndim(x) != 2 or x.shape[1] != self.in_features:
            raise ValueError("{} expects input of shape (N, {}), got shape {}"
                             .format(self, self.in_features, np.shape(x)))
        self.input_cache = x
        z = x @ self.W.data.T
        if self.b is not None:
            z += self.b.data
        return z

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """grad: dL/dz, shape (N, M). Adds into W.grad (M, D) and b.grad (M,); returns dL/dx, shape (N, D).

        With z_nm = sum_d x_nd W_md + b_m, summed over the batch n:
            dL/dW = grad^T x,   dL/db = sum_n grad_n,   dL/dx = grad W.
        """
        x = self.input_cache
        # START TODO ################
        # Add (+=, do not overwrite) the gradients of W and, if there is a bias, of b into their .grad,
        # then return the gradient with respect to x. Matrix products over the whole batch, no loops.
        # Leave grad and x as they are (dL/dx is a new array): the caller may still use them.
        self.W.grad += grad.T @ x
        if self.b is not None:
            self.b.grad += grad.sum(axis=0)
        return grad @ self.W.data
        # END TODO ##################

    def parameters(self) -> List[Parameter]:
        return [self.W] if self.b is None else [self.W, self.b]


class Sequential(Module):
    """Chains modules: Sequential(f, g, h)(x) = h(g(f(x))).

    Example, a network with one hidden layer:
        model = Sequential(Linear(2, 10), ReLU(), Linear(10, 2))
    """

    def __init__(self, *modules: Module):
        super().__init__()
        for module in modules:
            if not isinstance(module, Module):
                raise TypeError("Sequential takes Module objects, got {}".format(type(module).__name__))
        self.modules = list(modules)

    def __repr__(self) -> str:
        return "Sequential({})".format(", ".join(repr(module) for module in self.modules))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: the input of the first module. Returns the output of the last."""
        for module in self.modules:
            x = module(x)
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """grad: dL/d(output of the last module). Returns dL/d(input of the first module)."""
        # START TODO ################
        # Send the gradient backwards through the modules, last module first: each module's backward()
        # returns the gradient for the module before it. Python's reversed() reverses a list.
        # Leave self.modules in its order: the next forward() goes through it first to last.
        # Call every module itself (not a copy), and let an error of its backward() reach your caller.
        for module in reversed(self.modules):
            grad = module.backward(grad)
        return grad
        # END TODO ##################

    def parameters(self) -> List[Parameter]:
        return [param for module in self.modules for param in module.parameters()]
