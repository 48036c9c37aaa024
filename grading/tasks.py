"""The task registry: the one place that lists every task of exercise 3, what grades it and its points.

Each code task is one TODO gap: `gap` is the qualified name of the function whose body sits between
`# START TODO` and `# END TODO` in `file`. A code task is graded twice over, and earns its points only when both
agree:
- by its tests, which carry the task's pytest marker (`python -m pytest -m relu_backward` runs exactly the tests
  of one task); they are the student's feedback;
- by its value check (grading/checks.py, registered here with `@value_check(key)`): the gap run on inputs drawn
  anew for every grading run, its outputs compared by the grader, in its own process, with the reference
  solution's. That comparison is the grade of record's guarantee: no outcome a test process reports can move it.

`needs`: the other code tasks whose gaps the task's tests and value check use (tools/make_handout.py proves that
they use no other). Every count, total and table of the exercise is computed from TASKS.
"""
from collections import namedtuple

# kind: "code" (tests and a value check), "bonus" (a check of the files), "tutor" (graded by hand).
Task = namedtuple("Task", "key number title points kind gap file needs")

TASKS = (
    Task("zero_grad", 1, "zero_grad", 1, "code", "zero_grad", "lib/gradient_utilities.py", ()),
    Task("relu_backward", 2, "ReLU.backward", 1, "code", "ReLU.backward", "lib/activations.py", ()),
    Task("linear_backward", 3, "Linear.backward", 2, "code", "Linear.backward", "lib/network.py", ()),
    Task("cross_entropy_backward", 4, "CrossEntropyLoss.backward", 2, "code", "CrossEntropyLoss.backward",
         "lib/losses.py", ()),
    Task("sequential_backward", 5, "Sequential.backward", 1, "code", "Sequential.backward", "lib/network.py", ()),
    Task("check_gradients", 6, "check_gradients", 1, "code", "check_gradients", "lib/gradient_utilities.py",
         ("linear_backward", "sequential_backward")),
    Task("backward_pass", 7, "backward_pass", 1, "code", "backward_pass", "lib/experiments.py", ()),
    Task("code_style", None, "Code style (pycodestyle)", 1, "bonus", None, None, ()),
    Task("feedback", None, "Feedback (feedback.md filled in)", 1, "bonus", None, None, ()),
    Task("pen_and_paper", None, "Pen and paper (submission.pdf)", 5, "tutor", None, None, ()),
    Task("questions", None, "Questions on the experiments (submission.pdf)", 2, "tutor", None, None, ()),
)

TASKS_BY_KEY = {task.key: task for task in TASKS}
CODE_TASKS = tuple(task for task in TASKS if task.kind == "code")
TASK_BY_GAP = {task.gap: task for task in CODE_TASKS}

# {task key: function(rng) -> {output name: value}}, filled by grading/checks.py when it is imported.
VALUE_CHECKS = {}
# What registering the value checks found wrong (a check of a task this registry does not have, a second check):
# tools/make_handout.py and the grader refuse to go on while it holds anything, naming each.
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
    """E.g. 'Linear.backward (TODO gap 3 in lib/network.py)'."""
    return "{} (TODO gap {} in {})".format(task.gap, task.number, task.file)


def total(kind: str) -> int:
    """The points of all tasks of one kind: "code", "bonus" or "tutor"."""
    return sum(task.points for task in TASKS if task.kind == kind)
