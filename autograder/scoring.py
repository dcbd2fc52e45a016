"""Points: a check earns its share only if it passed and its function's main checks passed.

This is the step that makes shortcuts worthless: a function that returns zeros, or a lookup
table of the visible examples, fails its randomized main checks, and then its edge-case,
error and visible checks earn nothing either.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .runtime.runner import CheckRun
from .suite.registry import Check

GATED = "counts once {function} passes its main checks"


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


def score_checks(checks: list[Check], runs: list[CheckRun]) -> list[TestResult]:
    """Apply the gating rule to each function's checks and return their results."""
    main_failed = {c.function for c, r in zip(checks, runs) if c.main and not r.passed}
    results = []
    for check, run in zip(checks, runs):
        earns = run.passed and (check.main or check.function not in main_failed)
        message = run.message
        if run.passed and not earns:
            message = GATED.format(function=check.function)
        results.append(TestResult(check.name, check.function, check.description, check.visibility,
                                  round(check.points, 4), round(check.points, 4) if earns else 0.0,
                                  run.passed, check.main, message, run.label, run))
    return results
