"""JSON for probes: arrays, tuples, seeds and non-finite floats, exactly and readably.

Used for ``exercises/visible_checks.json``, the visible checks that ship to students.
Floats are written with ``repr`` precision, so values round-trip bit for bit.
"""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from .protocol import Rng


def encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, Rng):
        return {"__rng__": value.seed}
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.array(value["__ndarray__"], dtype=value["dtype"]).reshape(value["shape"])
        if "__rng__" in value:
            return Rng(value["__rng__"])
        if "__float__" in value:
            return float(value["__float__"])
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        return {k: decode(v) for k, v in value.items()}
    return value


def dumps(value: Any) -> str:
    return json.dumps(encode(value), indent=1, sort_keys=False) + "\n"


def loads(text: str) -> Any:
    return decode(json.loads(text))
