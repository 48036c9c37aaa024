"""grading/values.py: outputs encoded with their exact type, compared within a tolerance per dtype, and nothing a
sandboxed run writes (any JSON) can make a wrong output compare equal or the comparison crash."""
import json

import numpy as np
import pytest

from grading.values import compare, difference, encode, encode_all


def roundtrip(value):
    return json.loads(json.dumps(encode(value)))


@pytest.mark.parametrize("value", [np.arange(6.0).reshape(2, 3), np.array([True, False]), np.float32(1.5),
                                   np.int64(3), np.bool_(True), np.array([np.nan, 1.0]), 2.5, True, 3, "x",
                                   [np.zeros(2), 1], np.zeros((0, 3), dtype=np.float32)])
def test_a_value_equals_itself_after_json(value):
    assert difference(roundtrip(value), roundtrip(value)) is None


@pytest.mark.parametrize("expected, got, reason", [
    (np.zeros(3), np.zeros(3, dtype=np.float32), "dtype"),
    (np.zeros((1, 3)), np.zeros(3), "shape"),
    (np.array([True, False]), np.array([True, True]), "1 of 2 entries differ"),
    (np.ones(2), np.ones(2) + 1e-5, "entries differ"),
    (np.float32(1.0), np.float32(1.01), "expected 1.0"),
    (np.int64(3), np.float64(3.0), "expected int64"),
    (np.array([np.nan]), np.array([0.0]), "entries differ"),
    (True, 1, "expected True"),
    (np.zeros(2), [0.0, 0.0], "expected an array"),
])
def test_a_different_value_is_named(expected, got, reason):
    found = difference(roundtrip(expected), roundtrip(got))
    assert found is not None and reason in found, found


def test_float32_results_more_accurate_than_numpys_own_compare_equal():
    exact = np.float64(1) / 3
    assert difference(roundtrip(np.float32(1) / np.float32(3)), roundtrip(np.float32(exact))) is None


@pytest.mark.parametrize("forged", [None, [], {"values": "x"}, {"array": "float64", "class": "numpy.ndarray",
                                    "shape": [2], "values": [10 ** 400, 0]}, {"array": "float64"}, 10 ** 400,
                                    {"a": {"b": {"c": []}}}, {"float": "nan"}])
def test_anything_a_run_writes_compares_unequal_without_crashing(forged):
    expected = encode_all({"a": np.zeros(2)})
    assert compare(expected, {"a": forged}) is not None
    assert compare(expected, forged) is not None
