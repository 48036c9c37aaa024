"""Tests of the given code in lib/optimizers.py and lib/utilities.py."""
import sys

import numpy as np
import pytest

from lib.network_base import Parameter
from lib.optimizers import SGD
from lib.utilities import one_hot_encoding
from tests.helpers import check_array


def test_sgd_without_momentum_is_gradient_descent():
    param = Parameter(np.array([1.0, 2.0]), np.array([0.5, -1.0]))
    SGD([param], lr=0.1).step()
    check_array("SGD.step: data", param.data, [0.95, 2.1])


def test_sgd_momentum_follows_pytorch_convention():
    param = Parameter(np.array([0.0]), np.array([1.0]))
    optimizer = SGD([param], lr=0.5, momentum=0.9)
    optimizer.step()  # v = 1, p = -0.5
    optimizer.step()  # v = 0.9 * 1 + 1 = 1.9, p = -0.5 - 0.95 = -1.45
    check_array("SGD momentum buffer", param.state_dict["momentum_buffer"], [1.9])
    check_array("SGD.step with momentum: data", param.data, [-1.45])


def test_sgd_leaves_parameters_without_gradient_alone():
    param = Parameter(np.array([1.0, 2.0]), None)
    SGD([param], lr=0.1, momentum=0.9).step()
    check_array("SGD.step on a parameter whose grad is None: data", param.data, [1.0, 2.0])


def test_sgd_zero_grad_and_bad_arguments():
    param = Parameter(np.ones((2, 2)), np.ones((2, 2)))
    SGD([param], lr=1.0).zero_grad()
    check_array("SGD.zero_grad", param.grad, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="lr > 0"):
        SGD([param], lr=0.0)
    with pytest.raises(ValueError, match=r"momentum in \[0, 1\)"):
        SGD([param], lr=1.0, momentum=1.5)


def test_one_hot_encoding():
    check_array("one_hot_encoding", one_hot_encoding(np.array([1, 2, 0]), 3),
                [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        one_hot_encoding(np.array([3]), 3)
    with pytest.raises(ValueError, match="integer"):
        one_hot_encoding(np.array([0.5]), 3)
    with pytest.raises(ValueError, match=r"\(N,\)"):
        one_hot_encoding(np.zeros((2, 2), dtype=int), 3)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
