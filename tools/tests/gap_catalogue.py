"""A catalogue of gap bodies as students write them: plausible wrong solutions and correct alternatives.

WRONG[gap] and CORRECT[gap] are lists of (label, body), the body written at indentation 0; `indented` puts it at
the gap's indentation. tools/tests/test_gap_catalogue.py checks that every wrong body loses its task's points and
every correct one keeps them; tools/tests/test_grade_policy.py checks that all of them pass the grader's policy
(they are honest code, right or wrong) and grades the correct ones through tools/grade.py.
"""
import textwrap

from grading.tasks import TASKS_BY_KEY


def indented(task_key: str, body: str) -> list:
    """The body's lines at the gap's indentation: 8 spaces in a method, 4 in a function."""
    indent = " " * (8 if "." in TASKS_BY_KEY[task_key].gap else 4)
    return [indent + line if line.strip() else "" for line in textwrap.dedent(body).strip("\n").splitlines()]


WRONG = {
    "zero_grad": [
        ("float64 zeros for every parameter", """
            for param in params:
                param.grad = np.zeros(param.data.shape)
            """),
        ("the grad is the data itself", """
            for param in params:
                param.grad = param.data
            """),
        ("zeroes in place, fails for a grad that is None", """
            for param in params:
                param.grad[...] = 0
            """),
        ("zeroes the data instead", """
            for param in params:
                param.data = np.zeros_like(param.data)
            """),
        ("a scalar zero", """
            for param in params:
                param.grad = 0
            """),
        ("sets the grad to None", """
            for param in params:
                param.grad = None
            """),
        ("zeros like the old grad", """
            for param in params:
                param.grad = np.zeros_like(param.grad)
            """),
        ("only the first parameter", """
            first = next(iter(params))
            first.grad = np.zeros_like(first.data)
            """),
        ("the wrong shape", """
            for param in params:
                param.grad = np.zeros(len(param.data))
            """),
        ("grad and data the same zero array", """
            for param in params:
                param.grad = np.zeros_like(param.data)
                param.data = param.grad
            """),
    ],
    "relu_backward": [
        ("forgets the mask", "return grad"),
        ("passes the gradient at the kink", "return grad * (h >= 0)"),
        ("the derivative alone", "return (h > 0) * 1.0"),
        ("multiplies by h", "return grad * h"),
        ("changes its argument in place", """
            grad[h <= 0] = 0
            return grad
            """),
        ("works for 2-D input only", "return np.where(h[:, :] > 0, grad, 0.0)"),
        ("ReLU of the gradient", "return np.maximum(grad, 0)"),
        ("turns float32 into float64", "return grad * (h > 0).astype(np.float64)"),
        ("sums over the batch", "return np.sum(grad * (h > 0), axis=0)"),
    ],
    "linear_backward": [
        ("overwrites instead of adding", """
            self.W.grad = grad.T @ x
            if self.b is not None:
                self.b.grad = grad.sum(axis=0)
            return grad @ self.W.data
            """),
        ("x^T grad for W.grad", """
            self.W.grad += x.T @ grad
            if self.b is not None:
                self.b.grad += grad.sum(axis=0)
            return grad @ self.W.data
            """),
        ("bias summed over the wrong axis", """
            self.W.grad += grad.T @ x
            if self.b is not None:
                self.b.grad += grad.sum(axis=1)
            return grad @ self.W.data
            """),
        ("no bias gradient", """
            self.W.grad += grad.T @ x
            return grad @ self.W.data
            """),
        ("divides by the batch size", """
            self.W.grad += grad.T @ x / len(x)
            if self.b is not None:
                self.b.grad += grad.sum(axis=0) / len(x)
            return grad @ self.W.data
            """),
        ("W transposed in dL/dx", """
            self.W.grad += grad.T @ x
            if self.b is not None:
                self.b.grad += grad.sum(axis=0)
            return grad @ self.W.data.T
            """),
        ("forgets that b may be None", """
            self.W.grad += grad.T @ x
            self.b.grad += grad.sum(axis=0)
            return grad @ self.W.data
            """),
        ("returns x", """
            self.W.grad += grad.T @ x
            if self.b is not None:
                self.b.grad += grad.sum(axis=0)
            return x
            """),
        ("the mean for the bias", """
            self.W.grad += grad.T @ x
            if self.b is not None:
                self.b.grad += grad.mean(axis=0)
            return grad @ self.W.data
            """),
        ("W.grad instead of W.data in dL/dx", """
            self.W.grad += grad.T @ x
            if self.b is not None:
                self.b.grad += grad.sum(axis=0)
            return grad @ self.W.grad
            """),
    ],
    "cross_entropy_backward": [
        ("no mean", "return probabilities - targets"),
        ("divides by the number of classes", "return (probabilities - targets) / probabilities.shape[1]"),
        ("changes the cached probabilities", """
            probabilities -= targets
            return probabilities / len(probabilities)
            """),
        ("the opposite sign", "return (targets - probabilities) / len(probabilities)"),
        ("forgets the targets", "return probabilities / len(probabilities)"),
        ("divides by the number of entries", "return (probabilities - targets) / probabilities.size"),
        ("the mean over the batch axis", "return (probabilities - targets).mean(axis=0)"),
        ("the log of the probabilities", "return (np.log(probabilities) - targets) / len(probabilities)"),
        ("turns float32 into float64", "return ((probabilities - targets) / len(probabilities)).astype(np.float64)"),
    ],
    "sequential_backward": [
        ("the modules in forward order", """
            for module in self.modules:
                grad = module.backward(grad)
            return grad
            """),
        ("reverses self.modules in place", """
            self.modules.reverse()
            for module in self.modules:
                grad = module.backward(grad)
            return grad
            """),
        ("does not pass the gradient on", """
            for module in reversed(self.modules):
                module.backward(grad)
            return grad
            """),
        ("no return", """
            for module in reversed(self.modules):
                grad = module.backward(grad)
            """),
        ("the last module only", "return self.modules[-1].backward(grad)"),
        ("skips the first module", """
            for module in reversed(self.modules[1:]):
                grad = module.backward(grad)
            return grad
            """),
        ("returns inside the loop", """
            for module in reversed(self.modules):
                grad = module.backward(grad)
                return grad
            """),
        ("adds the gradients of all modules", """
            total = grad
            for module in reversed(self.modules):
                total = total + module.backward(grad)
            return total
            """),
    ],
    "check_gradients": [
        ("no rng for the layers", """
            model = Sequential(Linear(10, 30), Sigmoid(), Linear(30, 10))
            model.check_gradients((x,))
            """),
        ("a fresh rng per layer", """
            model = Sequential(Linear(10, 30, rng=np.random.default_rng(0)), Sigmoid(),
                               Linear(30, 10, rng=np.random.default_rng(0)))
            model.check_gradients((x,))
            """),
        ("rng made anew inside the gap", """
            rng = np.random.default_rng(0)
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            model.check_gradients((x,))
            """),
        ("a looser tolerance", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            model.check_gradients((x,), 1.0)
            """),
        ("x instead of the tuple (x,)", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            model.check_gradients(x)
            """),
        ("never runs the check", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            """),
        ("a new input", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            model.check_gradients((rng.uniform(-1.0, 1.0, size=(2, 10)),))
            """),
        ("the layers the other way round", """
            model = Sequential(Linear(30, 10, rng=rng), Sigmoid(), Linear(10, 30, rng=rng))
            model.check_gradients((x,))
            """),
        ("no Sigmoid", """
            model = Sequential(Linear(10, 30, rng=rng), Linear(30, 10, rng=rng))
            model.check_gradients((x,))
            """),
        ("checks each layer, not the network", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            model.modules[0].check_gradients((x,))
            """),
    ],
    "backward_pass": [
        ("updates before the backward pass", """
            for param in model.parameters():
                param.data -= lr * param.grad
            model.backward(loss_fn.backward())
            """),
        ("rebinds the loop variable", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                data = param.data
                data = data - lr * param.grad
            """),
        ("steps uphill", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                param.data += lr * param.grad
            """),
        ("forgets the learning rate", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                param.data -= param.grad
            """),
        ("no model.backward", """
            loss_fn.backward()
            for param in model.parameters():
                param.data -= lr * param.grad
            """),
        ("calls loss_fn.backward twice", """
            model.backward(loss_fn.backward())
            grad = loss_fn.backward()
            for param in model.parameters():
                param.data -= lr * param.grad
            """),
        ("steps with the data instead of the gradient", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                param.data -= lr * param.data
            """),
        ("resets the gradients before the step", """
            model.backward(loss_fn.backward())
            zero_grad(model.parameters())
            for param in model.parameters():
                param.data -= lr * param.grad
            """),
        ("updates the gradient, not the data", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                param.grad -= lr * param.grad
            """),
    ],
}

CORRECT = {
    "zero_grad": [
        ("np.full_like", """
            for param in params:
                param.grad = np.full_like(param.data, 0)  # zeros with the data's shape and dtype
            """),
        ("in place where a gradient exists", """
            for param in params:
                if param.grad is None:
                    param.grad = np.zeros(param.data.shape, dtype=param.data.dtype)
                else:
                    param.grad[...] = 0
            """),
        ("indices over a list", """
            params = list(params)
            for index in range(len(params)):
                params[index].grad = np.zeros(np.shape(params[index].data), params[index].data.dtype)
            """),
    ],
    "relu_backward": [
        ("np.where", "return np.where(h > 0, grad, 0)"),
        ("a mask of the gradient's dtype", """
            mask = (h > 0).astype(grad.dtype)
            return grad * mask
            """),
        ("a copy with zeros", """
            out = grad.copy()
            out[h <= 0] = 0
            return out
            """),
        ("np.heaviside", "return np.multiply(grad, np.heaviside(h, 0))"),
    ],
    "linear_backward": [
        ("np.einsum", """
            self.W.grad += np.einsum("nm,nd->md", grad, x)
            if self.b is not None:
                self.b.grad += np.einsum("nm->m", grad)
            return np.einsum("nm,md->nd", grad, self.W.data)
            """),
        ("np.dot and a new array", """
            self.W.grad = self.W.grad + np.dot(grad.T, x)
            if self.b is not None:
                self.b.grad = self.b.grad + np.sum(grad, axis=0)
            return np.dot(grad, self.W.data)
            """),
        ("a loop over samples (against the sheet's rules, but correct)", """
            for n in range(len(x)):
                self.W.grad += np.outer(grad[n], x[n])
                if self.b is not None:
                    self.b.grad += grad[n]
            return grad @ self.W.data
            """),
    ],
    "cross_entropy_backward": [
        ("N from the shape", """
            n = probabilities.shape[0]  # the batch size
            return (probabilities - targets) / n
            """),
        ("in place on a copy", """
            grad = probabilities.copy()
            grad -= targets
            grad /= len(grad)
            return grad
            """),
        ("np.subtract", "return np.subtract(probabilities, targets) / targets.shape[0]"),
    ],
    "sequential_backward": [
        ("a slice", """
            for module in self.modules[::-1]:
                grad = module.backward(grad)
            return grad
            """),
        ("indices", """
            for index in range(len(self.modules) - 1, -1, -1):
                grad = self.modules[index].backward(grad)
            return grad
            """),
        ("functools.reduce", """
            import functools
            return functools.reduce(lambda g, module: module.backward(g), reversed(self.modules), grad)
            """),
    ],
    "check_gradients": [
        ("a list of layers", """
            layers = [Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng)]
            model = Sequential(*layers)
            model.check_gradients((x,))
            """),
        ("named layers", """
            first = Linear(10, 30, rng=rng)
            second = Linear(30, 10, rng=rng)
            model = Sequential(first, Sigmoid(), second)
            model.check_gradients(tuple([x]))
            """),
        ("a comment and a print", """
            # The sheet's network: Linear(10, 30) -> Sigmoid -> Linear(30, 10).
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))

            print("checking", model)
            model.check_gradients((x,))
            """),
    ],
    "backward_pass": [
        ("a new array for the data", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                param.data = param.data - lr * param.grad
            """),
        ("np.subtract with out", """
            gradient = loss_fn.backward()
            model.backward(gradient)
            for param in model.parameters():
                np.subtract(param.data, lr * param.grad, out=param.data)
            """),
        ("zero_grad first", """
            zero_grad(model.parameters())
            model.backward(loss_fn.backward())
            for param in model.parameters():
                param.data -= lr * param.grad
            """),
    ],
}
