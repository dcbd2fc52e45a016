"""The HTML feedback report of a graded submission."""
from __future__ import annotations

from ..engine import SubmissionGrade
from ..report.build import CheckLine, attach_plots, group_by_function
from ..report.html import render
from ..runtime.probes import reply_output
from ..runtime.rule import RULE_TEXT

#: Plots per report: they go to the functions that lost the most points and gave an answer
#: (``report.build.plot_order``). Each costs ~30 ms.
MAX_PLOTS = 3


def mistake_dicts(mistakes) -> list[dict]:
    return [{"name": m.name, "explanation": m.explanation, "hint": m.hint} for m in mistakes]


def check_line(test) -> CheckLine:
    """A graded check as a report line (the printed output of its failing call included)."""
    failure = test.run.failure if test.run is not None else None
    output = reply_output(failure[1]) if failure else ""
    return CheckLine(test.name, test.description, test.score, test.max_score, test.passed, test.label, test.message,
                     mistake_dicts(test.mistakes), test.run, status=test.status, output=output, partial=test.partial)


def feedback_html(grade: SubmissionGrade, max_plots: int | None = MAX_PLOTS) -> str:
    sections = group_by_function([(t.function, check_line(t)) for t in grade.tests])
    notes = [RULE_TEXT, *grade.notes, *attach_plots(sections, max_plots)]
    if grade.isolation:
        notes.append(f"Your code ran in isolation: {grade.isolation}.")
    return render(f"Feedback for {grade.submission}", "Stability Lab: normalization, initialization, "
                  "clipping and schedules", sections, notes)
