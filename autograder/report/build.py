"""Turn check results (graded or self-check) into report sections, choosing the plots.

The plot budget goes to the functions that lost the most points and gave an answer: a stub
has nothing to compare, so an unwritten function gets one line, and the report says which
functions' plots were left out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..runtime.runner import CheckRun
from ..runtime.selfcheck import stub_reply
from .plots import plot_for

#: Replies that carry no answer from the student's code.
NO_ANSWER = ("NotImplementedError", "ModuleProblem", "WorkerFailure")


@dataclass
class CheckLine:
    name: str
    description: str
    points: float
    max_points: float
    passed: bool
    label: str = ""
    message: str = ""
    #: ``{"name", "explanation", "hint"}`` for each named mistake.
    mistakes: list[dict] = field(default_factory=list)
    run: CheckRun | None = field(default=None, repr=False)
    #: ``passed``, ``failed`` or ``pending`` (``runtime.rule``); "" means passed or failed.
    status: str = ""
    #: What the student's code printed during the failing call.
    output: str = ""
    #: The mistake whose rubric credit this check's points come from.
    partial: str = ""

    @property
    def pending(self) -> float:
        """Points that count once the function's main checks pass (self-check only)."""
        return self.max_points if self.status == "pending" and self.points == 0 and self.passed else 0.0


@dataclass
class FunctionSection:
    function: str
    checks: list[CheckLine]
    plot: bytes | None = None
    #: In the self-check a pending check is not lost: its points wait for the hidden checks.
    estimate: bool = False

    @property
    def earned(self) -> float:
        return round(math.fsum(c.points for c in self.checks), 2)

    @property
    def available(self) -> float:
        return round(math.fsum(c.max_points for c in self.checks), 2)

    @property
    def pending(self) -> float:
        return round(math.fsum(c.pending for c in self.checks), 2) if self.estimate else 0.0

    @property
    def lost(self) -> float:
        return round(self.available - self.earned - self.pending, 2)

    @property
    def replies(self) -> list[dict]:
        return [reply for c in self.checks if c.run is not None for reply in c.run.replies]

    @property
    def unwritten(self) -> bool:
        """Every call raised the stub's NotImplementedError."""
        replies = self.replies
        return bool(replies) and all(stub_reply(r) for r in replies)

    @property
    def answered(self) -> bool:
        """The student's code gave at least one answer (a value, or its own exception)."""
        return any((r.get("ok") or r.get("error") not in NO_ANSWER) and not stub_reply(r) for r in self.replies)


def group_by_function(lines: list[tuple[str, CheckLine]], estimate: bool = False) -> list[FunctionSection]:
    sections: dict[str, FunctionSection] = {}
    for function, line in lines:
        sections.setdefault(function, FunctionSection(function, [], estimate=estimate)).checks.append(line)
    return list(sections.values())


def choose_plot(section: FunctionSection) -> bytes | None:
    """The failed probe's plot (for a schedule, the failed curve with the most steps, so the
    whole range is drawn); failing that (an error or rule check failed), the first probe of
    any check with the student's reply, so the target is still shown."""
    runs = [c.run for c in section.checks if c.run is not None]
    failures = [run.failure for run in runs if run.failure]
    curves = [f for f in failures if f[0].kind == "curve"]
    if curves:
        failures = sorted(curves, key=lambda f: -len(f[0].expected["steps"])) + failures
    for failure in failures:
        png = plot_for(section.function, *failure)
        if png:
            return png
    for run in runs:
        for probe, reply in zip(run.probes, run.replies):
            png = plot_for(section.function, probe, reply)
            if png:
                return png
    return None


def plot_order(sections: list[FunctionSection]) -> list[FunctionSection]:
    """The sections that deserve a plot, most points lost first: they lost points and the
    student's code answered something (contract order breaks ties)."""
    candidates = [s for s in sections if s.lost > 0 and s.answered]
    return sorted(candidates, key=lambda s: -s.lost)


def attach_plots(sections: list[FunctionSection], max_plots: int | None = None) -> list[str]:
    """Plot the sections in ``plot_order``, at most ``max_plots``; returns the report's notes
    about what was left out (unwritten functions, the budget)."""
    drawn, left_out = [], []
    for section in plot_order(sections):
        if max_plots is not None and len(drawn) >= max_plots:
            left_out.append(section.function)
            continue
        section.plot = choose_plot(section)
        if section.plot is not None:
            drawn.append(section.function)
    notes = []
    if left_out:
        notes.append(f"Plots are limited to {max_plots} per report and go to the functions that lost the most "
                     f"points: {', '.join(drawn)}. Left out: {', '.join(left_out)}.")
    unwritten = [s.function for s in sections if s.unwritten]
    if unwritten:
        notes.append(f"Not written yet (no plot, one line each): {', '.join(unwritten)}.")
    return notes
