"""The wire format: plain data round-trips exactly; pickles, object arrays and garbage are
refused before they can do anything."""
from __future__ import annotations

import io
import json
import math
import pickle
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.runtime.protocol import ProtocolError, Rng, canonical_key, read_message, write_message


def round_trip(value):
    buffer = io.BytesIO()
    write_message(buffer, value)
    buffer.seek(0)
    return read_message(buffer)


@given(hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.bool_]),
                  hnp.array_shapes(min_dims=0, max_dims=4, max_side=5)))
def test_arrays_round_trip_bit_for_bit(array):
    back = round_trip({"a": array})["a"]
    assert type(back) is np.ndarray and back.dtype == array.dtype and back.shape == array.shape
    assert np.array_equal(back, array, equal_nan=True)


def test_plain_values_round_trip():
    value = {"none": None, "flag": True, "int": 2**70, "floats": [1.5, math.inf, -math.inf], "text": "é",
             "tuple": (1, (2.0, "x")), "rng": Rng(7), "nested": [[{"k": np.zeros(2)}]]}
    back = round_trip(value)
    assert back["int"] == 2**70 and back["tuple"] == (1, (2.0, "x")) and back["rng"] == Rng(7)
    assert back["floats"][1] == math.inf and np.array_equal(back["nested"][0][0]["k"], np.zeros(2))
    assert math.isnan(round_trip(float("nan")))


@pytest.mark.parametrize("value", [np.array([object()], dtype=object), {1: object()}, object(), {"f": print}])
def test_unsupported_values_are_refused_when_sent(value):
    with pytest.raises(ProtocolError):
        write_message(io.BytesIO(), value)


def message(header: bytes, *blobs: bytes) -> io.BytesIO:
    parts = [struct.pack(">I", len(header)), header]
    for blob in blobs:
        parts += [struct.pack(">Q", len(blob)), blob]
    return io.BytesIO(b"".join(parts))


def test_a_pickled_array_is_refused():
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ProtocolError, match="not numeric|bad array"):
        read_message(message(json.dumps({"array": 0}).encode(), pickled.getvalue()))


def test_a_raw_pickle_is_refused():
    with pytest.raises(ProtocolError):
        read_message(message(pickle.dumps({"score": 100})))


@pytest.mark.parametrize("header", [b"{not json", json.dumps({"float": "1e999"}).encode(),
                                    json.dumps({"what": 1}).encode(), json.dumps({"int": "9" * 500}).encode(),
                                    json.dumps({"tuple": 3}).encode()])
def test_malformed_headers_are_refused(header):
    with pytest.raises(ProtocolError):
        read_message(message(header))


def test_oversized_and_truncated_messages():
    with pytest.raises(ProtocolError, match="too large"):
        read_message(io.BytesIO(struct.pack(">I", 2**31)))
    with pytest.raises(EOFError):
        read_message(io.BytesIO(struct.pack(">I", 100) + b"{}"))
    with pytest.raises(EOFError):  # a header that promises an array the message does not hold
        read_message(message(json.dumps({"array": 5}).encode()))


@given(st.lists(st.integers(-5, 5), max_size=40))
def test_canonical_keys_ignore_the_container_and_number_types(values):
    assert canonical_key(tuple(values)) == canonical_key([float(v) for v in values]) == canonical_key(
        np.array(values, dtype=float))
    assert canonical_key(values + [1]) != canonical_key(values + [2])
    assert canonical_key([np.array(values, dtype=float), 2.0]) == canonical_key((list(values), 2))
