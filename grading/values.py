"""Outputs of a value check as plain JSON, and their comparison with the reference solution's.

A value check (grading/checks.py) returns {output name: value}. encode() writes each value with its exact type,
and for arrays their dtype, shape and every number, so that the grader can compare in its own process what the
sandboxed run computed with what the reference solution computes. Nothing here trusts the encoded side it is
given: compare() takes anything that json.loads can return.
"""
import math
from typing import Any, Dict, Optional

import numpy as np

# Honest solutions differ from the reference in the order of their sums (matmul, einsum, a loop over modules):
# a few units in the last place. float32 results are compared at a tolerance that accepts any result at least as
# accurate as NumPy's own float32 arithmetic (about 1e-7 relative per operation), and more accurate ones.
TOLERANCE = {"float64": (1e-7, 1e-10), "float32": (1e-4, 1e-6), "float16": (1e-2, 1e-3)}


def encode(value: Any) -> Any:
    """value as JSON: {"array": dtype, "shape": [...], "values": [...]}, {"scalar": type name, "value": ...},
    or a plain bool, int, str, None, or list of those."""
    if isinstance(value, np.ndarray):
        kind = "{}.{}".format(type(value).__module__, type(value).__name__)
        numbers = value.ravel().tolist() if value.dtype.kind in "biuf" else [repr(item) for item in value.ravel()]
        return {"array": str(value.dtype), "class": kind, "shape": [int(size) for size in value.shape],
                "values": [None if isinstance(number, float) and math.isnan(number) else number
                           for number in numbers]}
    if isinstance(value, np.generic):
        # dtype names, not class names: NumPy 1 calls its boolean scalar bool_, NumPy 2 bool.
        item = value.item()
        return {"scalar": str(value.dtype), "value": None if isinstance(item, float) and math.isnan(item) else
                item if isinstance(item, (bool, int, float)) else encode(item)}
    if isinstance(value, float):
        return {"float": None if math.isnan(value) else value}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return {"object": type(value).__name__}


def encode_all(outputs: Dict[str, Any]) -> Dict[str, Any]:
    return {str(name): encode(value) for name, value in outputs.items()}


def _close(expected, got, dtype: str) -> bool:
    rtol, atol = TOLERANCE.get(dtype, (0.0, 0.0))
    if expected is None or got is None:
        return expected is None and got is None  # NaN where the reference has NaN, and nowhere else
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected  # a boolean array's entries
    if not isinstance(got, (int, float)):
        return False
    try:
        if math.isinf(expected) or math.isinf(got):
            return expected == got
        return abs(got - expected) <= atol + rtol * abs(expected)
    except (OverflowError, ValueError):  # an int too large for a float: not a number the reference gave
        return False


def difference(expected: Any, got: Any) -> Optional[str]:
    """None if got equals expected (arrays: within the dtype's tolerance), else what differs, briefly."""
    if isinstance(expected, dict) and "array" in expected:
        if not isinstance(got, dict) or "array" not in got:
            return "expected an array, got {}".format(_kind(got))
        if got.get("class") != expected["class"]:
            return "expected {}, got {}".format(expected["class"], got.get("class"))
        if got.get("array") != expected["array"]:
            return "expected dtype {}, got {}".format(expected["array"], got.get("array"))
        if got.get("shape") != expected["shape"]:
            return "expected shape {}, got {}".format(tuple(expected["shape"]), _shape(got.get("shape")))
        values = got.get("values")
        if not isinstance(values, list) or len(values) != len(expected["values"]):
            return "its values are missing"
        wrong = sum(not _close(e, g, expected["array"]) for e, g in zip(expected["values"], values))
        return "{} of {} entries differ".format(wrong, len(values)) if wrong else None
    if isinstance(expected, dict) and ("scalar" in expected or "float" in expected):
        if not isinstance(got, dict) or set(got) != set(expected):
            return "expected {}, got {}".format(_kind(expected), _kind(got))
        if "scalar" in expected and got["scalar"] != expected["scalar"]:
            return "expected {}, got {}".format(expected["scalar"], got["scalar"])
        inner_expected = expected.get("value", expected.get("float"))
        inner_got = got.get("value", got.get("float"))
        if isinstance(inner_expected, (int, float)) and not isinstance(inner_expected, bool):
            dtype = "float64" if "float" in expected else str(expected.get("scalar"))
            return None if _close(inner_expected, inner_got, dtype) else "expected {}, got {}".format(
                inner_expected, inner_got)
        return difference(inner_expected, inner_got)
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return "expected a list of {}, got {}".format(len(expected), _kind(got))
        for index, (e, g) in enumerate(zip(expected, got)):
            found = difference(e, g)
            if found:
                return "item {}: {}".format(index, found)
        return None
    if type(got) is not type(expected) or got != expected:
        return "expected {!r}, got {}".format(expected, _kind(got) if type(got) is not type(expected) else repr(got))
    return None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("array", "scalar", "object"):
            if key in value:
                return "{} {}".format({"array": "an array of", "scalar": "a", "object": "a"}[key], value[key])
        if "float" in value:
            return "a float"
    return type(value).__name__


def _shape(shape: Any) -> str:
    return str(tuple(shape)) if isinstance(shape, list) else "none"


def compare(expected: Dict[str, Any], got: Any) -> Optional[str]:
    """None if every output of the reference's check is there in got and equal; else the first that differs."""
    if not isinstance(got, dict):
        return "it gave no outputs"
    for name, value in expected.items():
        if name not in got:
            return "its output '{}' is missing".format(name)
        found = difference(value, got[name])
        if found:
            return "'{}': {}".format(name, found)
    extra = sorted(set(got) - set(expected))
    return "unexpected outputs {}".format(extra[:3]) if extra else None
