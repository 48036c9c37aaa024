"""Element-wise nonlinearities and the softmax.

Each backward() applies the chain rule: it multiplies the incoming gradient dL/dh by the
derivative dh/dz of its own function and returns dL/dz, with the same shape as z.
"""
import numpy as np
from scipy.special import expit, softmax

from lib.network_base import Module


class Sigmoid(Module):
    """h = sigmoid(z) = 1 / (1 + exp(-z)), element-wise. Worked example of a backward pass."""

    def forward(self, z: np.ndarray) -> np.ndarray:
        """z: any shape, e.g. (N, D). Returns h of the same shape."""
        # scipy's expit never overflows, even at z = -1000.
        h = expit(z)
        self.input_cache = h
        return h

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """grad: dL/dh, shape of z. Returns dL/dz = dL/dh * h * (1 - h), shape of z."""
        h = self.input_cache
        # The sigmoid's derivative is expressed through its output: dh/dz = h * (1 - h).
        return grad * h * (1 - h)


class ReLU(Module):
    """h = max(0, z), element-wise."""

    def forward(self, z: np.ndarray) -> np.ndarray:
        """z: any shape, e.g. (N, D). Returns h of the same shape."""
        h = np.maximum(z, 0)
        # Like Sigmoid, keep the output: h > 0 exactly where z > 0, and the next layer keeps h anyway,
        # so z can be freed (one activation array less in memory per ReLU).
        self.input_cache = h
        return h

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """grad: dL/dh, shape of z. Returns dL/dz, shape of z.

        dh/dz = 1 where z > 0 and 0 elsewhere (we take 0 at the kink z = 0, as PyTorch does).
        forward() cached h = max(0, z), which is > 0 exactly where z > 0.
        """
        h = self.input_cache
        # START TODO ################
        # Return dL/dz: the incoming gradient where z > 0 (that is, where h > 0), zero elsewhere.
        # Follow Sigmoid.backward. One vectorised line, no Python loop.
        # Change neither grad nor h in place: the caller may still use grad, and the next layer keeps h.
        # Return a new array each call: the caller may keep the result of an earlier call.
        return grad * (h > 0)
        # END TODO ##################


class Tanh(Module):
    """h = tanh(z), element-wise."""

    def forward(self, z: np.ndarray) -> np.ndarray:
        """z: any shape. Returns h of the same shape."""
        h = np.tanh(z)
        self.input_cache = h
        return h

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """grad: dL/dh. Returns dL/dz = dL/dh * (1 - h^2)."""
        h = self.input_cache
        return grad * (1 - h * h)


class Softmax(Module):
    """h_i = exp(z_i) / sum_j exp(z_j), over the last axis (the classes)."""

    def forward(self, z: np.ndarray) -> np.ndarray:
        """z: logits, shape (N, C). Returns probabilities h, shape (N, C), each row summing to 1."""
        # scipy shifts by the row maximum first, so logits of +-1000 do not overflow.
        h = softmax(z, axis=-1)
        self.input_cache = h
        return h

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """grad: dL/dh, shape (N, C). Returns dL/dz, shape (N, C).

        The Jacobian is dh_i/dz_j = h_i * (delta_ij - h_j), so the vector-Jacobian product is
            dL/dz_j = h_j * (dL/dh_j - sum_i dL/dh_i * h_i),
        computed without building the (N, C, C) Jacobian.
        """
        h = self.input_cache
        return h * (grad - np.sum(grad * h, axis=-1, keepdims=True))
