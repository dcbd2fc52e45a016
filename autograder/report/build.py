"""Turn check results (graded or self-check) into report sections, choosing the plots."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..runtime.runner import CheckRun
from .plots import plot_for


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


@dataclass
class FunctionSection:
    function: str
    checks: list[CheckLine]
    plot: bytes | None = None

    @property
    def earned(self) -> float:
        return round(math.fsum(c.points for c in self.checks), 2)

    @property
    def available(self) -> float:
        return round(math.fsum(c.max_points for c in self.checks), 2)


def group_by_function(lines: list[tuple[str, CheckLine]]) -> list[FunctionSection]:
    sections: dict[str, FunctionSection] = {}
    for function, line in lines:
        sections.setdefault(function, FunctionSection(function, [])).checks.append(line)
    return list(sections.values())


def choose_plot(section: FunctionSection) -> bytes | None:
    """The failed probe's plot; failing that (an error or rule check failed), the first
    probe of any check with the student's reply, so the target is still shown."""
    runs = [c.run for c in section.checks if c.run is not None]
    for run in runs:
        if run.failure:
            png = plot_for(section.function, *run.failure)
            if png:
                return png
    for run in runs:
        for probe, reply in zip(run.probes, run.replies):
            png = plot_for(section.function, probe, reply)
            if png:
                return png
    return None


def attach_plots(sections: list[FunctionSection], max_plots: int | None = None) -> int:
    """Plot the sections that lost points, in order, at most ``max_plots``; returns the count."""
    drawn = 0
    for section in sections:
        if section.earned < section.available and (max_plots is None or drawn < max_plots):
            section.plot = choose_plot(section)
            drawn += section.plot is not None
    return drawn
