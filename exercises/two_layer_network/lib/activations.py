"""The network's two nonlinearities and their derivatives, element-wise on arrays of any shape.

Every function takes a float64 array z and returns a new float64 array of the same shape; none changes z.
"""
import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigmoid(z) = 1 / (1 + exp(-z)), element-wise. z: any shape. Returns an array of z's shape, in (0, 1)."""
    # START TODO ################
    # Return sigmoid(z) for every entry of z, vectorised (no Python loop), as a new float64 array.
    # It must stay finite and quiet for large |z|: for z = -1000, np.exp(-z) overflows (a RuntimeWarning and an
    # inf). Find a form of the formula that only ever takes exp of a number <= 0.
    e = np.exp(-np.abs(z))
    # For z >= 0 this is 1 / (1 + exp(-z)); for z < 0 the same fraction times exp(z) / exp(z).
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    # END TODO ##################


def relu(z: np.ndarray) -> np.ndarray:
    """relu(z) = max(0, z), element-wise. z: any shape. Returns an array of z's shape."""
    # START TODO ################
    # Return max(0, z) for every entry of z, vectorised, as a new float64 array (do not clip z in place).
    return np.maximum(z, 0.0)
    # END TODO ##################


def sigmoid_derivative(z: np.ndarray) -> np.ndarray:
    """d sigmoid(z) / dz, element-wise, at the input z (not at sigmoid(z)). Returns an array of z's shape."""
    # START TODO ################
    # Return the derivative of the sigmoid at every entry of z, as a new float64 array, vectorised.
    # Write it through sigmoid() itself (above); it must stay finite and quiet for z = +-1000 too.
    s = sigmoid(z)
    return s * (1.0 - s)
    # END TODO ##################


def relu_derivative(z: np.ndarray) -> np.ndarray:
    """d relu(z) / dz, element-wise: 1 where z > 0, 0 elsewhere (0 at the kink z = 0, as PyTorch takes it).

    z: any shape. Returns a float64 array of z's shape holding only 0.0 and 1.0.
    """
    # START TODO ################
    # Return 1.0 where z > 0 and 0.0 elsewhere (also at z = 0), as a new float64 array (not bool, not int).
    return (z > 0).astype(np.float64)
    # END TODO ##################
