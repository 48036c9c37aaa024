"""The points table: the one place that lists every task of exercise 3, what grades it and its points.

Code tasks are graded by the tests that carry the task's pytest marker, e.g. `@pytest.mark.relu_backward`,
so `python -m pytest -m relu_backward` runs exactly the tests of one task. A code task earns its points
only when all of its tests pass (no partial credit: its tests look at the same function from different
angles, and a function that fails one of them is still wrong).

Each code task is one TODO gap: `gap` is the function whose body sits between `# START TODO` and
`# END TODO` in `file`.
"""
from collections import namedtuple

# kind: "code" (graded by tests), "bonus" (graded by a check when the tests run), "tutor" (graded by hand).
Task = namedtuple("Task", "key number title points kind gap file")

TASKS = (
    Task("zero_grad", 1, "zero_grad", 1, "code", "zero_grad", "lib/gradient_utilities.py"),
    Task("relu_backward", 2, "ReLU.backward", 1, "code", "ReLU.backward", "lib/activations.py"),
    Task("linear_backward", 3, "Linear.backward", 2, "code", "Linear.backward", "lib/network.py"),
    Task("cross_entropy_backward", 4, "CrossEntropyLoss.backward", 2, "code", "CrossEntropyLoss.backward",
         "lib/losses.py"),
    Task("sequential_backward", 5, "Sequential.backward", 1, "code", "Sequential.backward", "lib/network.py"),
    Task("check_gradients", 6, "check_gradients", 1, "code", "check_gradients", "lib/gradient_utilities.py"),
    Task("backward_pass", 7, "backward_pass", 1, "code", "backward_pass", "lib/experiments.py"),
    Task("code_style", None, "Code style (pycodestyle)", 1, "bonus", None, None),
    Task("feedback", None, "Feedback (feedback.md filled in)", 1, "bonus", None, None),
    Task("pen_and_paper", None, "Pen and paper (submission.pdf)", 5, "tutor", None, None),
    Task("questions", None, "Questions on the experiments (submission.pdf)", 2, "tutor", None, None),
)

TASKS_BY_KEY = {task.key: task for task in TASKS}
CODE_TASKS = tuple(task for task in TASKS if task.kind == "code")
TASK_BY_GAP = {task.gap: task for task in CODE_TASKS}


def gap_label(task: Task) -> str:
    """E.g. 'Linear.backward (TODO gap 3 in lib/network.py)'."""
    return "{} (TODO gap {} in {})".format(task.gap, task.number, task.file)
