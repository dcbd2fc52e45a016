"""Gradescope-format ``results.json`` for one graded submission.

Top level: ``score``, ``max_score``, ``output``, ``tests``; each test has ``name``, ``score``,
``max_score``, ``status``, ``output``, ``visibility`` and ``tags`` (the first tag is the
graded function or class, exactly as the contract names it). Text is capped so that a file
stays far below 1 MiB whatever the student's code printed.
"""
from __future__ import annotations

import json

from .engine import SubmissionGrade

#: Gradescope visibility of the hidden checks' results: shown once grades are published.
HIDDEN_VISIBILITY = "after_published"
MAX_TEST_OUTPUT = 2_000
MAX_PRINTED_OUTPUT = 4_000


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 20] + " ... [truncated]"


def mistake_text(test) -> str:
    """The named mistakes of a failed test, or a plain word that none matched."""
    if test.passed or test.run is None or not test.run.replies:
        return ""
    if test.mistakes:
        parts = [f"\nLikely mistake ({m.name}): {m.explanation}\nHint: {m.hint}" for m in test.mistakes]
        return "".join(parts)
    last = test.run.replies[-1]
    if last.get("error") in ("WorkerFailure", "ModuleProblem", "NotImplementedError"):
        return ""
    return "\nNone of the catalogued mistakes matches this output."


def results_dict(grade: SubmissionGrade, extra: dict | None = None) -> dict:
    """Gradescope's results for ``grade``; ``extra`` goes to ``extra_data`` (for example the
    digests that decide whether a rerun must regrade)."""
    tests = []
    for test in grade.tests:
        if test.passed and test.score == test.max_score:
            output = f"{test.description}\nPassed."
        else:
            detail = f"{test.label}\n{test.message}" if test.label else test.message
            output = f"{test.description}\n{detail}{mistake_text(test)}"
        tests.append({
            "name": f"{test.function}: {test.name}",
            "score": test.score,
            "max_score": test.max_score,
            "status": "passed" if test.score == test.max_score else "failed",
            "output": _cap(output, MAX_TEST_OUTPUT),
            "visibility": "visible" if test.visibility == "visible" else HIDDEN_VISIBILITY,
            "tags": [test.function, "main" if test.main else "detail"],
        })
    summary = [f"Score: {grade.score:g} / {grade.max_score:g}"]
    summary += grade.notes
    if grade.isolation:
        summary.append(f"Your code ran in isolation: {grade.isolation}.")
    if grade.output.strip():
        summary.append("Your code printed:\n" + _cap(grade.output, MAX_PRINTED_OUTPUT))
    results = {"score": grade.score, "max_score": grade.max_score, "output": "\n".join(summary),
               "visibility": "visible", "tests": tests}
    if extra:
        results["extra_data"] = extra
    return results


def results_json(grade: SubmissionGrade, extra: dict | None = None) -> str:
    return json.dumps(results_dict(grade, extra), indent=1) + "\n"
