"""Deep chains of Linear + activation blocks, with and without skip connections, trained on the XOR data.

The same deep chain, from the same initial weights, built twice: once plain and once with a skip connection
around every block.

    plain:     x -> Linear(2, D) -> [h <- act(Linear(D, D)(h))] x depth -> Linear(D, 2) -> logits
    residual:  x -> Linear(2, D) -> [h <- h + act(Linear(D, D)(h))] x depth -> Linear(D, 2) -> logits

`python run_pen_and_paper.py --experiment skip` runs it and plots the gradient norm of every block and the two
loss curves; its options change the depth, the width, the activation, the learning rate and the seed.
"""
from typing import Dict, List

import numpy as np

from experiments.modules import Identity, Sum
from lib.activations import Sigmoid, Tanh
from lib.experiments import XOR_INPUTS, XOR_LABELS, train
from lib.gradient_utilities import zero_grad
from lib.losses import CrossEntropyLoss
from lib.network import Linear, Sequential
from lib.utilities import one_hot_encoding

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh}
DEFAULTS = {"depth": 20, "width": 16, "activation": "tanh", "steps": 200, "lr": 0.05, "seed": 0}


def make_deep_chain(depth: int, width: int, residual: bool, activation: str = DEFAULTS["activation"],
                    seed: int = DEFAULTS["seed"]) -> Sequential:
    """Linear(2, width), then `depth` blocks Linear(width, width) -> activation, then Linear(width, 2).

    With residual=True every block becomes Sum(Identity(), block), that is h <- h + block(h). The weights depend only
    on the seed, so make_deep_chain(..., residual=False, seed=s) and (..., residual=True, seed=s) start
    from exactly the same W and b.
    """
    if depth < 1 or width < 1:
        raise ValueError("make_deep_chain needs depth >= 1 and width >= 1, got depth {} and width {}"
                         .format(depth, width))
    if activation not in ACTIVATIONS:
        raise ValueError("activation must be one of {}, got {!r}".format(sorted(ACTIVATIONS), activation))
    rng = np.random.default_rng(seed)
    modules = [Linear(2, width, rng=rng)]
    for _ in range(depth):
        block = Sequential(Linear(width, width, rng=rng), ACTIVATIONS[activation]())
        modules.append(Sum(Identity(), block) if residual else block)
    modules.append(Linear(width, 2, rng=rng))
    return Sequential(*modules)


def block_weights(chain: Sequential) -> List:
    """The W parameter of each of the chain's blocks, first block first (length depth)."""
    return [block.parameters()[0] for block in chain.modules[1:-1]]


def block_gradient_norms(chain: Sequential, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Frobenius norm of dL/dW of every block's Linear layer for the cross-entropy on (x, labels).

    x: shape (N, 2). labels: integer classes, shape (N,). Returns shape (depth,), first block first.
    The parameters' gradients are left filled in.
    """
    loss_fn = CrossEntropyLoss()
    zero_grad(chain.parameters())
    loss_fn(chain(x), labels)
    chain.backward(loss_fn.backward())
    return np.array([np.linalg.norm(weight.grad) for weight in block_weights(chain)])


def run_skip_experiment(depth: int = DEFAULTS["depth"], width: int = DEFAULTS["width"],
                        activation: str = DEFAULTS["activation"], steps: int = DEFAULTS["steps"],
                        lr: float = DEFAULTS["lr"], seed: int = DEFAULTS["seed"]) -> Dict[str, Dict[str, np.ndarray]]:
    """Gradient norms at initialisation and an XOR training run, for the plain and the residual chain.

    Returns {"plain": {...}, "residual": {...}}, each with
        "gradient_norms": ||dL/dW|| of each block at the initial weights, shape (depth,);
        "losses": the cross-entropy after k steps of gradient descent, shape (steps + 1,);
        "accuracy": the fraction of the four XOR points classified correctly after training, a float.
    """
    targets = one_hot_encoding(XOR_LABELS, 2)
    results = {}
    for name, residual in (("plain", False), ("residual", True)):
        chain = make_deep_chain(depth, width, residual, activation, seed)
        norms = block_gradient_norms(chain, XOR_INPUTS, XOR_LABELS)
        losses = train(chain, CrossEntropyLoss(), XOR_INPUTS, targets, steps, lr)
        accuracy = float(np.mean(np.argmax(chain(XOR_INPUTS), axis=1) == XOR_LABELS))
        results[name] = {"gradient_norms": norms, "losses": losses, "accuracy": accuracy}
    return results
