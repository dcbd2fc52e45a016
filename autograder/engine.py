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


def complete(runner: StudentRunner, checks: Sequence[Check], runs: list[CheckRun]) -> dict[str, list[dict]]:
    """``{check name: a reply to every probe}`` for each failed main check whose failure is an
    answer (not a stub, crash or missing module): a check stops at its first failed probe, but
    rubric credit and the choice of hint look at every main-check probe."""
    from .feedback.detect import NOT_A_MISTAKE

    replies = {}
    for check, run in zip(checks, runs):
        if not check.main or run.passed or run.failure is None or run.failure[1].get("error") in NOT_A_MISTAKE:
            continue
        rest = [runner.ask(module_of(check.function), check.function, p) for p in run.probes[len(run.replies):]]
        replies[check.name] = list(run.replies) + rest
    return replies


def rubric_credits(checks: Sequence[Check], runs: list[CheckRun], replies: dict[str, list[dict]]) -> dict:
    """``{function: Mistake}`` for each function whose main checks failed with a mistake that
    has a rubric value and reproduces every main-check answer (``feedback.credit``)."""
    from .feedback.credit import rubric_credit

    credits = {}
    for function in dict.fromkeys(c.function for c in checks):
        mains = [(c, r) for c, r in zip(checks, runs) if c.function == function and c.main]
        if all(r.passed for _, r in mains):
            continue
        answered = [(r.probes, r.replies if r.passed else replies.get(c.name, [])) for c, r in mains]
        if any(len(p) != len(a) for p, a in answered):
            continue
        mistake = rubric_credit(function, answered)
        if mistake is not None:
            credits[function] = mistake
    return credits


def diagnose(results: list[TestResult], replies: dict[str, list[dict]] | None = None) -> list[TestResult]:
    """Name the catalogued mistakes behind each function's failures (trusted process only):
    the ones that explain the most failed probes, in one block, on the function's first
    failed check."""
    from .feedback.detect import failed_probes, name_mistakes, passed_probes

    replies = replies or {}
    for function in dict.fromkeys(r.function for r in results):
        failed = [r for r in results if r.function == function and not r.passed and r.run is not None]
        if not failed:
            continue
        evidence = [pair for r in failed for pair in failed_probes(r.run, replies.get(r.name))]
        passed = [pair for r in results if r.function == function and r.run is not None
                  for pair in passed_probes(r.run, replies.get(r.name))]
        failed[0].mistakes = name_mistakes(function, evidence, passed)
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
        replies = complete(runner, checks, runs)
        output = runner.output()
        notes = list(runner.notes)
        description = runner.isolation.describe()
    results = score_checks(checks, runs, rubric_credits(checks, runs, replies))
    return SubmissionGrade(name, diagnose(results, replies), description, output, notes)
