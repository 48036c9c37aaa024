"""The task registry: the one place that lists every task of the two-layer network exercise, what grades it and
its points. Its format is exercise 3's (grading/tasks.py at the repository's root), so the same kit can read it.

Each code task is one TODO gap: `gap` is the qualified name of the function whose body sits between
`# START TODO` and `# END TODO` in `file`. A code task is graded by its tests, which carry the task's pytest
marker (`python -m pytest -m grad_f` runs exactly the tests of one task), and by its value check
(grading/checks.py, registered here with `@value_check(key)`): the gap run on inputs drawn from a random
generator, its outputs to be compared with the reference solution's.

`needs`: the other code tasks whose gaps the task's tests and value check use. Here every one is (): where a
task's code calls another gap (grad_f calls sigmoid, the training loops call grad_f), the tests and the value
checks put a stand-in of tests/helpers.py in its place.

The sheet gives no points; these are ours (README.md explains them).
"""
from collections import namedtuple

# kind: "code" (tests and a value check), "bonus" (a check of the files), "tutor" (graded by hand).
Task = namedtuple("Task", "key number title points kind gap file needs")

TASKS = (
    Task("sigmoid", 1, "sigmoid", 1, "code", "sigmoid", "lib/activations.py", ()),
    Task("relu", 2, "relu", 1, "code", "relu", "lib/activations.py", ()),
    Task("sigmoid_derivative", 3, "sigmoid_derivative", 1, "code", "sigmoid_derivative", "lib/activations.py", ()),
    Task("relu_derivative", 4, "relu_derivative", 1, "code", "relu_derivative", "lib/activations.py", ()),
    Task("grad_f", 5, "grad_f (B)", 4, "code", "grad_f", "lib/network.py", ()),
    Task("gd_step", 6, "gd_step (D)", 1, "code", "gd_step", "lib/optimizers.py", ()),
    Task("momentum_step", 7, "momentum_step (E)", 2, "code", "momentum_step", "lib/optimizers.py", ()),
    Task("decision_grid", 8, "decision_grid (F)", 2, "code", "decision_grid", "lib/boundary.py", ()),
    Task("derivation", None, "(A) The gradients, derived (submission.pdf)", 5, "tutor", None, None, ()),
    Task("comparison", None, "(E) Gradient descent and momentum compared (submission.pdf)", 2, "tutor", None, None,
         ()),
)

TASKS_BY_KEY = {task.key: task for task in TASKS}
CODE_TASKS = tuple(task for task in TASKS if task.kind == "code")
TASK_BY_GAP = {task.gap: task for task in CODE_TASKS}

# {task key: function(rng) -> {output name: value}}, filled by grading/checks.py when it is imported.
VALUE_CHECKS = {}
# What registering the value checks found wrong (a check of a task this registry does not have, a second check).
REGISTRY_PROBLEMS = []


def value_check(key: str):
    """Register the decorated function as the value check of the code task `key`."""

    def register(function):
        if key not in TASKS_BY_KEY or TASKS_BY_KEY[key].kind != "code":
            REGISTRY_PROBLEMS.append("grading/checks.py: {} is registered with @value_check({!r}), but "
                                     "grading/tasks.py has no code task {!r}: add its row to TASKS".format(
                                         function.__name__, key, key))
        elif key in VALUE_CHECKS:
            REGISTRY_PROBLEMS.append("grading/checks.py: a second value check for task {!r}: {}".format(
                key, function.__name__))
        else:
            VALUE_CHECKS[key] = function
        return function

    return register


def gap_label(task: Task) -> str:
    """E.g. 'grad_f (TODO gap 5 in lib/network.py)'."""
    return "{} (TODO gap {} in {})".format(task.gap, task.number, task.file)


def total(kind: str) -> int:
    """The points of all tasks of one kind: "code", "bonus" or "tutor"."""
    return sum(task.points for task in TASKS if task.kind == kind)
