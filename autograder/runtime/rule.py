"""The scoring rule: one copy, used by ``grade``, ``make check``, ``pytest exercises`` and the
notebook preview, each on the checks it can see.

1. A function's points are split among its checks.
2. A *main* check (randomized inputs, hidden) earns its points when it passes.
3. Any other check earns its points when it passes **and** every main check of its function
   passes. Until that is known, a passed check is *pending*: it is shown as "counts once
   <function> passes its main checks", never as a failure and never as credit. Once every
   main check is known (``grade``) and one failed, it is *not counted*: "not counted:
   <function>'s main checks failed".
4. Partial credit (``grade`` only): when a main check fails and one catalogued mistake with a
   rubric value reproduces the student's answers on every main-check probe of the function,
   the function earns that fraction of its points instead, if that is more.

The self-check sees no main check (they are hidden), so everything it shows as credit is
credit that ``grade`` gives too; what it cannot know is shown as pending.

This module ships with the student release: it depends on nothing but the standard library.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

PASSED, FAILED, PENDING, NOT_COUNTED = "passed", "failed", "pending", "not counted"
GATED = "counts once {function} passes its main checks"
#: A passed check whose function's main checks failed, once grading is over (``grade``).
UNCOUNTED = "not counted: {function}'s main checks failed"

#: The rule as the student README and the self-check state it (three sentences).
RULE_TEXT = (
    "Each function's points are split among its checks; the main checks, on random inputs drawn "
    "for you, are hidden. A main check earns its points when it passes; every other check earns "
    "its points only once all main checks of its function pass: until that is known it shows as "
    "pending, and in the grade it is not counted if they fail. If the main checks fail with a catalogued mistake that has partial credit (and that "
    "mistake reproduces all your answers), the function earns that share of its points instead, "
    "if that is more."
)


@dataclass(frozen=True)
class Item:
    """One check as the rule sees it."""

    function: str
    main: bool
    points: float
    passed: bool


@dataclass(frozen=True)
class Scored:
    status: str      # PASSED, FAILED, PENDING or NOT_COUNTED
    score: float     # points earned now
    pending: float   # points that count once the function's main checks pass


def main_status(items: Sequence[Item], function: str, complete: bool) -> str:
    """``passed``, ``failed`` or ``pending`` (not known: the main checks are not all seen)."""
    mains = [i for i in items if i.function == function and i.main]
    if any(not i.passed for i in mains):
        return FAILED
    return PASSED if complete and mains else PENDING


def apply_rule(items: Sequence[Item], complete: bool) -> list[Scored]:
    """Score each item. ``complete``: every main check of every function is among ``items``
    (the grader); False for the self-check, which sees only the visible checks."""
    status = {f: main_status(items, f, complete) for f in {i.function for i in items}}
    scored = []
    for item in items:
        points = round(item.points, 4)
        if not item.passed:
            scored.append(Scored(FAILED, 0.0, 0.0))
        elif item.main or status[item.function] == PASSED:
            scored.append(Scored(PASSED, points, 0.0))
        elif complete and status[item.function] == FAILED:
            scored.append(Scored(NOT_COUNTED, 0.0, 0.0))
        else:
            scored.append(Scored(PENDING, 0.0, points))
    return scored


@dataclass
class FunctionEstimate:
    function: str
    earned: float
    pending: float
    available: float
    failed: int

    def as_dict(self) -> dict:
        return {"earned": self.earned, "pending": self.pending, "available": self.available,
                "failed_checks": self.failed}


def by_function(items: Sequence[Item], scored: Sequence[Scored]) -> list[FunctionEstimate]:
    """Per-function sums of ``apply_rule``'s result, in the items' order."""
    rows: dict[str, list] = {}
    for item, result in zip(items, scored):
        row = rows.setdefault(item.function, [[], [], [], 0])
        row[0].append(result.score)
        row[1].append(result.pending)
        row[2].append(item.points)
        row[3] += result.status == FAILED
    return [FunctionEstimate(f, round(math.fsum(e), 2), round(math.fsum(p), 2), round(math.fsum(a), 2), n)
            for f, (e, p, a, n) in rows.items()]
