"""Smoke tests of benchmarks/bench_mlp.py (XOR size only), and a float32 model keeping float32 in every step."""
import json
import sys

import numpy as np
import pytest

from benchmarks import bench_mlp
from lib.activations import ReLU, Sigmoid, Softmax, Tanh
from lib.losses import BCELoss, CrossEntropyLoss, L1Loss, MSELoss
from experiments.modules import Identity, Sum
from lib.network import Linear, Sequential
from lib.optimizers import SGD
from lib.utilities import one_hot_encoding

ROW_KEYS = {"size", "dtype", "lib_s", "torch_s", "floor_s"}


def run_json(capsys, *args):
    exit_code = bench_mlp.main(["--sizes", "xor", "--repeats", "1", "--settle", "0", "--json"] + list(args))
    assert exit_code == 0
    return json.loads(capsys.readouterr().out)


def check_rows(rows, dtypes):
    assert isinstance(rows, list)
    assert [(row["size"], row["dtype"]) for row in rows] == [("xor", dtype) for dtype in dtypes]
    for row in rows:
        assert ROW_KEYS <= set(row), "missing keys {}".format(ROW_KEYS - set(row))
        for key in ("lib_s", "floor_s"):
            assert isinstance(row[key], float) and 0 < row[key] < 1, (key, row[key])
        assert row["lib_peak_bytes"] > 0 and row["floor_peak_bytes"] > 0
        assert set(row["targets"]) == {"memory_lib_floor<=1.2", "lib_torch<=0.5"}


def test_json_rows_with_torch(capsys):
    pytest.importorskip("torch")
    rows = run_json(capsys, "--dtypes", "float64")
    check_rows(rows, ["float64"])
    for row in rows:
        assert row["floor_acc_s"] is None, "floor+acc is timed only with --accumulate"
        assert isinstance(row["torch_s"], float) and row["torch_s"] > 0
        assert row["lib_torch"] == pytest.approx(row["lib_s"] / row["torch_s"])
        assert row["targets"]["lib_torch<=0.5"] in (True, False)


def test_json_rows_without_torch(capsys, monkeypatch):
    # A None entry in sys.modules makes `import torch` raise ImportError, as on a machine without torch.
    monkeypatch.setitem(sys.modules, "torch", None)
    rows = run_json(capsys, "--dtypes", "float32", "--accumulate")
    check_rows(rows, ["float32"])
    assert isinstance(rows[0]["floor_acc_s"], float) and rows[0]["floor_acc_s"] > 0
    assert rows[0]["lib_floor_acc"] == pytest.approx(rows[0]["lib_s"] / rows[0]["floor_acc_s"])
    assert rows[0]["torch_s"] is None and rows[0]["lib_torch"] is None
    assert rows[0]["targets"]["lib_torch<=0.5"] is None


def test_table_names_blas_and_targets(capsys):
    assert bench_mlp.main(["--sizes", "xor", "--dtypes", "float64", "--repeats", "1", "--settle", "0",
                           "--no-torch", "--no-memory"]) == 0
    out = capsys.readouterr().out
    assert "BLAS:" in out and "kernel" in out
    assert "| xor (4 x 2-2-2)" in out
    assert "Targets (reported, not asserted):" in out


def test_floor_disagreeing_with_lib_is_caught():
    weights = bench_mlp.initial_weights((2, 2, 2), "float64")
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0])
    steps = {"lib": bench_mlp.make_lib_step(weights, x, labels),
             "floor": bench_mlp.make_floor_step(weights, x, labels),
             "floor_acc": bench_mlp.make_floor_step(weights, x, labels, accumulate=True)}
    bench_mlp.check_same_step(steps, "float64")  # agree
    steps["floor"].first_weight += 1e-3  # now the floor's weights differ from the lib's
    with pytest.raises(RuntimeError, match="floor and lib disagree"):
        bench_mlp.check_same_step(steps, "float64")


ACTIVATIONS = [ReLU, Sigmoid, Tanh, Softmax]
LABELS = np.array([0, 1, 1, 0, 1])


def float32_step_cases():
    # (loss, targets): float64 targets must not turn the float32 gradient into float64.
    return [
        (CrossEntropyLoss(), LABELS),
        (CrossEntropyLoss(), one_hot_encoding(LABELS, 2)),  # float64 one-hot rows
        (MSELoss(), np.zeros((5, 2))),
        (L1Loss(), np.ones((5, 2))),
    ]


def assert_float32(what, array):
    assert isinstance(array, np.ndarray), "{}: expected an ndarray, got {}".format(what, type(array).__name__)
    assert array.dtype == np.float32, "{}: dtype {}, expected float32".format(what, array.dtype)


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_float32_model_keeps_float32_in_every_step(activation, momentum):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    modules = [Linear(3, 4, dtype=np.float32, rng=rng), activation(),
               Sum(Identity(), Sequential(Linear(4, 4, dtype=np.float32, rng=rng), Tanh())),
               Linear(4, 2, dtype=np.float32, rng=rng)]
    model = Sequential(*modules)
    for loss_fn, targets in float32_step_cases():
        optimizer = SGD(model.parameters(), lr=0.1, momentum=momentum)
        for step in range(2):  # the second step uses the momentum buffer
            optimizer.zero_grad()
            h = x
            for module in modules:
                h = module(h)
                assert_float32("{}.forward output".format(module), h)
            loss = loss_fn(h, targets)
            assert isinstance(loss, float)
            grad = loss_fn.backward()
            assert_float32("{}.backward() with {} targets".format(loss_fn, np.asarray(targets).dtype), grad)
            for module in reversed(modules):
                grad = module.backward(grad)
                assert_float32("{}.backward output".format(module), grad)
            optimizer.step()
            for param in model.parameters():
                assert_float32("{} .data after SGD.step".format(param), param.data)
                assert_float32("{} .grad".format(param), param.grad)
                if momentum:
                    assert_float32("{} momentum buffer".format(param), param.state_dict["momentum_buffer"])


def test_float32_bce_gradient_keeps_float32():
    p = np.array([[0.2, 0.7], [0.9, 0.4]], dtype=np.float32)
    loss_fn = BCELoss()
    loss_fn(p, np.array([[0.0, 1.0], [1.0, 0.0]]))  # float64 targets
    assert_float32("BCELoss.backward()", loss_fn.backward())
