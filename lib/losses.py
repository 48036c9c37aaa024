"""Loss functions. Each forward() returns a float; each backward() returns dL/d(prediction).

A loss is the end of the chain, so its backward() needs no incoming gradient (dL/dL = 1);
it accepts one anyway, so that losses fit the Module interface and Module.check_gradients.
"""
import numpy as np
from scipy.special import log_softmax

from lib.network_base import Module
from lib.utilities import one_hot_encoding


def _check_same_shape(loss: Module, prediction: np.ndarray, target: np.ndarray) -> None:
    if np.shape(prediction) != np.shape(target):
        raise ValueError("{} expects prediction and target of the same shape, got {} and {}"
                         .format(loss, np.shape(prediction), np.shape(target)))


def _in_dtype_of(target: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """The target as an array of the prediction's float dtype.

    Otherwise float64 targets would turn the gradient of a float32 model into float64 (as PyTorch,
    the gradient keeps the dtype of what is differentiated). Non-float predictions leave it alone.
    """
    dtype = np.result_type(prediction)
    return np.asarray(target, dtype=dtype) if np.issubdtype(dtype, np.floating) else np.asarray(target)


class CrossEntropyLoss(Module):
    """Softmax followed by the mean cross-entropy, from logits (as PyTorch's CrossEntropyLoss).

        L = -1/N sum_n sum_c y_nc log softmax(z_n)_c

    Computing both in one module lets the gradient simplify to (softmax(z) - y) / N;
    celoss_derivation.pdf derives it.
    """

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> float:
        """logits: z, shape (N, C). targets: one-hot y, shape (N, C), or integer labels, shape (N,).

        Returns the mean cross-entropy over the batch, a float.
        """
        logits = np.asarray(logits)
        if logits.ndim != 2:
            raise ValueError("CrossEntropyLoss expects logits of shape (N, C), got shape {}".format(np.shape(logits)))
        n, num_classes = logits.shape
        targets = np.asarray(targets)
        if targets.shape == (n,):
            targets = one_hot_encoding(targets, num_classes, dtype=logits.dtype)
        elif targets.shape != logits.shape:
            raise ValueError("CrossEntropyLoss expects targets of shape ({0}, {1}) (one-hot) or ({0},) (labels), "
                             "got shape {2}".format(n, num_classes, targets.shape))
        # log_softmax subtracts the row maximum first, so logits of +-1000 stay finite.
        log_probabilities = log_softmax(logits, axis=1)
        targets = _in_dtype_of(targets, log_probabilities)
        self.input_cache = (np.exp(log_probabilities), targets)
        return float(-np.sum(targets * log_probabilities) / n)

    def backward(self, grad=None) -> np.ndarray:
        """Returns dL/dz = (softmax(z) - y) / N, shape (N, C)."""
        probabilities, targets = self.input_cache
        # START TODO ################
        # forward() cached softmax(z) and the one-hot targets y, both of shape (N, C).
        # Return the gradient of the mean cross-entropy with respect to the logits z
        # (celoss_derivation.pdf derives it). Remember the mean: divide by the batch size N.
        # Leave the cached arrays as they are: backward() may be called again after the same forward().
        return (probabilities - targets) / len(probabilities)
        # END TODO ##################


class L1Loss(Module):
    """Mean absolute error: L = mean(|prediction - target|) over all elements."""

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        """prediction, target: the same shape. Returns a float."""
        _check_same_shape(self, prediction, target)
        difference = prediction - _in_dtype_of(target, prediction)
        self.input_cache = difference
        return float(np.mean(np.abs(difference)))

    def backward(self, grad=None) -> np.ndarray:
        """Returns dL/d(prediction) = sign(prediction - target) / size, shape of prediction.

        |d| has no derivative at d = 0; we take 0 there, as PyTorch does.
        """
        difference = self.input_cache
        return np.sign(difference) / difference.size


class MSELoss(Module):
    """Mean squared error: L = mean((prediction - target)^2) over all elements."""

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        """prediction, target: the same shape. Returns a float."""
        _check_same_shape(self, prediction, target)
        difference = prediction - _in_dtype_of(target, prediction)
        self.input_cache = difference
        return float(np.mean(difference ** 2))

    def backward(self, grad=None) -> np.ndarray:
        """Returns dL/d(prediction) = 2 (prediction - target) / size, shape of prediction."""
        difference = self.input_cache
        return 2 * difference / difference.size


class BCELoss(Module):
    """Binary cross-entropy on probabilities p (e.g. the output of a Sigmoid):

        L = -mean(y log p + (1 - y) log(1 - p)) over all elements.

    p is clipped into [eps, 1 - eps] (eps the dtype's machine epsilon), so p = 0 or p = 1 gives a
    large but finite loss and gradient instead of inf and nan.
    """

    def forward(self, probabilities: np.ndarray, targets: np.ndarray) -> float:
        """probabilities: p in [0, 1]; targets: y in [0, 1], the same shape. Returns a float."""
        _check_same_shape(self, probabilities, targets)
        p = np.asarray(probabilities)
        eps = np.finfo(p.dtype if np.issubdtype(p.dtype, np.floating) else np.float64).eps
        p = np.clip(p, eps, 1 - eps)
        targets = _in_dtype_of(targets, p)
        self.input_cache = (p, targets)
        return float(-np.mean(targets * np.log(p) + (1 - targets) * np.log1p(-p)))

    def backward(self, grad=None) -> np.ndarray:
        """Returns dL/dp = (p - y) / (p (1 - p)) / size, shape of p."""
        p, targets = self.input_cache
        return (p - targets) / (p * (1 - p)) / p.size
