"""Grade one submission: build the probes, run them in the worker, judge, score.

The steps are separate functions so that each can be tested alone:
``plan`` (checks -> probes, in the trusted process, with the reference's answers),
``execute`` (probes -> replies and verdicts, student code only in the worker) and
``scoring.score_checks`` (verdicts -> points) and ``diagnose`` (failures -> named mistakes).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .runtime.probes import Probe
from .runtime.runner import CheckRun, StudentRunner
from .runtime.sandbox import Isolation, Limits
from .runtime.sources import Sources
from .scoring import TestResult, score_checks
from .suite.reference import Reference
from .suite.registry import Check, all_checks, build_probes
from .suite.weights import module_of


@dataclass
class SubmissionGrade:
    submission: str
    tests: list[TestResult]
    isolation: str = ""
    output: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(math.fsum(t.score for t in self.tests), 2)

    @property
    def max_score(self) -> float:
        return round(math.fsum(t.max_score for t in self.tests), 2)


def plan(checks: Sequence[Check], submission: str, reference: Reference) -> list[list[Probe]]:
    """The probes of every check for this submission (hidden inputs seeded by its name)."""
    return [build_probes(check, submission, reference) for check in checks]


def execute(runner: StudentRunner, checks: Sequence[Check], probes: list[list[Probe]]) -> list[CheckRun]:
    """Run every check's probes in the submission's worker."""
    return [runner.run(module_of(c.function), c.function, p) for c, p in zip(checks, probes)]


def diagnose(results: list[TestResult]) -> list[TestResult]:
    """Name the catalogued mistakes behind each failed check (trusted process only)."""
    from .feedback.detect import detect

    for result in results:
        if not result.passed and result.run is not None:
            result.mistakes = detect(result.function, result.run)
    return results


def grade_submission(folder: Path | Sources, name: str | None = None, *, limits: Limits | None = None,
                     isolation: Isolation | None = None, checks: Sequence[Check] | None = None,
                     reference: Reference | None = None) -> SubmissionGrade:
    """Grade the exercise modules in ``folder`` (or ``Sources`` already read); ``name``
    (default: the folder's name) seeds the hidden inputs. ``isolation``: the run's level
    (default: the strongest this machine offers)."""
    if name is None:
        if isinstance(folder, Sources):
            raise ValueError("name is required when grading Sources")
        name = Path(folder).name
    checks = list(checks if checks is not None else all_checks())
    probes = plan(checks, name, reference or Reference())
    with StudentRunner(folder, limits, isolation) as runner:
        runs = execute(runner, checks, probes)
        output = runner.output()
        notes = list(runner.notes)
        description = runner.isolation.describe()
    return SubmissionGrade(name, diagnose(score_checks(checks, runs)), description, output, notes)
