"""Name the mistake behind a failed check, from the student's answers alone.

For the probe that failed, each catalogued mistake of the function is asked the same
question (its mutant runs here, in the trusted process). The mistake matches when its answer
agrees with the student's: the same values within ``tolerances.VALUE``, the same error, the
same statistics for random draws. Probe kinds that test a rule rather than a value
(determinism, inputs unmodified, output types) match the mistakes of that kind.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..runtime.probes import Probe, as_plain, compare_values, message_names
from ..runtime.runner import CheckRun
from ..suite.reference import copy_args, resolve_args, to_plain
from .catalogue import Mistake, for_function
from .mutants import load_mutant

RULE_KINDS = {"same": "determinism", "differs": "determinism", "unmodified": "unmodified", "plain": "plain"}


def detect(function: str, run: CheckRun) -> list[Mistake]:
    """The catalogued mistakes of ``function`` that explain the failed ``run``."""
    if run.passed or not run.replies:
        return []
    probe, reply = run.probes[len(run.replies) - 1], run.replies[-1]
    if reply.get("error") in ("WorkerFailure", "ModuleProblem", "NotImplementedError"):
        return []
    found = []
    for mistake in for_function(function):
        rule = RULE_KINDS.get(probe.kind)
        if rule or mistake.detect != "output":
            if rule == mistake.detect:
                found.append(mistake)
            continue
        try:
            with np.errstate(all="ignore"):
                if _matches(mistake, probe, reply):
                    found.append(mistake)
        except Exception:  # noqa: BLE001 - a detector must never break grading
            continue
    return found


# --- outcomes of a call, comparable between the student and a mutant -----------------------

def _outcome(call) -> tuple[str, Any]:
    """("value", plain result) or ("raises", (error name, message))."""
    try:
        return "value", to_plain(call())
    except Exception as error:  # noqa: BLE001
        return "raises", (type(error).__name__, str(error))


def _student_outcome(reply: dict) -> tuple[str, Any]:
    if reply.get("ok"):
        return "value", as_plain(reply.get("result"))
    return "raises", (reply.get("error"), reply.get("message", ""))


def _same_outcome(student: tuple, mutant: tuple, names: list[str] | None = None) -> bool:
    if student[0] != mutant[0]:
        return False
    if student[0] == "raises":
        if student[1][0] != mutant[1][0]:
            return False
        if names:  # both fail to say which argument is wrong, or both say it
            return message_names(student[1][1], names) == message_names(mutant[1][1], names)
        return True
    return compare_values(mutant[1], student[1]) is None


def _mutant_call(module, request: dict, args=None, kwargs=None):
    function = getattr(module, request["function"])
    args = request.get("args", []) if args is None else args
    kwargs = request.get("kwargs", {}) if kwargs is None else kwargs
    return lambda: function(*resolve_args(copy_args(args)), **resolve_args(copy_args(kwargs)))


def _matches(mistake: Mistake, probe: Probe, reply: dict) -> bool:
    mutant = load_mutant(mistake.name)
    request = probe.request
    if probe.kind == "value":
        return _same_outcome(_student_outcome(reply), _outcome(_mutant_call(mutant, request)))
    if probe.kind == "raises":
        names = probe.expected.get("names") if isinstance(probe.expected, dict) else None
        mutant_outcome = _outcome(_mutant_call(mutant, request))
        if mutant_outcome[0] == "raises" and mutant_outcome[1][0] == "ValueError" and (
                not names or message_names(mutant_outcome[1][1], names)):
            return False  # the mutant gets this probe right: it is not the mistake shown here
        student = _student_outcome(reply)
        if student[0] == "value" and mutant_outcome[0] == "value":
            return True
        return _same_outcome(student, mutant_outcome, names)
    if probe.kind == "curve":
        if not reply.get("ok"):
            return False
        for (args, kwargs), item in zip(request["calls"], reply.get("results", [])):
            if not _same_outcome(_student_outcome(item), _outcome(_mutant_call(mutant, request, args, kwargs))):
                return False
        return True
    if probe.kind == "session":
        return _session_matches(mutant, probe, reply)
    if probe.kind in ("samples", "orthogonal"):
        mutant_outcome = _outcome(_mutant_call(mutant, request))
        student = _student_outcome(reply)
        if student[0] != mutant_outcome[0]:
            return False
        if student[0] == "raises":
            return student[1][0] == mutant_outcome[1][0]
        return _same_draws(student[1], mutant_outcome[1], probe)
    return False


def _same_draws(student: Any, mutant: Any, probe: Probe) -> bool:
    """Random arrays drawn the same (wrong) way: shape, std, spread and orthogonality agree."""
    if not isinstance(student, np.ndarray) or not isinstance(mutant, np.ndarray):
        return False
    if student.shape != mutant.shape or not np.isfinite(student).all():
        return False
    s_std, m_std = float(student.std()), float(mutant.std())
    if m_std == 0 or abs(s_std / m_std - 1) > 0.03:
        return False
    if probe.kind == "orthogonal":
        return _gain_profile(student) == _gain_profile(mutant)
    s_tail = float(np.mean(np.abs(student) > 2 * m_std))
    m_tail = float(np.mean(np.abs(mutant) > 2 * m_std))
    s_max, m_max = float(np.abs(student).max()), float(np.abs(mutant).max())
    uniform_like = m_tail < 0.01
    if uniform_like:
        return abs(s_max / m_max - 1) < 0.01
    return abs(s_tail - m_tail) < 0.01


def _gain_profile(array: np.ndarray) -> tuple[bool, float]:
    """(orthogonal up to a common gain?, that gain to 4 digits)."""
    flat = array.reshape(array.shape[0], -1)
    values = np.linalg.svd(flat, compute_uv=False)
    orthogonal = bool(values.max() - values.min() < 1e-6 * max(1.0, values.max()))
    return orthogonal, round(float(values.mean()), 4) if orthogonal else math.nan


def _session_matches(mutant, probe: Probe, reply: dict) -> bool:
    """Every judged step of the student's session equals the mutant's."""
    request = probe.request
    init_args, init_kwargs = request.get("init", [[], {}])
    student_results = reply.get("results", [])
    try:
        obj = getattr(mutant, request["cls"])(*init_args, **copy_args(init_kwargs))
    except Exception:  # noqa: BLE001
        return False
    for index, step in enumerate(request.get("steps", [])):
        try:
            if step[0] == "call":
                value = to_plain(obj(*copy_args(step[1])))
            elif step[0] == "method":
                getattr(obj, step[1])()
                value = None
            elif step[0] == "set":
                setattr(obj, step[1], copy_args(step[2]))
                value = None
            else:
                value = to_plain(getattr(obj, step[1]))
        except Exception as error:  # noqa: BLE001
            return not reply.get("ok") and reply.get("error") == type(error).__name__ and index == len(student_results)
        if probe.expected[index] is None:
            continue
        if index >= len(student_results):
            return False
        if compare_values(value, as_plain(student_results[index])) is not None:
            return False
    return bool(reply.get("ok"))
