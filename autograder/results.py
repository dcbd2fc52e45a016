"""Gradescope-format ``results.json`` for one graded submission.

Top level: ``score``, ``max_score``, ``output``, ``tests``; each test has ``name``, ``score``,
``max_score``, ``status``, ``output``, ``visibility`` and ``tags`` (the first tag is the
graded function or class, exactly as the contract names it). Text is capped so that a file
stays far below 1 MiB whatever the student's code printed.
"""
from __future__ import annotations

import json

from .engine import SubmissionGrade
from .runtime.probes import reply_output

#: Gradescope visibility of the hidden checks' results: shown once grades are published.
HIDDEN_VISIBILITY = "after_published"
MAX_TEST_OUTPUT = 2_000
MAX_PRINTED_OUTPUT = 4_000
MAX_CALL_OUTPUT = 800
NO_ANSWER = ("WorkerFailure", "ModuleProblem", "NotImplementedError")


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 20] + " ... [truncated]"


def mistake_text(test) -> str:
    """The named mistakes of a failed test, or a plain word that none matched."""
    if test.passed or test.run is None or not test.run.replies:
        return ""
    if test.mistakes:
        parts = [f"\nLikely mistake in {test.function} ({m.name}): {m.explanation}\nHint: {m.hint}"
                 for m in test.mistakes]
        return "".join(parts)
    return ""


def printed_text(test) -> str:
    """What the student's code printed during the failing call (the worker's ``output``)."""
    failure = test.run.failure if test.run is not None else None
    text = reply_output(failure[1]) if failure else ""
    return f"\nYour code printed during this call:\n{_cap(text, MAX_CALL_OUTPUT)}" if text.strip() else ""


def results_dict(grade: SubmissionGrade, extra: dict | None = None) -> dict:
    """Gradescope's results for ``grade``; ``extra`` goes to ``extra_data`` (for example the
    digests that decide whether a rerun must regrade)."""
    tests = []
    named = {t.function for t in grade.tests if t.mistakes}
    for test in grade.tests:
        if test.passed and test.score == test.max_score:
            output = f"{test.description}\nPassed."
        elif test.passed:  # not counted (main checks failed), or partial credit
            output = f"{test.description}\nPassed; {test.message}."
        else:
            detail = f"{test.label}\n{test.message}" if test.label else test.message
            none = ""
            last = test.run.replies[-1] if test.run is not None and test.run.replies else None
            if test.function not in named and last is not None and last.get("error") not in NO_ANSWER:
                none = "\nNone of the catalogued mistakes matches this output."
            output = f"{test.description}\n{detail}{mistake_text(test)}{none}{printed_text(test)}"
        tests.append({
            "name": f"{test.function}: {test.name}",
            "score": test.score,
            "max_score": test.max_score,
            # A not-counted check passed: it is not shown as a failure (its points need the
            # function's main checks; the output says so).
            "status": "passed" if test.score == test.max_score or test.passed else "failed",
            "output": _cap(output, MAX_TEST_OUTPUT),
            "visibility": "visible" if test.visibility == "visible" else HIDDEN_VISIBILITY,
            "tags": [test.function, "main" if test.main else "detail"]
                    + ([f"partial credit: {test.partial}"] if test.partial else []),
        })
    summary = [f"Score: {grade.score:g} / {grade.max_score:g}"]
    partial = dict.fromkeys((t.function, t.partial) for t in grade.tests if t.partial)
    summary += [f"{function}: partial credit: {mistake}" for function, mistake in partial]
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
