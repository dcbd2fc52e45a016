"""The HTML feedback report of a graded submission."""
from __future__ import annotations

from ..engine import SubmissionGrade
from ..report.build import CheckLine, attach_plots, group_by_function
from ..report.html import render

#: Plots per report: one per function that lost points, the first ones in contract order.
#: Each costs ~30 ms, so a stub submission (every function lost) stays within budget.
MAX_PLOTS = 3


def mistake_dicts(mistakes) -> list[dict]:
    return [{"name": m.name, "explanation": m.explanation, "hint": m.hint} for m in mistakes]


def feedback_html(grade: SubmissionGrade, max_plots: int | None = MAX_PLOTS) -> str:
    lines = [(t.function, CheckLine(t.name, t.description, t.score, t.max_score, t.passed, t.label, t.message,
                                    mistake_dicts(t.mistakes), t.run)) for t in grade.tests]
    sections = group_by_function(lines)
    attach_plots(sections, max_plots)
    notes = list(grade.notes)
    if grade.isolation:
        notes.append(f"Your code ran in isolation: {grade.isolation}.")
    return render(f"Feedback for {grade.submission}", "Stability Lab: normalization, initialization, "
                  "clipping and schedules", sections, notes)
