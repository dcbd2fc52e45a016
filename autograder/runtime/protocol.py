"""The wire format between the grader and a worker: framed JSON plus ``.npy`` arrays.

A message is ``[u32 header length][header JSON]`` followed by, for each array it refers to,
``[u64 length][.npy bytes]``. Arrays are written with ``np.save`` and read with
``np.load(allow_pickle=False)``, so nothing a worker sends can execute code in the grader.
This module is self-contained (json, struct, hashlib, numpy) because the worker imports it by
path before any student code runs.

Values: ``None``, bools, ints, floats (``inf`` and ``nan`` too), strings, lists, tuples,
string-keyed dicts, numeric ndarrays, and ``Rng(seed)`` for a ``numpy.random.Generator``.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import struct
from typing import Any, BinaryIO

import numpy as np

#: Largest message either side accepts; a bigger one is treated as a broken worker. The
#: largest honest reply (a few hundred thousand float64 draws) is under 8 MiB.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: Largest JSON header: honest headers are a few KB; this bounds the objects JSON can make.
MAX_HEADER_BYTES = 2 * 1024 * 1024
MAX_ARRAYS = 10_000
MAX_DEPTH = 32
#: Array element kinds that may cross: bool, signed and unsigned ints, floats.
ARRAY_KINDS = "biuf"
#: Most elements one array may have: the largest honest answer has about 160,000.
MAX_ARRAY_ELEMENTS = 2_000_000


class ProtocolError(Exception):
    """A message that is truncated, oversized or malformed."""


class Rng:
    """Stands for ``numpy.random.default_rng(seed)`` on the wire."""

    def __init__(self, seed: int):
        self.seed = int(seed)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rng) and other.seed == self.seed

    def __repr__(self) -> str:
        return f"default_rng({self.seed})"


def _encode(value: Any, arrays: list[bytes], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, Rng):
        return {"rng": value.seed}
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise ProtocolError("object arrays cannot be sent")
        buffer = io.BytesIO()
        contiguous = value if value.flags.c_contiguous else value.copy(order="C")  # keeps 0-d arrays 0-d
        np.save(buffer, contiguous, allow_pickle=False)
        arrays.append(buffer.getvalue())
        return {"array": len(arrays) - 1}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, arrays, depth + 1) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays, depth + 1) for v in value]
    if isinstance(value, dict):
        return {"dict": {str(k): _encode(v, arrays, depth + 1) for k, v in value.items()}}
    raise ProtocolError(f"cannot send a {type(value).__name__}")


def _decode(node: Any, arrays: list[np.ndarray], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if node is None or isinstance(node, (bool, str, float, int)):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays, depth + 1) for v in node]
    if not isinstance(node, dict) or len(node) != 1:
        raise ProtocolError("malformed value")
    (tag, body), = node.items()
    if tag == "int":
        if not isinstance(body, str) or len(body) > 400:
            raise ProtocolError("malformed int")
        return int(body)
    if tag == "float":
        return float(body) if body in ("inf", "-inf", "nan") else _bad("float")
    if tag == "rng":
        return Rng(body) if isinstance(body, int) else _bad("rng")
    if tag == "array":
        if not isinstance(body, int) or not 0 <= body < len(arrays):
            raise ProtocolError("array reference out of range")
        return arrays[body]
    if tag == "tuple" and isinstance(body, list):
        return tuple(_decode(v, arrays, depth + 1) for v in body)
    if tag == "dict" and isinstance(body, dict):
        return {k: _decode(v, arrays, depth + 1) for k, v in body.items()}
    raise ProtocolError(f"unknown tag {tag!r}")


def _bad(what: str):
    raise ProtocolError(f"malformed {what}")


def write_message(stream: BinaryIO, value: Any) -> None:
    """Encode ``value`` and write it to ``stream`` as one message."""
    arrays: list[bytes] = []
    header = json.dumps(_encode(value, arrays), allow_nan=False).encode()
    parts = [struct.pack(">I", len(header)), header]
    for blob in arrays:
        parts += [struct.pack(">Q", len(blob)), blob]
    stream.write(b"".join(parts))
    stream.flush()


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(stream: BinaryIO) -> Any:
    """Read one message from ``stream``; raises ``EOFError`` or ``ProtocolError``."""
    (header_size,) = struct.unpack(">I", _read_exactly(stream, 4))
    if header_size > MAX_HEADER_BYTES:
        raise ProtocolError("header too large")
    try:
        tree = json.loads(_read_exactly(stream, header_size))
    except (ValueError, UnicodeDecodeError) as error:
        raise ProtocolError(f"header is not JSON: {error}") from None
    except RecursionError:
        raise ProtocolError("value nested too deeply") from None
    count = _count_arrays(tree)
    if count > MAX_ARRAYS:
        raise ProtocolError("too many arrays")
    arrays, total = [], header_size
    for _ in range(count):
        (size,) = struct.unpack(">Q", _read_exactly(stream, 8))
        total += size
        if total > MAX_MESSAGE_BYTES:
            raise ProtocolError("message too large")
        array = _load_array(_read_exactly(stream, size))
        arrays.append(array)
    try:
        return _decode(tree, arrays)
    except RecursionError:
        raise ProtocolError("value nested too deeply") from None


def _load_array(blob: bytes) -> np.ndarray:
    """One ``.npy`` blob as a numeric array of at most ``MAX_ARRAY_ELEMENTS``; its header is
    checked before any data is allocated, and any failure is a ``ProtocolError``."""
    buffer = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(buffer)
        readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        shape, _, dtype = readers[version](buffer)  # the header only: nothing allocated yet
        count = math.prod(shape)
    except Exception as error:  # noqa: BLE001 - a forged header may raise anything
        raise ProtocolError(f"bad array header: {type(error).__name__}") from None
    if dtype.kind not in ARRAY_KINDS or dtype.hasobject:
        raise ProtocolError("an array that is not numeric")
    if count > MAX_ARRAY_ELEMENTS:
        raise ProtocolError(f"an array of {count} elements (the limit is {MAX_ARRAY_ELEMENTS})")
    try:
        array = np.load(io.BytesIO(blob), allow_pickle=False)
    except Exception as error:  # noqa: BLE001
        raise ProtocolError(f"bad array: {type(error).__name__}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in ARRAY_KINDS:
        raise ProtocolError("an array that is not numeric")
    return array


def _count_arrays(node: Any) -> int:
    """How many distinct array slots a header refers to (the highest index + 1)."""
    highest, stack = -1, [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if set(item) == {"array"} and isinstance(item["array"], int):
                highest = max(highest, item["array"])
            else:
                stack.extend(item.values())
    return highest + 1


def resolve_args(value: Any) -> Any:
    """Wire values to call arguments: ``Rng(seed)`` becomes ``numpy.random.default_rng(seed)``."""
    if isinstance(value, Rng):
        return np.random.default_rng(value.seed)
    if isinstance(value, list):
        return [resolve_args(v) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve_args(v) for v in value)
    if isinstance(value, dict):
        return {k: resolve_args(v) for k, v in value.items()}
    return value


def copy_args(value: Any) -> Any:
    """A copy of every array in (nested) arguments, so a call cannot change the original."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [copy_args(v) for v in value]
    if isinstance(value, tuple):
        return tuple(copy_args(v) for v in value)
    if isinstance(value, dict):
        return {k: copy_args(v) for k, v in value.items()}
    return value


def canonical_key(value: Any) -> str:
    """A stable text key for call arguments, used to look up dependency answers.

    Numbers become floats, and a sequence of numbers is the same as a numeric array with those
    values, so ``(3, 4)``, ``[3.0, 4.0]`` and ``np.array([3, 4])`` share one key. Arrays of
    more than 32 entries are keyed by a hash of their float64 bytes and their shape.

    >>> canonical_key((3, 4)) == canonical_key([3.0, 4.0]) == canonical_key(np.array([3, 4]))
    True
    """

    def is_number(v: Any) -> bool:
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))

    def walk(v: Any) -> Any:
        if isinstance(v, (list, tuple)) and all(is_number(x) for x in v):
            v = np.asarray(v, dtype=np.float64)
        if v is None or isinstance(v, (str, bool)):
            return v
        if isinstance(v, Rng):
            return {"rng": v.seed}
        if is_number(v):
            return repr(float(v))
        if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
            data = np.asarray(v, dtype=np.float64)
            if data.size <= 32:
                return {"values": [repr(float(x)) for x in data.ravel()], "shape": list(data.shape)}
            return {"sha": hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest(), "shape": list(data.shape)}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {str(k): walk(x) for k, x in sorted(v.items())}
        return {"type": type(v).__name__}

    return json.dumps(walk(value), sort_keys=True)
