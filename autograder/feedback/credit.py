"""Rubric credit: a named mistake keeps its share of the function's points (``catalogue.
PARTIAL_CREDIT``) only when its mutant reproduces the student's answers on **every** probe of
every main check of the function. Main checks draw their inputs for each submission, so a
lookup table or a constant never reproduces a mutant there; the credit applies to that
function only.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..runtime.mistakes import answer_is_right, answer_matches, rule_kind
from ..runtime.probes import Probe, judge_safely
from .catalogue import Mistake, for_function
from .detect import NOT_A_MISTAKE, mutant_answer


def reproduces(mistake: Mistake, probes: Sequence[Probe], replies: Sequence[dict]) -> bool:
    """Whether ``mistake``'s mutant gives the student's answer to every probe of one check:
    where the mutant is right the student must be right, elsewhere the answers must agree."""
    if len(replies) != len(probes):
        return False
    for index, (probe, reply) in enumerate(zip(probes, replies)):
        if reply.get("error") in NOT_A_MISTAKE:
            return False
        if rule_kind(probe):
            right = True  # an output mistake keeps the rules (determinism, types, inputs)
        else:
            answer = mutant_answer(mistake, probe)
            if answer is None:
                return False
            right = answer_is_right(probe, answer)
            if not right:
                if not answer_matches(probe, answer, reply):
                    return False
                continue
        if right and not judge_safely(probe, reply, list(replies[:index + 1])).ok:
            return False
    return True


def rubric_credit(function: str, main_checks: Sequence[tuple[Sequence[Probe], Sequence[dict]]]) -> Mistake | None:
    """The mistake with a rubric value (the largest, if several) whose mutant reproduces every
    answer of every main check of ``function``; ``main_checks`` holds ``(probes, replies)``
    with a reply for every probe."""
    best = None
    for mistake in for_function(function):
        if mistake.credit <= 0 or mistake.detect != "output":
            continue
        try:
            with np.errstate(all="ignore"):
                ok = all(reproduces(mistake, probes, replies) for probes, replies in main_checks)
        except Exception:  # noqa: BLE001 - credit must never break grading
            ok = False
        if ok and (best is None or mistake.credit > best.credit):
            best = mistake
    return best
