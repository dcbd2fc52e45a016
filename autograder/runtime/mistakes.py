"""Does a student's reply look like a known mistake's answer? (Plain data on both sides.)

A mistake's *answer* to a probe is what the reference with that mistake patched in returned
for the same question: computed by the grader (``feedback.detect``) or shipped with the
visible checks. This module only compares, so it ships to students with the runtime.

Answer formats by probe kind:
- ``value``, ``raises``: an outcome, ``["value", plain]`` or ``["raises", [error, message]]``;
- ``curve``: a list of outcomes, one per step;
- ``session``: ``{"steps": [plain or None, ...], "error": [index, name] or None}``;
- ``samples``, ``orthogonal``: an outcome whose value is a ``draw_signature``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import tolerances
from .probes import Probe, as_plain, compare_values, message_names

RULE_KINDS = {"same": "determinism", "differs": "determinism", "unmodified": "unmodified", "plain": "plain"}


def outcome_of_reply(reply: dict) -> list:
    if reply.get("ok"):
        return ["value", as_plain(reply.get("result"))]
    return ["raises", [reply.get("error"), reply.get("message", "")]]


def draw_signature(array: Any, spectrum: bool = False) -> dict | None:
    """What identifies how random weights were drawn: shape, std, tails, extremes, and (with
    ``spectrum``, for orthogonal probes) whether the matrix is orthogonal, with which gain.
    "Orthogonal" uses the tolerance the check passes with (``tolerances.ORTHOGONAL``)."""
    if not isinstance(array, np.ndarray) or array.size == 0 or not np.isfinite(array).all():
        return None
    std = float(array.std())
    flat = array.reshape(array.shape[0], -1)
    orthogonal, gain, error, rms = False, math.nan, math.nan, math.nan
    if spectrum and flat.shape[0] * flat.shape[1] <= 250_000 and min(flat.shape) <= 512:
        values = np.linalg.svd(flat, compute_uv=False)
        mean = float(values.mean())
        rms = float(np.sqrt(np.mean(values**2)))
        # The judge's measure (``probes.judge_orthogonal``): W W^T (or W^T W) against gain^2 I.
        gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
        error = float(np.abs(gram - mean**2 * np.eye(gram.shape[0])).max())
        orthogonal = bool(error <= tolerances.ORTHOGONAL.atol * max(1.0, mean**2))
        gain = round(mean, 4) if orthogonal else math.nan
    return {"shape": list(array.shape), "std": std,
            "tail": float(np.mean(np.abs(array) > 2 * std)) if std > 0 else 0.0,
            "max": float(np.abs(array).max()), "spectrum": spectrum, "orthogonal": orthogonal, "gain": gain,
            "error": error, "rms": rms}


def signatures_agree(student: dict | None, mutant: dict | None) -> bool:
    """The same draws, judged with the tolerances the checks pass with."""
    if not student or not mutant or student["shape"] != mutant["shape"]:
        return False
    if mutant.get("spectrum"):  # orthogonal probes: small matrices, so the spectrum tells
        if student["orthogonal"] != mutant["orthogonal"]:
            return False
        if mutant["orthogonal"]:
            return abs(student["gain"] - mutant["gain"]) < 1e-3
        # Neither passes: the same scale (root-mean-square singular value) and an error of the
        # same order tell a nearly orthogonal matrix (float32, ~1e-7) from a Gaussian one (~1).
        # A grossly wrong matrix (a Gaussian one) varies from draw to draw: its error's order
        # is what it shares with the student's.
        try:
            same_order = abs(math.log10(student["error"]) - math.log10(mutant["error"])) < 1.5
            if mutant["error"] >= 1e-3:
                return same_order
            return same_order and abs(student["rms"] / mutant["rms"] - 1) < 1e-3
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return False
    if mutant["std"] == 0 or abs(student["std"] / mutant["std"] - 1) > tolerances.STD_RELATIVE:
        return False
    if mutant["tail"] < 0.01:  # uniform-like draws: the extremes tell the bound
        return abs(student["max"] / mutant["max"] - 1) < 0.01
    return abs(student["tail"] - mutant["tail"]) < 0.01


def _same_outcome(student: list, mutant: list, names: list[str] | None = None) -> bool:
    if student[0] != mutant[0]:
        return False
    if student[0] == "raises":
        if student[1][0] != mutant[1][0]:
            return False
        if names:  # both say which argument is wrong, or both fail to
            return message_names(student[1][1] or "", names) == message_names(mutant[1][1] or "", names)
        return True
    return compare_values(mutant[1], student[1]) is None


def answer_matches(probe: Probe, answer: Any, reply: dict) -> bool:
    """Whether the student's ``reply`` to ``probe`` equals a mistake's ``answer``."""
    kind = probe.kind
    if kind == "value":
        return _same_outcome(outcome_of_reply(reply), answer)
    if kind == "raises":
        names = probe.expected.get("names") if isinstance(probe.expected, dict) else None
        if answer[0] == "raises" and answer[1][0] == "ValueError" and (
                not names or message_names(answer[1][1] or "", names)):
            return False  # this mistake gets the probe right, so it cannot explain the failure
        student = outcome_of_reply(reply)
        if student[0] == "value" and answer[0] == "value":
            return True
        return _same_outcome(student, answer, names)
    if kind == "curve":
        items = reply.get("results", []) if reply.get("ok") else []
        return len(items) == len(answer) and all(
            _same_outcome(outcome_of_reply(item), want) for item, want in zip(items, answer))
    if kind == "session":
        results = reply.get("results", [])
        error = answer.get("error")
        if error is not None:
            index, name = error
            if reply.get("ok") or reply.get("error") != name or len(results) != index:
                return False
        elif not reply.get("ok"):
            return False
        judged = [i for i, e in enumerate(probe.expected) if e is not None and i < len(answer["steps"])]
        return all(i < len(results) and compare_values(answer["steps"][i], as_plain(results[i])) is None
                   for i in judged if answer["steps"][i] is not None)
    if kind in ("samples", "orthogonal"):
        student = outcome_of_reply(reply)
        if student[0] != answer[0]:
            return False
        if student[0] == "raises":
            return student[1][0] == answer[1][0]
        return signatures_agree(draw_signature(student[1], kind == "orthogonal"), answer[1])
    return False


def answer_is_right(probe: Probe, answer: Any) -> bool:
    """Whether a mistake's ``answer`` to ``probe`` would pass it: then the mistake cannot
    explain a failure there (it gives the reference's answer), so it is never named there."""
    if answer is None:
        return False
    kind, expected = probe.kind, probe.expected
    try:
        if kind == "value":
            return answer[0] == "value" and compare_values(expected, answer[1]) is None
        if kind == "raises":
            names = expected.get("names") or []
            return answer[0] == "raises" and answer[1][0] == expected["error"] and (
                not names or message_names(answer[1][1] or "", names))
        if kind == "curve":
            return len(answer) == len(expected["values"]) and all(
                a[0] == "value" and compare_values(want, a[1]) is None for a, want in zip(answer, expected["values"]))
        if kind == "session":
            if answer.get("error") is not None:
                return False
            steps = answer.get("steps", [])
            return all(e is None or (i < len(steps) and steps[i] is not None and compare_values(e, steps[i]) is None)
                       for i, e in enumerate(expected))
        if kind in ("samples", "orthogonal"):
            if answer[0] != "value" or not answer[1] or list(answer[1]["shape"]) != list(expected["shape"]):
                return False
            signature = answer[1]
            if kind == "orthogonal":
                return signature["orthogonal"] and abs(signature["gain"] - float(expected["gain"])) < 1e-3
            target = float(expected["std"])
            if abs(signature["std"] / target - 1) > tolerances.STD_RELATIVE:
                return False
            if expected["dist"] == "uniform":
                return abs(signature["max"] / float(expected["bound"]) - 1) < 0.01
            low, high = tolerances.NORMAL_TAIL_RANGE
            return low <= signature["tail"] <= high
    except (TypeError, KeyError, IndexError, ValueError, ZeroDivisionError):
        return False
    return False


def rule_kind(probe: Probe) -> str | None:
    """The mistake kind a failure of this probe shows by itself (determinism, ...), if any."""
    return RULE_KINDS.get(probe.kind)


def shipped_mistakes(probe: Probe, reply: dict) -> list[dict]:
    """The mistakes shipped with a visible probe that explain the student's failed reply."""
    if reply.get("error") in ("WorkerFailure", "ModuleProblem", "NotImplementedError"):
        return []
    rule = rule_kind(probe)
    found = []
    for mistake in probe.mistakes:
        if rule or mistake["detect"] != "output":
            if rule == mistake["detect"]:
                found.append(mistake)
        elif mistake.get("answer") is not None:
            try:
                if not answer_is_right(probe, mistake["answer"]) and answer_matches(probe, mistake["answer"], reply):
                    found.append(mistake)
            except Exception:  # noqa: BLE001 - feedback must never break the self-check
                continue
    return found


def breaks_a_pass(answer: Any, probe: Probe) -> bool:
    """Whether a mistake's ``answer`` to ``probe``, a probe the student passes, would fail it:
    then following that mistake's hint would break what the student got right, so the
    mistake is not named for the function (rule probes and missing answers break nothing)."""
    if answer is None or rule_kind(probe):
        return False
    return not answer_is_right(probe, answer)


def most_probes(counts: dict[str, int]) -> list[str]:
    """The mistakes that explain the most failed probes (ties kept, in their order); none
    when no mistake explains any."""
    best = max(counts.values(), default=0)
    return [name for name, count in counts.items() if count == best and best > 0]
