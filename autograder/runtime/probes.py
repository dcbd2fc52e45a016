"""Probes: one request to the student's code and the rule that judges its reply.

A check is a list of probes. Each probe holds the worker request, a short label for
feedback ("batch_norm(x: (7, 5) array)") and what is expected. Judging happens here, in the
trusted process, on plain data only: replies are converted to exact float64 ndarrays first,
so no object the student's code built is ever compared.

Kinds:
- ``value``: the reply equals ``expected`` (arrays, floats, tuples, lists) within
  ``tolerances.VALUE``;
- ``raises``: the call raises ``expected["error"]`` (subclasses accepted) with a message
  that mentions one of ``expected["names"]``, the argument at fault;
- ``samples`` / ``orthogonal``: random draws judged by statistics (see ``tolerances``);
- ``same`` / ``differs``: the reply equals, or differs from, the reply to probe ``ref``;
- ``unmodified``: the call left its array arguments as they were;
- ``plain``: every returned array is an exact ``numpy.ndarray`` of float64, every scalar a
  float (Python or numpy);
- ``curve``: a schedule at many steps (one ``map`` request); ``expected`` holds the steps
  and the rates;
- ``session``: a ``BatchNorm``-style object's steps; ``expected`` lists one value per step
  (``None`` where the step is not judged).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import tolerances
from .protocol import Rng


@dataclass
class Probe:
    kind: str
    request: dict
    label: str
    expected: Any = None
    ref: int | None = None
    #: For shipped (visible) probes: the catalogued mistakes of the function with their
    #: answers to this probe, ``{"name", "explanation", "hint", "detect", "answer"}``.
    mistakes: list = field(default_factory=list)


@dataclass
class Verdict:
    ok: bool
    message: str = ""


# --- turning replies into plain values -----------------------------------------------------

def as_plain(described: Any) -> Any:
    """A described reply as plain Python/numpy values (float64 arrays, floats, lists)."""
    if not isinstance(described, dict):
        return None
    kind = described.get("kind")
    if kind in ("ndarray", "ndarray_subclass"):
        value = described.get("value")
        return np.array(value, dtype=np.float64) if isinstance(value, np.ndarray) else None
    if kind == "scalar":
        value = described.get("value")
        return float(value) if isinstance(value, (int, float)) else None
    if kind in ("list", "tuple"):
        items = [as_plain(item) for item in described.get("items", [])]
        return items if kind == "list" else tuple(items)
    return None


def type_name(described: Any) -> str:
    if not isinstance(described, dict):
        return "nothing"
    kind = described.get("kind")
    if kind in ("ndarray", "ndarray_subclass"):
        value = described.get("value")
        shape = getattr(value, "shape", "?")
        return f"{described.get('type')} of shape {tuple(shape)} and dtype {described.get('dtype')}"
    if kind == "scalar":
        return f"a {described.get('type')}"
    if kind in ("list", "tuple"):
        return f"a {kind} of {len(described.get('items', []))} items"
    if kind == "str":
        return "a str"
    return f"a {described.get('type', 'value')}"


# --- summaries for messages ----------------------------------------------------------------

class Bare(str):
    """An argument shown by its name, unquoted: the ``step`` of a schedule's curve label."""


def summarize(value: Any) -> str:
    """A short text for a value: arrays by shape (as Python writes it), small ones in full."""
    if isinstance(value, Bare):
        return str(value)
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return _nested(value.tolist())
        return f"{tuple(value.shape)} array"
    if isinstance(value, Rng):
        return repr(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        inner = ", ".join(summarize(v) for v in value[:4])
        return f"[{inner}{', ...' if len(value) > 4 else ''}]"
    if isinstance(value, tuple):
        return f"({', '.join(summarize(v) for v in value)}{',' if len(value) == 1 else ''})"
    return repr(value)


def _nested(value: Any) -> str:
    """Small arrays as nested lists of short numbers, independent of numpy's printing."""
    if isinstance(value, list):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def call_label(function: str, args: tuple | list = (), kwargs: dict | None = None) -> str:
    parts = [summarize(a) for a in args] + [f"{k}={summarize(v)}" for k, v in (kwargs or {}).items()]
    return f"{function}({', '.join(parts)})"


def _stats(array: np.ndarray) -> str:
    finite = array[np.isfinite(array)] if array.size else array
    if finite.size == 0:
        return "no finite entries"
    return f"mean {finite.mean():.4g}, std {finite.std():.4g}, min {finite.min():.4g}, max {finite.max():.4g}"


# --- comparing values ----------------------------------------------------------------------

def compare_values(expected: Any, got: Any, where: str = "the result") -> str | None:
    """Why ``got`` (plain) is not ``expected`` within ``tolerances.VALUE``; None when it is."""
    tol = tolerances.VALUE
    if isinstance(expected, np.ndarray):
        if isinstance(got, float) and expected.ndim == 0:
            got = np.array(got)
        if not isinstance(got, np.ndarray):
            return f"{where} should be an array of shape {expected.shape}, got {_kind_of(got)}"
        if got.shape != expected.shape:
            return f"{where} has shape {got.shape}; expected {expected.shape}"
        close = np.isclose(got, expected, rtol=tol.rtol, atol=tol.atol)
        close |= np.isnan(got) & np.isnan(expected)
        if close.all():
            return None
        excess = np.where(close, -np.inf, np.abs(np.nan_to_num(got - expected, nan=np.inf)))
        worst = np.unravel_index(int(np.argmax(excess)), got.shape)
        index = ", ".join(map(str, worst))
        return (f"{where}: {int((~close).sum())} of {close.size} entries differ; worst at [{index}]: "
                f"expected {expected[worst]:.6g}, got {got[worst]:.6g}. "
                f"Yours: {_stats(got)}; expected: {_stats(expected)}")
    if isinstance(expected, (float, int)) and not isinstance(expected, bool):
        if isinstance(got, np.ndarray) and got.size == 1 and got.ndim == 0:
            got = float(got)
        if not isinstance(got, float):
            return f"{where} should be a number, got {_kind_of(got)}"
        if math.isnan(expected) and math.isnan(got):
            return None
        if math.isclose(got, expected, rel_tol=tol.rtol, abs_tol=tol.atol) or got == expected:
            return None
        return f"{where} is {got:.10g}; expected {expected:.10g}"
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"{where} should be a {type(expected).__name__} of {len(expected)} items, got {_kind_of(got)}"
        if len(got) != len(expected):
            return f"{where} has {len(got)} items; expected {len(expected)}"
        for index, (e, g) in enumerate(zip(expected, got)):
            problem = compare_values(e, g, f"{where}[{index}]")
            if problem:
                return problem
        return None
    return None if expected == got else f"{where} is {got!r}; expected {expected!r}"


def _kind_of(value: Any) -> str:
    if value is None:
        return "a value of an unsupported type"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def _plain_types(described: Any, where: str = "the result") -> str | None:
    """Why the reply is not plain float64 ndarrays / floats; None when it is."""
    if not isinstance(described, dict):
        return f"{where} is missing"
    kind = described.get("kind")
    if kind == "ndarray_subclass":
        return f"{where} is a {described.get('type')}, a subclass of ndarray; return a plain numpy.ndarray"
    if kind == "ndarray" and described.get("dtype") != "float64":
        return f"{where} has dtype {described.get('dtype')}; compute and return float64"
    if kind in ("list", "tuple"):
        for index, item in enumerate(described.get("items", [])):
            problem = _plain_types(item, f"{where}[{index}]")
            if problem:
                return problem
    if kind == "scalar" and described.get("type") not in ("float", "float64"):
        return f"{where} is a {described.get('type')}; return a float"
    if kind in ("other", "str"):
        return f"{where} is {type_name(described)}"
    return None


# --- statistics of random draws ------------------------------------------------------------

def judge_samples(expected: dict, got: Any) -> str | None:
    """Why ``got`` does not look like draws of ``expected`` (dist, std, bound, shape)."""
    shape = tuple(expected["shape"])
    if not isinstance(got, np.ndarray):
        return f"should return an array of shape {shape}, got {_kind_of(got)}"
    if got.shape != shape:
        return f"returned shape {got.shape}; expected {shape}"
    if not np.isfinite(got).all():
        return "returned non-finite values"
    n, std = got.size, float(got.std())
    target = float(expected["std"])
    mean_limit = tolerances.MEAN_STANDARD_ERRORS * target / math.sqrt(n)
    if abs(got.mean()) > mean_limit:
        return f"the sample mean is {got.mean():.4g}; it should be 0 (within {mean_limit:.2g})"
    if abs(std - target) > tolerances.STD_RELATIVE * target:
        return (f"the sample std is {std:.5g}; expected {target:.5g} "
                f"(ratio {std / target:.3f}, allowed 1 ± {tolerances.STD_RELATIVE})")
    if expected["dist"] == "uniform":
        bound = float(expected["bound"])
        largest = float(np.abs(got).max())
        if largest > bound * (1 + tolerances.BOUND_ROUNDING):
            return f"a value of magnitude {largest:.6g} lies outside the bound {bound:.6g}"
        if largest < bound * tolerances.BOUND_REACH:
            return f"the largest magnitude is {largest:.6g}, well inside the bound {bound:.6g}: is the bound too small?"
    else:
        tail = float(np.mean(np.abs(got) > 2 * target))
        low, high = tolerances.NORMAL_TAIL_RANGE
        if not low <= tail <= high:
            return (f"{tail:.2%} of the values lie beyond 2 std; a normal distribution has 4.55%: "
                    "are these normal draws?")
    return None


def judge_orthogonal(expected: dict, got: Any) -> str | None:
    shape = tuple(expected["shape"])
    gain = float(expected["gain"])
    if not isinstance(got, np.ndarray):
        return f"should return an array of shape {shape}, got {_kind_of(got)}"
    if got.shape != shape:
        return f"returned shape {got.shape}; expected {shape}"
    flat = got.reshape(shape[0], -1)
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    target = gain**2 * np.eye(min(rows, cols))
    error = float(np.abs(gram - target).max()) if np.isfinite(gram).all() else math.inf
    if error > tolerances.ORTHOGONAL.atol * max(1.0, gain**2):
        which = "rows" if rows <= cols else "columns"
        norms = np.sqrt(np.diag(gram))
        return (f"the {which} of the {rows} x {cols} matrix are not orthonormal times gain={gain:g}: "
                f"W W^T differs from gain^2 I by up to {error:.3g} (their norms range "
                f"{norms.min():.4g} to {norms.max():.4g})")
    return None


# --- the judge -----------------------------------------------------------------------------

def message_names(message: str, names: list[str] | tuple[str, ...]) -> bool:
    """Whether an error message mentions one of ``names`` (whole words for short ones)."""
    import re

    lowered = message.lower()
    for name in names:
        name = name.lower()
        if len(name) <= 2:
            if re.search(rf"\b{re.escape(name)}\b", lowered):
                return True
        elif name in lowered:
            return True
    return False


def failure_text(reply: dict) -> str:
    """A student-facing sentence for an exception the student's code raised."""
    error = reply.get("error", "an error")
    where = f" at {reply['where']}" if reply.get("where") else ""
    message = reply.get("message", "")
    if error == "NotImplementedError":
        return message or "not implemented yet"
    if error in ("ModuleProblem", "WorkerFailure"):
        return message
    return f"raised {error}{where}: {message}" if message else f"raised {error}{where}"


def judge(probe: Probe, reply: dict, replies: list[dict]) -> Verdict:
    """Judge one reply. ``replies`` holds the replies to the earlier probes of the check."""
    kind = probe.kind
    if kind == "raises":
        wanted, names = probe.expected["error"], probe.expected.get("names", [])
        raised = reply.get("error") if not reply.get("ok") else None
        if raised and wanted in reply.get("bases", [raised]):
            if names and not message_names(reply.get("message", ""), names):
                return Verdict(False, f"raised {wanted}, but its message does not say which argument is wrong "
                                      f"(expected it to mention {names[0]!r}): {reply.get('message', '')!r}")
            return Verdict(True)
        if raised:
            return Verdict(False, f"should raise {wanted}, but {failure_text(reply)}")
        return Verdict(False, f"should raise {wanted}, but returned {type_name(reply.get('result'))}")
    if not reply.get("ok"):
        return Verdict(False, failure_text(reply))
    if kind == "session":
        return _judge_session(probe, reply)
    if kind == "curve":
        return _judge_curve(probe, reply)
    result = reply.get("result")
    got = as_plain(result)
    if kind == "value":
        problem = compare_values(probe.expected, got)
        return Verdict(problem is None, problem or "")
    if kind == "plain":
        problem = _plain_types(result)
        return Verdict(problem is None, problem or "")
    if kind == "samples":
        problem = judge_samples(probe.expected, got)
        return Verdict(problem is None, problem or "")
    if kind == "orthogonal":
        problem = judge_orthogonal(probe.expected, got)
        return Verdict(problem is None, problem or "")
    if kind in ("same", "differs"):
        earlier = as_plain(replies[probe.ref].get("result")) if probe.ref is not None and replies[probe.ref].get("ok") else None
        same = isinstance(got, np.ndarray) and isinstance(earlier, np.ndarray) and got.shape == earlier.shape and bool(np.array_equal(got, earlier))
        if kind == "same" and not same:
            return Verdict(False, "the same seed gave a different array: use the rng argument "
                                  "(numpy.random.default_rng(rng)) for every draw")
        if kind == "differs" and same:
            return Verdict(False, "different seeds gave the same array: the rng argument is ignored")
        return Verdict(True)
    if kind == "unmodified":
        before = probe.request.get("args", [])
        after = reply.get("args_after", [])
        for index, (b, a) in enumerate(zip(before, after)):
            if not _same_data(b, a):
                return Verdict(False, f"argument {index + 1} was modified in place; work on a copy "
                                      "(inputs must never change)")
        return Verdict(True)
    raise ValueError(f"unknown probe kind {kind!r}")


def judge_safely(probe: Probe, reply: dict, replies: list[dict]) -> Verdict:
    """``judge``, with an answer it cannot read (a forged reply) failing like any wrong one."""
    try:
        return judge(probe, reply, replies)
    except Exception as error:  # noqa: BLE001 - an unreadable answer fails its check
        return Verdict(False, f"unreadable answer ({type(error).__name__} while judging it)")


def reply_output(reply: Any) -> str:
    """The text the student's code printed during a call (``reply["output"]``), or ""."""
    text = reply.get("output") if isinstance(reply, dict) else None
    return text if isinstance(text, str) else ""


def _same_data(before: Any, after: Any) -> bool:
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and before.shape == after.shape and bool(
            np.array_equal(before, after, equal_nan=True))
    if isinstance(before, (list, tuple)):
        return isinstance(after, (list, tuple)) and len(before) == len(after) and all(
            _same_data(b, a) for b, a in zip(before, after))
    return True


def _judge_curve(probe: Probe, reply: dict) -> Verdict:
    """The first step whose rate is missing, raised, or differs from the target."""
    steps, expected = probe.expected["steps"], probe.expected["values"]
    results = reply.get("results", [])
    for step, want, item in zip(steps, expected, results + [None] * (len(steps) - len(results))):
        if not isinstance(item, dict):
            return Verdict(False, f"at step {step}: no answer")
        if not item.get("ok"):
            return Verdict(False, f"at step {step}: {failure_text(item)}")
        problem = compare_values(want, as_plain(item.get("result")), f"the rate at step {step}")
        if problem:
            return Verdict(False, problem)
    return Verdict(True)


def _judge_session(probe: Probe, reply: dict) -> Verdict:
    steps = probe.request.get("steps", [])
    results = reply.get("results", [])
    for index, expected in enumerate(probe.expected):
        if expected is None:
            continue
        what = session_position(steps, index)
        problem = compare_values(expected, as_plain(results[index]) if index < len(results) else None, what)
        if problem:
            return Verdict(False, problem)
    return Verdict(True)


def _call_text(step: list) -> str:
    x = step[1][0] if step[1] else None
    shown = str(tuple(x.shape)) if isinstance(x, np.ndarray) and x.size > 6 else summarize(x)
    return f"bn(x: {shown})"


def training_calls(steps: list, index: int) -> tuple[int, str]:
    """How many training calls (``bn(x)`` in training mode) the session made up to and
    including step ``index``, and the text of the last one ("" when none)."""
    training, count, last = True, 0, ""
    for step in steps[: index + 1]:
        if step[0] == "method" and step[1] in ("train", "eval"):
            training = step[1] == "train"
        elif step[0] == "call" and training:
            count, last = count + 1, _call_text(step)
    return count, last


def session_position(steps: list, index: int) -> str:
    """Where step ``index`` of a session is, counted in training calls (what moves the
    running statistics): "after training call 2, bn(x: (4, 8)): running_mean"."""
    step = steps[index]
    count, last = training_calls(steps, index)
    if step[0] == "call":
        if count > (training_calls(steps, index - 1)[0] if index else 0):  # this call trains
            return f"training call {count}, {_call_text(step)}: the output"
        where = f"after training call {count}" if count else "before any training call"
        return f"eval call {where}, {_call_text(step)}: the output"
    what = step[1] if step[0] in ("get", "set") else f"{step[1]}()"
    if not count:
        return f"before any training call: {what}"
    return f"after training call {count}, {last}: {what}"
