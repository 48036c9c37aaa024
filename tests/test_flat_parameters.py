"""The network as one function of one vector: flatten, unflatten, loss_and_gradient, and scipy's optimizers on it."""
import sys

import numpy as np
import pytest
import scipy.optimize

from experiments.flat_parameters import flatten, flatten_gradients, loss_and_gradient, parameter_count, unflatten
from experiments.xor_extensions import make_quadrant_data, make_quadrant_model
from lib.experiments import XOR_INPUTS, XOR_LABELS, make_xor_model
from lib.losses import BCELoss, CrossEntropyLoss
from lib.network_base import GRADIENT_CHECK_TOLERANCE
from lib.utilities import one_hot_encoding
from tests.helpers import check_array, fail


def xor_problem(seed=0, hidden=2):
    model = make_xor_model(hidden, rng=np.random.default_rng(seed))
    return model, CrossEntropyLoss(), XOR_INPUTS, one_hot_encoding(XOR_LABELS, 2)


def test_flatten_lays_the_parameters_end_to_end_in_order():
    model, _, _, _ = xor_problem()
    params = model.parameters()
    expected = np.concatenate([param.data.ravel() for param in params])
    theta = flatten(params)
    check_array("flatten(model.parameters())", theta, expected)
    # Linear(2, 2) and Linear(2, 2): W (2, 2) and b (2,) each.
    assert parameter_count(params) == 12 == theta.shape[0]


def test_unflatten_inverts_flatten_and_keeps_shapes_and_dtypes():
    model, _, _, _ = xor_problem()
    params = model.parameters()
    shapes = [param.data.shape for param in params]
    theta = np.arange(parameter_count(params), dtype=np.float64)
    unflatten(theta, params)
    assert [param.data.shape for param in params] == shapes
    assert all(param.data.dtype == np.float64 for param in params)
    check_array("flatten after unflatten(theta)", flatten(params), theta)
    check_array("the first layer's W after unflatten", params[0].data, theta[:4].reshape(2, 2))


def test_unflatten_copies_the_vector():
    model, _, _, _ = xor_problem()
    theta = flatten(model.parameters())
    unflatten(theta, model.parameters())
    theta[:] = 123.0
    if np.any(flatten(model.parameters()) == 123.0):
        fail("unflatten should copy theta into the parameters; changing theta afterwards changed the model")


def test_unflatten_rejects_a_vector_of_the_wrong_length():
    model, _, _, _ = xor_problem()
    with pytest.raises(ValueError, match=r"shape \(12,\)"):
        unflatten(np.zeros(11), model.parameters())


def test_flatten_gradients_needs_a_gradient_on_every_parameter():
    model, _, _, _ = xor_problem()
    model.parameters()[1].grad = None
    with pytest.raises(ValueError, match="grad"):
        flatten_gradients(model.parameters())


def test_loss_and_gradient_returns_the_loss_and_leaves_the_model_at_theta():
    model, loss_fn, x, targets = xor_problem()
    theta = flatten(model.parameters()) + 0.1
    loss, gradient = loss_and_gradient(theta, model, loss_fn, x, targets)
    assert isinstance(loss, float)
    check_array("the model's parameters after loss_and_gradient(theta)", flatten(model.parameters()), theta)
    assert loss == pytest.approx(CrossEntropyLoss()(model(x), targets), rel=1e-12)
    check_array("the gradient from loss_and_gradient", gradient, flatten_gradients(model.parameters()))


@pytest.mark.parametrize("problem", ["xor, cross-entropy", "quadrants, sigmoid + BCE"])
def test_whole_network_gradient_agrees_with_scipy_check_grad(problem):
    rng = np.random.default_rng(1)
    if problem.startswith("xor"):
        model, loss_fn, x, targets = xor_problem(seed=1, hidden=4)
    else:
        x, labels = make_quadrant_data(50, rng=rng)
        model, loss_fn, targets = make_quadrant_model(3, rng=rng), BCELoss(), labels[:, None].astype(np.float64)
    theta = flatten(model.parameters()) + rng.normal(0, 0.3, parameter_count(model.parameters()))

    def loss(vector):
        return loss_and_gradient(vector, model, loss_fn, x, targets)[0]

    def gradient(vector):
        return loss_and_gradient(vector, model, loss_fn, x, targets)[1]

    error = scipy.optimize.check_grad(loss, gradient, theta)
    relative = error / max(1.0, np.linalg.norm(gradient(theta)))
    if not relative <= GRADIENT_CHECK_TOLERANCE:
        fail("dL/dtheta of the whole network ({}) disagrees with finite differences: relative error {:.2e} > {:.0e}"
             .format(problem, relative, GRADIENT_CHECK_TOLERANCE))


def test_a_wrong_gradient_fails_the_check():
    # The check above can fail: a gradient with one entry off by 1% is caught.
    model, loss_fn, x, targets = xor_problem(seed=1, hidden=4)
    theta = flatten(model.parameters())

    def wrong_gradient(vector):
        gradient = loss_and_gradient(vector, model, loss_fn, x, targets)[1]
        gradient[0] *= 1.01
        return gradient

    gradient = loss_and_gradient(theta, model, loss_fn, x, targets)[1]
    assert abs(gradient[0]) > 1e-3
    error = scipy.optimize.check_grad(lambda v: loss_and_gradient(v, model, loss_fn, x, targets)[0],
                                      wrong_gradient, theta)
    assert error / max(1.0, np.linalg.norm(gradient)) > GRADIENT_CHECK_TOLERANCE


def test_scipy_lbfgs_trains_the_xor_network_from_loss_and_gradient():
    # Seed 4, the default of run_xor_experiment.py --experiment lbfgs.
    model, loss_fn, x, targets = xor_problem(seed=4)
    theta0 = flatten(model.parameters())
    result = scipy.optimize.minimize(loss_and_gradient, theta0, args=(model, loss_fn, x, targets), jac=True,
                                     method="L-BFGS-B")
    assert result.success, result.message
    unflatten(result.x, model.parameters())
    predictions = np.argmax(model(x), axis=1)
    check_array("the XOR predictions after L-BFGS-B", predictions, XOR_LABELS)
    assert result.fun < 1e-3


if __name__ == "__main__":
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
