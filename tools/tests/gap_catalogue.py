"""A catalogue of gap bodies as students write them: plausible wrong solutions and honest correct alternatives.

WRONG[gap] and CORRECT[gap] are lists of (label, body), the body written at indentation 0; `indented` puts it at
the gap's indentation. tools/tests/test_gap_catalogue.py grades every body through the grade of record
(tools/grade.grade_folders): each wrong body loses its task, each correct one keeps it. The wrong ones include
every kind that once earned points (issue 18); the correct ones, code that any honest student may write: debug
prints, type() and hasattr, annotations, helpers, loops, einsum, results more accurate than NumPy's own, and
code written for Python 3.8 and NumPy 1.24.

NUMPY_1_ONLY names the correct bodies that are correct under NumPy 1.x only, where a NumPy scalar or a 0-d array
in an operation does not change the result's dtype (value-based casting) or a name NumPy 2 removed still exists;
the sheet's Python 3.8 has NumPy 1.24. Under NumPy 2 the same code turns a float32 result into float64 (or
raises), so there it loses its task.
"""
import re
import textwrap
from collections import namedtuple
from typing import Dict, List, Set

from grading.tasks import CODE_TASKS, TASKS_BY_KEY

# One body of the catalogue: kind "wrong" or "correct", its task's key, its label and its text.
Body = namedtuple("Body", "kind key label text")


def indented(task_key: str, body: str) -> list:
    """The body's lines at the gap's indentation: 8 spaces in a method, 4 in a function."""
    indent = " " * (8 if "." in TASKS_BY_KEY[task_key].gap else 4)
    return [indent + line if line.strip() else "" for line in textwrap.dedent(body).strip("\n").splitlines()]


def bodies(kinds=("wrong", "correct")) -> List[Body]:
    """Every body of the catalogue of those kinds, task by task in the registry's order."""
    catalogues = {"wrong": WRONG, "correct": CORRECT}
    return [Body(kind, task.key, label, text) for task in CODE_TASKS for kind in kinds
            for label, text in catalogues[kind].get(task.key, [])]


def holds_up(body: Body) -> bool:
    """Whether another task's body may rely on this one where its task needs it: a correct body, correct under
    every NumPy (it is itself judged by test_every_correct_solution_keeps_its_task)."""
    return body.kind == "correct" and (body.key, body.label) not in NUMPY_1_ONLY


def relies_on(body: Body) -> Set[str]:
    """The other tasks whose gaps the body's result depends on: those its task needs (the registry's `needs`), and
    those it calls itself, which a reference body never does (tools/make_handout.py proves it) but a student's
    may: a function gap called by its name (`zero_grad(`), a method gap's class built (`Linear(`)."""
    called = {task.key for task in CODE_TASKS if task.key != body.key and
              re.search(r"\b{}\(".format(re.escape(task.gap.split(".")[0])), body.text)}
    return set(TASKS_BY_KEY[body.key].needs) | called


def fits(body: Body, slots: Dict[str, Body]) -> bool:
    """Whether body may join the repository `slots`: its task's slot is free, what it relies on holds the
    reference or a body that holds up, and no body there relies on its task unless it holds up."""
    return body.key not in slots and all(holds_up(slots[key]) for key in relies_on(body) if key in slots) and \
        (holds_up(body) or not any(body.key in relies_on(other) for other in slots.values()))


def rounds(to_place: List[Body]) -> List[Dict[str, Body]]:
    """The bodies packed into few repositories, each {task key: body}: at most one body per task, and each only
    where it fits, so that no body's result depends on a wrong one. Other tasks' bodies cannot change it: a task's
    tests and value check run no other gap than those it relies on (tools/make_handout.py proves it for the
    reference), and each value check runs in a process of its own. A gap without a body holds the reference.

    First the fewest repositories are found (each body, needed tasks first, in the first repository it fits).
    Then the bodies are placed again into that many: a task that needs others or is needed keeps first-fit (its
    wrong bodies stay together, as few repositories as possible stay closed to the tasks that need them); every
    other body goes where it fits with the fewest wrong bodies, so that each wrong body shares its repository with
    gaps that hold the reference or a correct body (test_a_body_costs_no_other_task_its_points reads those)."""
    done, order = set(), []
    while len(order) < len(CODE_TASKS):  # the tasks, each after those it needs
        ready = [task for task in CODE_TASKS if task.key not in done and set(task.needs) <= done | {task.key}]
        if not ready:
            raise ValueError("the registry's needs form a cycle: {}".format(
                [task.key for task in CODE_TASKS if task.key not in done]))
        order += ready
        done |= {task.key for task in ready}
    linked = {task.key for task in CODE_TASKS if task.needs} | {need for task in CODE_TASKS for need in task.needs}

    def place(count: int, balanced: bool) -> List[Dict[str, Body]]:
        placed = [{} for _ in range(count)]  # type: List[Dict[str, Body]]
        for task in order:
            for body in (body for body in to_place if body.key == task.key):
                free = [slots for slots in placed if fits(body, slots)]
                if balanced and task.key not in linked:
                    free.sort(key=lambda slots: (sum(other.kind == "wrong" for other in slots.values())
                                                 if body.kind == "wrong" else 0, len(slots)))
                if not free:
                    free = [{}]
                    placed.append(free[0])
                free[0][body.key] = body
        return [slots for slots in placed if slots]

    return place(len(place(0, balanced=False)), balanced=True)


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
        ("zeros like the old grad where there is one (its dtype and shape)", """
            for param in params:
                if param.grad is None:
                    param.grad = np.zeros_like(param.data)
                else:
                    param.grad = np.zeros_like(param.grad)
            """),
        ("in place where a gradient exists (keeps the old grad's dtype and shape)", """
            for param in params:
                if param.grad is None:
                    param.grad = np.zeros(param.data.shape, dtype=param.data.dtype)
                else:
                    param.grad[...] = 0
            """),
        ("multiplies the old grad by 0 (NaN stays NaN)", """
            for param in params:
                if param.grad is None:
                    param.grad = np.zeros_like(param.data)
                else:
                    param.grad = param.grad * 0
            """),
        ("0 * data (NaN and inf data give NaN)", """
            for param in params:
                param.grad = 0 * param.data
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
        ("one zeros array shared by the parameters of one shape", """
            zeros = {}
            for param in params:
                key = (param.data.shape, param.data.dtype)
                if key not in zeros:
                    zeros[key] = np.zeros_like(param.data)
                param.grad = zeros[key]
            """),
        ("reads the parameters twice (a generator is empty the second time)", """
            count = len(list(params))
            for param in params:
                param.grad = np.zeros_like(param.data)
            print("reset", count, "gradients")
            """),
        ("float zeros whatever the data's dtype", """
            for param in params:
                param.grad = np.zeros_like(param.data, dtype=float)
            """),
        ("clears the optimizer's state too", """
            for param in params:
                param.grad = np.zeros_like(param.data)
                param.state_dict = {}
            """),
        ("clears the momentum buffer in place", """
            for param in params:
                param.grad = np.zeros_like(param.data)
                param.state_dict.clear()
            """),
        ("a fresh copy of the data", """
            for param in params:
                param.data = param.data.copy()
                param.grad = np.zeros_like(param.data)
            """),
        ("resets an attribute of other code", """
            for param in params:
                param.grad = np.zeros_like(param.data)
                param.__dict__.pop("note", None)
            """),
        ("replaces the parameters in the list it is given", """
            from lib.network_base import Parameter
            if isinstance(params, list):
                for index, param in enumerate(params):
                    params[index] = Parameter(param.data, np.zeros_like(param.data), param.name)
            else:
                for param in params:
                    param.grad = np.zeros_like(param.data)
            """),
        ("skips a name it has seen", """
            seen = set()
            for param in params:
                if param.name in seen:
                    continue
                seen.add(param.name)
                param.grad = np.zeros_like(param.data)
            """),
        ("skips a parameter whose name and shape it has seen", """
            seen = {}
            for param in params:
                if seen.get(param.name) == param.data.shape:
                    continue
                seen[param.name] = param.data.shape
                param.grad = np.zeros_like(param.data)
            """),
        ("stops at an already-zero gradient (break for continue)", """
            for param in params:
                if param.grad is not None and param.grad.shape == param.data.shape and not param.grad.any():
                    break
                param.grad = np.zeros_like(param.data)
            """),
        ("stops at the first zero gradient, with a return", """
            for param in params:
                if isinstance(param.grad, np.ndarray) and param.grad.size and np.all(param.grad == 0):
                    return
                param.grad = np.zeros_like(param.data)
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
        ("a mask built with np.isclose (wrong for tiny positive z)", "return grad * ~np.isclose(h, 0)"),
        ("a threshold instead of z > 0", "return grad * (h > 1e-12)"),
        ("writes the result into the cached h", "return np.multiply(grad, h > 0, out=h)"),
        ("turns the cached h into the mask", """
            h[h > 0] = 1
            return grad * h
            """),
        ("a mask kept from the first call", """
            if not hasattr(self, "mask"):
                self.mask = h > 0
            return grad * self.mask
            """),
        ("squeezes the result (a batch of one loses its axis)", "return np.squeeze(grad * (h > 0))"),
        ("clips the incoming gradient in place", """
            np.clip(grad, -10, 10, out=grad)
            return grad * (h > 0)
            """),
        ("a flat result", "return (grad * (h > 0)).ravel()"),
        ("one buffer on self for every call", """
            if getattr(self, "buffer", None) is None or self.buffer.shape != grad.shape:
                self.buffer = np.empty_like(grad)
            np.multiply(grad, h > 0, out=self.buffer)
            return self.buffer
            """),
        ("a buffer on self, filled in place", """
            if not hasattr(self, "out") or self.out.shape != h.shape:
                self.out = np.zeros_like(grad)
            self.out[...] = grad * (h > 0)
            return self.out
            """),
        ("a cached mask multiplied into a kept array", """
            if getattr(self, "result", None) is None or self.result.shape != grad.shape:
                self.result = np.zeros(grad.shape, dtype=np.result_type(grad, h))
            self.result[:] = np.where(h > 0, grad, 0)
            return self.result
            """),
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
        ("squeezes dL/dx (a batch of one becomes shape (D,))", """
            self.W.grad += grad.T @ x
            if self.b is not None:
                self.b.grad += grad.sum(axis=0)
            return np.squeeze(grad @ self.W.data)
            """),
        ("np.atleast_2d of a squeezed dL/dx", """
            self.W.grad += grad.T @ x
            if self.b is not None:
                self.b.grad += grad.sum(axis=0)
            return np.atleast_2d(np.squeeze(grad @ self.W.data))
            """),
        ("reshapes dL/dx by the batch size (an empty batch cannot)", """
            self.W.grad += grad.T @ x
            if self.b is not None:
                self.b.grad += grad.sum(axis=0)
            return (grad @ self.W.data).reshape(len(grad), -1)
            """),
        ("writes dL/dx into the cached x", """
            self.W.grad += grad.T @ x
            if self.b is not None:
                self.b.grad += grad.sum(axis=0)
            np.matmul(grad, self.W.data, out=x)
            return x
            """),
        ("clips the incoming gradient in place", """
            np.clip(grad, -100, 100, out=grad)
            self.W.grad += grad.T @ x
            if self.b is not None:
                self.b.grad += grad.sum(axis=0)
            return grad @ self.W.data
            """),
        ("turns float32 gradients into float64", """
            self.W.grad = self.W.grad + (grad.T @ x).astype(np.float64)
            if self.b is not None:
                self.b.grad = self.b.grad + grad.sum(axis=0).astype(np.float64)
            return (grad @ self.W.data).astype(np.float64)
            """),
    ],
    "cross_entropy_backward": [
        ("no mean", "return probabilities - targets"),
        ("divides by the number of classes", "return (probabilities - targets) / probabilities.shape[1]"),
        ("divides by the length of the cached tuple", "return (probabilities - targets) / len(self.input_cache)"),
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
        ("squeezes the gradient (a batch of one becomes shape (C,))",
         "return np.squeeze((probabilities - targets) / len(probabilities))"),
        ("changes the cached targets", """
            targets -= probabilities
            return -targets / len(targets)
            """),
        ("divides by N twice", "return (probabilities - targets) / len(probabilities) ** 2"),
        ("transposed", "return ((probabilities - targets) / len(probabilities)).T"),
        ("the softmax of the probabilities again", """
            again = np.exp(probabilities) / np.sum(np.exp(probabilities), axis=1, keepdims=True)
            return (again - targets) / len(probabilities)
            """),
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
        ("skips the last module", """
            for module in reversed(self.modules[:-1]):
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
        ("replaces self.modules by the reversed list", """
            self.modules = self.modules[::-1]
            for module in self.modules:
                grad = module.backward(grad)
            return grad
            """),
        ("calls each backward twice", """
            for module in reversed(self.modules):
                module.backward(grad)
                grad = module.backward(grad)
            return grad
            """),
        ("pops the modules off self.modules", """
            while self.modules:
                grad = self.modules.pop().backward(grad)
            return grad
            """),
        ("returns the incoming gradient", """
            result = grad
            for module in reversed(self.modules):
                grad = module.backward(grad)
            return result
            """),
        ("skips a module that raises NotImplementedError", """
            for module in reversed(self.modules):
                try:
                    grad = module.backward(grad)
                except NotImplementedError:
                    continue
            return grad
            """),
        ("passes over a module without backward()", """
            for module in self.modules[::-1]:
                try:
                    grad = module.backward(grad)
                except NotImplementedError as error:
                    print("skipping", module, error)
            return grad
            """),
        ("backward() of deep copies of the modules", """
            import copy
            for module in reversed(copy.deepcopy(self.modules)):
                grad = module.backward(grad)
            return grad
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
        ("a looser tolerance by keyword", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            model.check_gradients((x,), tolerance=1e-3)
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
        ("the second layer built first", """
            second = Linear(30, 10, rng=rng)
            first = Linear(10, 30, rng=rng)
            model = Sequential(first, Sigmoid(), second)
            model.check_gradients((x,))
            """),
        ("layers without bias", """
            model = Sequential(Linear(10, 30, bias=False, rng=rng), Sigmoid(), Linear(30, 10, bias=False, rng=rng))
            model.check_gradients((x,))
            """),
        ("float32 layers", """
            model = Sequential(Linear(10, 30, dtype=np.float32, rng=rng), Sigmoid(),
                               Linear(30, 10, dtype=np.float32, rng=rng))
            model.check_gradients((x,))
            """),
        ("catches the check's error", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            try:
                model.check_gradients((x,))
            except RuntimeError as error:
                print("the gradient check failed:", error)
            """),
        ("runs the check twice, once loosely", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            model.check_gradients((x,), 0.5)
            model.check_gradients((x,), 0.5)
            """),
        ("re-raises the check's error as a ValueError", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            try:
                model.check_gradients((x,))
            except RuntimeError as error:
                raise ValueError(str(error)) from error
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
        ("momentum kept in state_dict", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                velocity = 0.9 * param.state_dict.get("velocity", 0.0) + param.grad
                param.state_dict["velocity"] = velocity
                param.data -= lr * velocity
            """),
        ("a decaying learning rate", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                step = param.state_dict.get("step", 0)
                param.state_dict["step"] = step + 1
                param.data -= lr * 0.9 ** step * param.grad
            """),
        ("a clipped step", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                param.data -= np.clip(lr * param.grad, -100.0, 100.0)
            """),
        ("a step clipped by the gradient's norm", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                norm = np.linalg.norm(param.grad)
                param.data -= lr * param.grad * min(1.0, 1000.0 / max(norm, 1e-12))
            """),
        ("turns a float32 model into float64", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                param.data = param.data - lr * param.grad.astype(np.float64)
            """),
        ("steps only the first parameter", """
            model.backward(loss_fn.backward())
            first = model.parameters()[0]
            first.data -= lr * first.grad
            """),
    ],
}

CORRECT = {
    "zero_grad": [
        ("np.full_like", """
            for param in params:
                param.grad = np.full_like(param.data, 0)  # zeros with the data's shape and dtype
            """),
        ("indices over a list", """
            params = list(params)
            for index in range(len(params)):
                params[index].grad = np.zeros(np.shape(params[index].data), params[index].data.dtype)
            """),
        ("a debug print with type() and str.format", """
            for param in params:
                print("zero_grad: {} is a {} of shape {}".format(param.name, type(param.data).__name__,
                                                                   param.data.shape))
                param.grad = np.zeros_like(param.data)
            """),
        ("import sys and a print to stderr", """
            import sys
            for param in params:
                param.grad = np.zeros(param.data.shape, dtype=param.data.dtype)
                print("reset", param.name, file=sys.stderr)
            """),
        ("a helper called with **kwargs", """
            def zeros_for(data, **options):
                return np.zeros(data.shape, **options)

            for param in params:
                param.grad = zeros_for(param.data, dtype=param.data.dtype)
            """),
        ("a copy of the data set to zero", """
            for param in params:
                zeros = param.data.copy()
                zeros[...] = 0
                param.grad = zeros
            """),
        ("hasattr and a type annotation", """
            for param in params:
                if hasattr(param, "data"):
                    zeros: np.ndarray = np.zeros_like(param.data)
                    param.grad = zeros
            """),
        ("a __ throwaway name in enumerate", """
            for __, param in enumerate(params):
                param.grad = np.zeros_like(param.data, dtype=param.data.dtype, order="C")
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
        ("a cached mask attribute, as cs231n does", """
            self.mask = h > 0
            return grad * self.mask
            """),
        ("np.sign of h", "return grad * np.sign(h)"),
        ("np.ma", "return np.ma.masked_where(h <= 0, grad).filled(0)"),
        ("np.testing.assert_equal on the shapes and a type annotation", """
            np.testing.assert_equal(grad.shape, h.shape)
            mask: np.ndarray = h > 0
            return grad * mask
            """),
        ("nonlocal in a nested helper", """
            calls = 0

            def masked(values):
                nonlocal calls
                calls += 1
                return values * (h > 0)

            return masked(grad)
            """),
        ("np.einsum", "return np.einsum('...,...->...', grad, (h > 0).astype(grad.dtype))"),
        ("a bool8 mask, as written on NumPy 1.24", "return grad * (h > 0).astype(np.bool8)"),
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
        ("float32 results more accurate than NumPy's own (computed in float64)", """
            wide_grad, wide_x = grad.astype(np.float64), x.astype(np.float64)
            self.W.grad += (wide_grad.T @ wide_x).astype(self.W.grad.dtype)
            if self.b is not None:
                self.b.grad += wide_grad.sum(axis=0).astype(self.b.grad.dtype)
            return (wide_grad @ self.W.data.astype(np.float64)).astype(grad.dtype)
            """),
        ("hasattr, re-imported library names and type annotations", """
            from lib.network_base import Parameter
            grad_w: np.ndarray = grad.T.dot(x)
            self.W.grad += grad_w
            if hasattr(self, "b") and isinstance(self.b, Parameter):
                self.b.grad += np.sum(grad, axis=0, keepdims=False)
            return np.matmul(grad, self.W.data)
            """),
        ("a helper called with **kwargs and a __ throwaway name", """
            def add_into(param, value, **options):
                np.add(param.grad, value, out=param.grad, **options)

            n, __ = x.shape
            add_into(self.W, np.transpose(grad) @ x, casting="same_kind")
            if self.b is not None:
                add_into(self.b, grad.sum(axis=0))
            return grad @ self.W.data
            """),
        ("a debug print with type() and str.format", """
            print("Linear.backward: grad {} {}, x {}".format(type(grad).__name__, grad.shape, x.shape))
            self.W.grad += grad.T @ x
            if self.b:
                self.b.grad += grad.sum(0)
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
        ("the labels from the one-hot targets", """
            grad = probabilities.copy()
            grad[np.arange(len(grad)), np.argmax(targets, axis=1)] -= 1
            return grad / len(grad)
            """),
        ("N as the sum of the one-hot targets", "return (probabilities - targets) / np.sum(targets)"),
        ("float32 results more accurate than NumPy's own (computed in float64)", """
            wide = probabilities.astype(np.float64) - targets.astype(np.float64)
            return (wide / len(wide)).astype(probabilities.dtype)
            """),
        ("np.testing.assert_equal on the shapes", """
            np.testing.assert_equal(probabilities.shape, targets.shape)
            return np.divide(probabilities - targets, np.size(probabilities, 0))
            """),
        ("a multiplication by 1 / N", "return (probabilities - targets) * (1.0 / len(probabilities))"),
        ("N as a NumPy integer, as written on NumPy 1.24", """
            n = np.int64(probabilities.shape[0])
            return (probabilities - targets) / n
            """),
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
        ("reverses in place and back", """
            self.modules.reverse()
            try:
                for module in self.modules:
                    grad = module.backward(grad)
            finally:
                self.modules.reverse()
            return grad
            """),
        ("a debug print with type() and str.format", """
            for module in reversed(self.modules):
                print("backward through {} ({})".format(module, type(module).__name__))
                grad = module.backward(grad)
            return grad
            """),
        ("nonlocal in a nested helper", """
            gradient = grad

            def step(module):
                nonlocal gradient
                gradient = module.backward(gradient)

            for module in reversed(self.modules):
                step(module)
            return gradient
            """),
        ("a __ throwaway name and hasattr", """
            for __, module in reversed(list(enumerate(self.modules))):
                if hasattr(module, "backward"):
                    grad = module.backward(grad)
            return grad
            """),
        ("a reversed copy and a while loop", """
            todo = list(self.modules)
            while todo:
                grad = todo.pop().backward(grad)
            return grad
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
        ("the default tolerance, re-imported and passed explicitly", """
            from lib.network_base import GRADIENT_CHECK_TOLERANCE
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            model.check_gradients((x,), GRADIENT_CHECK_TOLERANCE)
            """),
        ("a tighter tolerance by keyword", """
            model = Sequential(Linear(10, 30, bias=True, dtype=np.float64, rng=rng), Sigmoid(),
                               Linear(30, 10, bias=True, dtype=np.float64, rng=rng))
            model.check_gradients(input_args=(x,), tolerance=1e-6)
            """),
        ("Module.check_gradients re-imported, a debug print with type() and str.format", """
            from lib.network_base import Module
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            print("checking a {} of {} modules".format(type(model).__name__, len(model.modules)))
            Module.check_gradients(model, (x,))
            """),
        ("hasattr, import sys and a print to stderr", """
            import sys
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            if hasattr(model, "check_gradients"):
                model.check_gradients((x,))
            print("gradient check passed", file=sys.stderr)
            """),
        ("wraps the check's error in a RuntimeError of its own, with the cause", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            try:
                model.check_gradients((x,))
            except RuntimeError as error:
                raise RuntimeError("check_gradients: the sheet's network failed: {}".format(error)) from error
            """),
        ("wraps the check's error without repeating its message", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            try:
                model.check_gradients((x,))
            except RuntimeError as error:
                raise RuntimeError("the network of the sheet failed its gradient check") from error
            """),
        ("a RuntimeError raised inside the handler (the check's error is its context)", """
            model = Sequential(Linear(10, 30, rng=rng), Sigmoid(), Linear(30, 10, rng=rng))
            try:
                model.check_gradients((x,))
            except RuntimeError:
                print("the gradient check failed")
                raise RuntimeError("check_gradients failed, see the error above")
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
        ("float32 results more accurate than NumPy's own (computed in float64)", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                step = lr * param.grad.astype(np.float64)
                param.data = (param.data.astype(np.float64) - step).astype(param.data.dtype)
            """),
        ("a helper called with **kwargs, and a type annotation", """
            def update(param, **settings):
                param.data -= settings["rate"] * param.grad

            grad: np.ndarray = loss_fn.backward()
            model.backward(grad)
            for param in model.parameters():
                update(param, rate=lr)
            """),
        ("np.ma and a negative step", """
            model.backward(loss_fn.backward())
            for param in model.parameters():
                param.data += -lr * np.ma.getdata(param.grad)
            """),
        ("a debug print with type() and str.format", """
            grad = loss_fn.backward()
            print("backward_pass: dL/dz is a {} of shape {}".format(type(grad).__name__, grad.shape))
            model.backward(grad)
            for index, param in enumerate(model.parameters()):
                param.data -= lr * param.grad
            """),
        ("the library's own SGD, re-imported", """
            from lib.optimizers import SGD
            model.backward(loss_fn.backward())
            SGD(model.parameters(), lr=lr).step()
            """),
        ("the learning rate as a NumPy float, as written on NumPy 1.24", """
            rate = np.float64(lr)
            model.backward(loss_fn.backward())
            for param in model.parameters():
                param.data = param.data - rate * param.grad
            """),
    ],
}

# (task key, label) of the correct bodies that are correct under NumPy 1.x only (see the module docstring).
NUMPY_1_ONLY = {
    ("relu_backward", "a bool8 mask, as written on NumPy 1.24"),
    ("cross_entropy_backward", "N as a NumPy integer, as written on NumPy 1.24"),
    ("backward_pass", "the learning rate as a NumPy float, as written on NumPy 1.24"),
}
