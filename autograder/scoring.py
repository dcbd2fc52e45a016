"""Points: the one rule of ``runtime.rule`` applied to every check of a submission, plus the
rubric's partial credit for a named mistake.

A check earns its share only if it passed and its function's main checks passed. This is the
step that makes shortcuts worthless: a function that returns zeros, or a lookup table of the
visible examples, fails its randomized main checks, and then its edge-case, error and visible
checks earn nothing either (they show as not counted). Partial credit (``feedback.credit``) needs
a mistake's mutant to reproduce every main-check answer, which no shortcut does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .runtime.rule import FAILED, GATED, NOT_COUNTED, PASSED, PENDING, UNCOUNTED, Item, apply_rule
from .runtime.runner import CheckRun
from .suite.registry import Check

__all__ = ["GATED", "UNCOUNTED", "TestResult", "score_checks", "PASSED", "FAILED", "PENDING", "NOT_COUNTED"]

PARTIAL = "partial credit: {mistake} keeps {share:.0%} of {function}'s points"


@dataclass
class TestResult:
    """One check's result for one submission, as reported to the student."""

    name: str
    function: str
    description: str
    visibility: str
    max_score: float
    score: float
    passed: bool
    main: bool
    message: str
    label: str = ""
    run: CheckRun | None = field(default=None, repr=False)
    #: Catalogued mistakes that explain a failure (``feedback.catalogue.Mistake``).
    mistakes: list = field(default_factory=list)
    #: ``passed``, ``failed``, ``not counted`` (passed, but its function's main checks did not)
    #: or ``pending`` (main checks not known; never once grading is over).
    status: str = ""
    #: The mistake whose rubric credit this check's points come from ("" when none).
    partial: str = ""


def _split(total: float, points: list[float]) -> list[float]:
    """``total`` split in proportion to ``points``, in hundredths that add up exactly."""
    whole = math.fsum(points)
    cents = [round(100 * total * p / whole) for p in points]
    cents[0] += round(100 * total) - sum(cents)
    return [c / 100 for c in cents]


def score_checks(checks: list[Check], runs: list[CheckRun], credits: dict | None = None) -> list[TestResult]:
    """Apply the rule to each function's checks and return their results. ``credits``:
    ``{function: Mistake}`` whose rubric value the function earns when that is more."""
    items = [Item(c.function, c.main, c.points, r.passed) for c, r in zip(checks, runs)]
    results = []
    for check, run, scored in zip(checks, runs, apply_rule(items, complete=True)):
        gated = {NOT_COUNTED: UNCOUNTED, PENDING: GATED}.get(scored.status)
        message = gated.format(function=check.function) if gated else run.message
        results.append(TestResult(check.name, check.function, check.description, check.visibility,
                                  round(check.points, 4), scored.score, run.passed, check.main, message,
                                  run.label, run, status=scored.status))
    for function, mistake in (credits or {}).items():
        mine = [t for t in results if t.function == function]
        total = math.fsum(t.max_score for t in mine)
        keep = round(mistake.credit * total, 2)
        if not mine or keep <= math.fsum(t.score for t in mine):
            continue
        note = PARTIAL.format(mistake=mistake.name, share=mistake.credit, function=function)
        for test, share in zip(mine, _split(keep, [t.max_score for t in mine])):
            test.score, test.partial = share, mistake.name
            # A passed check now earns its share of the credit: "not counted" no longer holds.
            counted = test.passed and test.status in (NOT_COUNTED, PENDING)
            test.message = note if counted or not test.message else f"{test.message} ({note})"
    return results
