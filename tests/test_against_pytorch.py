"""The library against PyTorch, in float64: forward, backward and SGD-with-momentum steps of random MLPs.

Skipped when torch is not installed (students need not install it; `pip install torch` does).
"""
import sys

import numpy as np
import pytest

from lib.activations import ReLU, Sigmoid, Tanh
from lib.gradient_utilities import zero_grad
from lib.losses import CrossEntropyLoss
from lib.network import Linear, Sequential
from lib.optimizers import SGD
from tests.helpers import check_array

torch = pytest.importorskip("torch")

ACTIVATIONS = {"relu": (ReLU, torch.nn.ReLU), "sigmoid": (Sigmoid, torch.nn.Sigmoid), "tanh": (Tanh, torch.nn.Tanh)}


def make_pair(rng, widths, activation):
    """The same random MLP twice: in the library and in PyTorch, with equal weights."""
    ours, theirs = [], []
    for index, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:])):
        layer = Linear(d_in, d_out, rng=rng)
        twin = torch.nn.Linear(d_in, d_out, dtype=torch.float64)
        with torch.no_grad():
            twin.weight.copy_(torch.from_numpy(layer.W.data))
            twin.bias.copy_(torch.from_numpy(layer.b.data))
        ours.append(layer)
        theirs.append(twin)
        if index < len(widths) - 2:
            ours.append(ACTIVATIONS[activation][0]())
            theirs.append(ACTIVATIONS[activation][1]())
    return Sequential(*ours), torch.nn.Sequential(*theirs)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("seed", range(3))
def test_forward_backward_and_momentum_steps_match_pytorch(seed, activation):
    rng = np.random.default_rng(seed)
    widths = list(rng.integers(1, 9, size=rng.integers(2, 5))) + [int(rng.integers(2, 5))]
    n = int(rng.integers(1, 9))
    ours, theirs = make_pair(rng, widths, activation)
    x = rng.normal(size=(n, widths[0]))
    labels = rng.integers(0, widths[-1], size=n)
    optimizer = SGD(ours.parameters(), lr=0.1, momentum=0.9)
    torch_optimizer = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    loss_fn, torch_loss_fn = CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    where = "MLP {} with {}, batch {}, seed {}".format(widths, activation, n, seed)

    for step in range(3):
        zero_grad(ours.parameters())
        torch_optimizer.zero_grad()
        logits = ours(x)
        torch_x = torch.from_numpy(x).requires_grad_(True)
        torch_logits = theirs(torch_x)
        check_array("logits, step {}, {}".format(step, where), logits, torch_logits.detach().numpy())
        loss = loss_fn(logits, labels)
        torch_loss = torch_loss_fn(torch_logits, torch.from_numpy(labels))
        assert loss == pytest.approx(torch_loss.item(), rel=1e-10), "loss, step {}, {}".format(step, where)
        grad_x = ours.backward(loss_fn.backward())
        torch_loss.backward()
        check_array("dL/dx, step {}, {}".format(step, where), grad_x, torch_x.grad.numpy())
        for index, (param, twin) in enumerate(zip(ours.parameters(), theirs.parameters())):
            check_array("parameter {} ({}) .grad, step {}, {}".format(index, param.name, step, where),
                        param.grad, twin.grad.numpy())
        optimizer.step()
        torch_optimizer.step()
        for index, (param, twin) in enumerate(zip(ours.parameters(), theirs.parameters())):
            check_array("parameter {} ({}) after SGD step {}, {}".format(index, param.name, step, where),
                        param.data, twin.detach().numpy())


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
