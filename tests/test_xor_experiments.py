"""The data, models and helpers behind `run_xor_experiment.py --experiment momentum|scaling|lbfgs`."""
import sys

import numpy as np
import pytest

from experiments.flat_parameters import flatten
from experiments.xor_extensions import (accuracy, class1_probability, compare_momentum, compare_scaling,
                                        hidden_representation, make_quadrant_data, make_quadrant_model, standardise,
                                        train_lbfgs, train_with_sgd)
from lib.experiments import XOR_INPUTS, XOR_LABELS, make_xor_model, train
from lib.losses import BCELoss, CrossEntropyLoss
from lib.utilities import one_hot_encoding
from tests.helpers import check_array


def test_quadrant_data_is_labelled_1_where_both_coordinates_share_their_sign():
    x, labels = make_quadrant_data(1000, rng=np.random.default_rng(0))
    assert x.shape == (1000, 2) and labels.shape == (1000,)
    assert np.all(np.abs(x) <= 2)
    check_array("labels", labels, (x[:, 0] * x[:, 1] > 0).astype(np.int64))
    assert 0.4 < labels.mean() < 0.6


def test_class1_probability_of_a_sigmoid_model_and_of_a_two_logit_model():
    x = np.array([[0.5, -1.0], [1.0, 1.0]])
    sigmoid_model = make_quadrant_model(3, rng=np.random.default_rng(0))
    check_array("P(class 1) of the sigmoid model", class1_probability(sigmoid_model, x), sigmoid_model(x)[:, 0])
    logit_model = make_xor_model(2, rng=np.random.default_rng(0))
    logits = logit_model(x)
    expected = 1 / (1 + np.exp(logits[:, 0] - logits[:, 1]))
    check_array("P(class 1) of the two-logit model", class1_probability(logit_model, x), expected)


def test_hidden_representation_is_relu_of_the_first_layer():
    model = make_xor_model(2, rng=np.random.default_rng(0))
    first = model.modules[0]
    expected = np.maximum(XOR_INPUTS @ first.W.data.T + first.b.data, 0)
    check_array("hidden_representation", hidden_representation(model, XOR_INPUTS), expected)


def test_train_with_sgd_without_momentum_is_the_sheets_gradient_descent():
    targets = one_hot_encoding(XOR_LABELS, 2)
    model_a = make_xor_model(2, rng=np.random.default_rng(0))
    model_b = make_xor_model(2, rng=np.random.default_rng(0))
    losses_a = train(model_a, CrossEntropyLoss(), XOR_INPUTS, targets, 20, 1.0)
    losses_b, snapshots, steps = train_with_sgd(model_b, CrossEntropyLoss(), XOR_INPUTS, targets, 20, 1.0,
                                                snapshot_every=7)
    check_array("losses of train_with_sgd", losses_b, losses_a)
    assert steps == [0, 7, 14, 20]
    check_array("the last snapshot", snapshots[-1], flatten(model_b.parameters()))


def test_momentum_runs_start_from_the_same_weights():
    x, labels = make_quadrant_data(200, rng=np.random.default_rng(0))
    runs = compare_momentum(BCELoss(), x, labels, seed=2, steps=30, lr=0.1, momentum=0.9)
    plain, heavy = runs["gradient descent"], runs["momentum"]
    assert plain["losses"].shape == heavy["losses"].shape == (31,)
    assert plain["losses"][0] == heavy["losses"][0]
    # After the first step the velocity differs from the gradient, so the runs part.
    assert plain["losses"][-1] != heavy["losses"][-1]
    assert 0 <= plain["accuracy"] <= 1


def test_standardise_gives_mean_0_and_standard_deviation_1():
    x = np.random.default_rng(0).normal([3.0, -100.0], [0.5, 40.0], size=(100, 2))
    z = standardise(x)
    check_array("mean of the standardised features", z.mean(axis=0), np.zeros(2), atol=1e-12)
    check_array("std of the standardised features", z.std(axis=0), np.ones(2))
    with pytest.raises(ValueError, match="constant"):
        standardise(np.ones((5, 2)))


def test_scaling_a_feature_scales_its_column_of_the_weight_gradient():
    x, labels = make_quadrant_data(200, rng=np.random.default_rng(0))
    runs = compare_scaling(BCELoss(), x, labels, seed=2, steps=2, lr=0.1, factor=100.0, small_lr=0.001)
    assert set(runs) == {"scaled", "standardised", "scaled, small lr"}
    assert np.allclose(runs["scaled"]["x"][:, 0], 100 * x[:, 0])
    columns = np.linalg.norm(runs["scaled"]["initial_gradient"], axis=0)
    assert columns[0] > 10 * columns[1]


def test_train_lbfgs_leaves_the_model_at_the_solution():
    model = make_xor_model(2, rng=np.random.default_rng(4))
    outcome = train_lbfgs(model, CrossEntropyLoss(), XOR_INPUTS, one_hot_encoding(XOR_LABELS, 2))
    check_array("the model's parameters", flatten(model.parameters()), outcome["result"].x)
    assert outcome["losses"][-1] == pytest.approx(outcome["result"].fun)
    assert accuracy(model, XOR_INPUTS, XOR_LABELS) == 1.0


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
