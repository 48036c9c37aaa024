"""The two building blocks of every network: Parameter and Module."""
from typing import Callable, List, Optional, Tuple

import numpy as np

# check_grad uses forward differences with a step of about 1.5e-8, so a correct float64 gradient
# disagrees with it by roughly 1e-7 relative to its size; a wrong one by order 1.
GRADIENT_CHECK_TOLERANCE = 1e-5


class Parameter:
    """A trainable array together with the gradient of the loss with respect to it.

    Attributes:
        data: the values, any shape.
        grad: dL/d(data), same shape as data; backward passes ADD into it.
        name: a label for messages, e.g. "W".
        state_dict: room for extra per-parameter state, e.g. an optimizer's velocity.
    """

    def __init__(self, data: np.ndarray, grad: Optional[np.ndarray] = None, name: Optional[str] = None):
        self.data = data
        self.grad = grad
        self.name = name
        self.state_dict = {}

    def __repr__(self) -> str:
        return "Parameter(name={!r}, shape={})".format(self.name, np.shape(self.data))


class Module:
    """The base class of every layer, activation and loss.

    A module computes out = f(x) in forward() and, given dL/d(out) from the module after it,
    returns dL/dx in backward() (the chain rule). Modules with parameters also ADD dL/d(param)
    into each param.grad, so that gradients from several backward passes accumulate.
    """

    def __init__(self):
        # forward() stores what backward() needs here, e.g. the input x.
        self.input_cache = None

    def __call__(self, *args) -> np.ndarray:
        return self.forward(*args)

    def __repr__(self) -> str:
        return type(self).__name__ + "()"

    def forward(self, *args) -> np.ndarray:
        """Compute the output of the module from its inputs (the first is the one we differentiate)."""
        raise NotImplementedError("{} has no forward()".format(type(self).__name__))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """Given dL/d(output), add into each parameter's .grad and return dL/d(first input)."""
        raise NotImplementedError("{} has no backward()".format(type(self).__name__))

    def parameters(self) -> List[Parameter]:
        """Return the trainable parameters of this module (none by default)."""
        return []

    def check_gradients(self, input_args: Tuple[np.ndarray, ...],
                        tolerance: float = GRADIENT_CHECK_TOLERANCE) -> None:
        """Compare backward() with finite differences of forward().

        The scalar being differentiated is sum(forward(*input_args)), so the gradient fed into
        backward() is an array of ones. The input (the first argument) and every parameter are
        checked with scipy.optimize.check_grad. The error is relative:
            ||backward - finite differences|| / max(1, ||backward||).

        Returns None when all gradients agree; raises RuntimeError naming the first that does not.
        Parameter values are restored afterwards; every parameter's .grad is left at zero.
        """
        if not isinstance(input_args, tuple):
            raise TypeError("check_gradients expects a tuple of inputs such as (x,), got {}"
                            .format(type(input_args).__name__))
        x = np.asarray(input_args[0], dtype=np.float64)
        rest = input_args[1:]

        def loss_given_input(flat_x: np.ndarray) -> float:
            return float(np.sum(self.forward(flat_x.reshape(x.shape), *rest)))

        def grad_given_input(flat_x: np.ndarray) -> np.ndarray:
            self._reset_grads()
            out = self.forward(flat_x.reshape(x.shape), *rest)
            return np.ravel(self.backward(np.ones_like(out)))

        self._compare_gradients("the input", loss_given_input, grad_given_input, x.ravel(), tolerance)

        all_args = (x,) + rest
        for index, param in enumerate(self.parameters()):
            original = param.data

            def loss_given_param(flat_p: np.ndarray) -> float:
                param.data = flat_p.reshape(original.shape)
                return float(np.sum(self.forward(*all_args)))

            def grad_given_param(flat_p: np.ndarray) -> np.ndarray:
                self._reset_grads()
                param.data = flat_p.reshape(original.shape)
                self.backward(np.ones_like(self.forward(*all_args)))
                return np.ravel(param.grad).copy()

            label = "parameter {} ({!r}, shape {})".format(index, param.name, original.shape)
            try:
                self._compare_gradients(label, loss_given_param, grad_given_param,
                                        original.astype(np.float64).ravel(), tolerance)
            finally:
                param.data = original
        self._reset_grads()

    def _compare_gradients(self, what: str, func: Callable, grad: Callable, x0: np.ndarray,
                           tolerance: float) -> None:
        import scipy.optimize  # here: most runs never check a gradient, and it is the slowest import of lib/

        error = scipy.optimize.check_grad(func, grad, x0)
        relative_error = error / max(1.0, float(np.linalg.norm(grad(x0))))
        if not relative_error <= tolerance:
            raise RuntimeError("Gradient check of {} failed for {}: relative error {:.3e} > tolerance {:.1e}"
                               .format(self, what, relative_error, tolerance))

    def _reset_grads(self) -> None:
        # Deliberately not lib.gradient_utilities.zero_grad: the check must work before that gap is filled. The
        # data are finite wherever the check goes on (it fails on NaN or inf), so 0 * data is zeros of their dtype.
        for param in self.parameters():
            param.grad = 0 * param.data
