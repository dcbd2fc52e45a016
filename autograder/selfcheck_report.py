"""``python -m autograder check``: the visible checks on a folder, as a table per function.

The table applies the grade's rule (``runtime.rule``) to the checks the student can see: a
passed check counts once its function passes its hidden main checks, so it shows as pending,
never as credit the grade could take away. This module ships with the student release: it
needs only the runtime and the exported visible checks.
"""
from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

from . import paths
from .atomic import write_atomic
from .report.build import CheckLine, attach_plots, group_by_function
from .report.html import render
from .runtime.probes import reply_output
from .runtime.rule import GATED, PENDING, RULE_TEXT, FunctionEstimate
from .runtime.runner import CheckRun, StudentRunner
from .runtime.selfcheck import (VISIBLE_FILE, VisibleCheck, estimate, estimate_dict, failed_probes, likely_mistakes,
                                load_visible_checks, mistake_block, printed_output, stub_reply)

NECESSARY = "The grade comes from hidden checks on other, random inputs: passing these is necessary, not enough."


def first_failures(checks: list[VisibleCheck], runs: list[CheckRun]) -> dict[str, str]:
    """``{function: "label: message"}`` of each function's first failed visible check."""
    first: dict[str, str] = {}
    for check, run in zip(checks, runs):
        if not run.passed and check.function not in first:
            first[check.function] = f"{run.label}: {run.message}" if run.label else run.message
    return first


def summarize_by_function(checks: list[VisibleCheck], runs: list[CheckRun]) -> list[tuple[FunctionEstimate, str]]:
    """Each function's estimate and its status text (first failure, pending or ok)."""
    _, rows = estimate(checks, runs)
    failures = first_failures(checks, runs)
    replies: dict[str, list] = {}
    for check, run in zip(checks, runs):
        replies.setdefault(check.function, []).extend(run.replies)
    out = []
    for row in rows:
        mine = replies.get(row.function, [])
        if mine and all(stub_reply(r) for r in mine):  # one line: the stub's own message
            first = next(r for c, r in zip(checks, runs) if c.function == row.function and not r.passed)
            status = first.message.removeprefix("at step 0: ")
        elif row.function in failures:
            status = failures[row.function]
        elif row.pending:
            status = f"visible checks pass; pending: {GATED.format(function=row.function)}"
        else:
            status = "ok"
        out.append((row, status))
    return out


def format_table(rows: list[tuple[FunctionEstimate, str]], width: int | None = None) -> str:
    width = width or max(60, min(shutil.get_terminal_size((100, 20)).columns, 120))
    name_width = max([len(r.function) for r, _ in rows] + [8])
    head = f"{'function':<{name_width}}  {'earned':>6}  {'pending':>7}  {'of':>5}  "
    lines = [head + "status (first failure)", "-" * width]
    indent = " " * len(head)
    for row, status in rows:
        wrapped = textwrap.wrap(status, max(20, width - len(indent))) or [""]
        lines.append(f"{row.function:<{name_width}}  {row.earned:>6.2f}  {row.pending:>7.2f}  {row.available:>5.2f}  "
                     f"{wrapped[0]}")
        lines += [indent + more for more in wrapped[1:3]]
    return "\n".join(lines)


def function_feedback(checks: list[VisibleCheck], runs: list[CheckRun],
                      failures: list[list] | None = None) -> dict[str, list[dict]]:
    """``{function: the likely mistakes}``: for each function, the shipped mistakes that
    explain the most of its failed visible probes (one block per function). ``failures``:
    each check's failed ``(probe, reply)`` pairs (``runtime.selfcheck.failed_probes``);
    without it, each check's first failure."""
    pairs: dict[str, list] = {}
    for index, (check, run) in enumerate(zip(checks, runs)):
        if run.failure:
            pairs.setdefault(check.function, []).extend(failures[index] if failures else [run.failure])
    return {function: likely_mistakes(found) for function, found in pairs.items()}


def self_check_html(folder: Path, checks: list[VisibleCheck], runs: list[CheckRun],
                    failures: list[list] | None = None) -> str:
    """The feedback report of a self-check: every failed function with its plot, the mistakes
    recognised from the answers shipped with the visible checks, and the hints."""
    scored, _ = estimate(checks, runs)
    named = function_feedback(checks, runs, failures)
    shown: set[str] = set()
    lines = []
    for check, run, result in zip(checks, runs, scored):
        mistakes = []
        if run.failure and check.function not in shown:
            mistakes, _ = named.get(check.function, []), shown.add(check.function)
        message = GATED.format(function=check.function) if result.status == PENDING else run.message
        lines.append((check.function, CheckLine(check.name, check.description, result.score, check.points, run.passed,
                                                run.label, message, mistakes, run, status=result.status,
                                                output=reply_output(run.failure[1]) if run.failure else "")))
    sections = group_by_function(lines, estimate=True)
    notes = attach_plots(sections)
    return render("Stability Lab self-check", f"visible checks on {folder} (an estimate: the grade adds hidden checks)",
                  sections, [RULE_TEXT, NECESSARY, *notes], score_label="Estimate from the visible checks")


class UnknownFunction(ValueError):
    """``check --function NAME`` with a name that has no visible checks."""


def select(checks: list[VisibleCheck], function: str | None) -> list[VisibleCheck]:
    if function is None:
        return checks
    chosen = [c for c in checks if c.function == function]
    if not chosen:
        names = ", ".join(dict.fromkeys(c.function for c in checks))
        raise UnknownFunction(f"no visible checks for {function!r}; the functions are: {names}")
    return chosen


def run_self_check(folder: Path, checks_file: Path | None = None, html_path: Path | None = None,
                   function: str | None = None, json_path: Path | None = None) -> int:
    """Run the visible checks on ``folder`` (only ``function``'s, if given), print the table,
    write the HTML report (and the estimate as JSON); 0 when every check passes."""
    checks = select(load_visible_checks(checks_file or paths.EXERCISES / VISIBLE_FILE), function)
    with StudentRunner(folder) as runner:
        runs = [runner.run(c.module, c.function, c.probes) for c in checks]
        failures = [failed_probes(lambda p, c=c: runner.ask(c.module, c.function, p), run)
                    for c, run in zip(checks, runs)]
    rows = summarize_by_function(checks, runs)
    print(format_table(rows))
    named = function_feedback(checks, runs, failures)
    for check, run in zip(checks, runs):
        if run.failure and check.function in named:
            block = mistake_block(check.function, named.pop(check.function))
            output = printed_output(run.failure[1], indent="  ")
            if block or output:
                print("\n" + "\n".join(part for part in (block, output) if part))
        elif run.failure and printed_output(run.failure[1]):
            print(f"\n{check.function}: {check.description}\n" + printed_output(run.failure[1], indent="  "))
    html_path = Path(html_path or paths.REPO / "build" / "feedback.html")
    write_atomic(html_path, self_check_html(folder, checks, runs, failures))
    print(f"\nFeedback report with plots: {html_path}")
    result = estimate_dict(checks, runs)
    if json_path is not None:
        write_atomic(Path(json_path), json.dumps(result, indent=1) + "\n")
        print(f"Per-function estimate (JSON): {json_path}")
    total = result["total"]
    passed = sum(run.passed for run in runs)
    print(f"\n{passed} of {len(runs)} visible checks pass.")
    print(f"Estimate from the visible checks: {total['earned']:.2f} earned, {total['pending']:.2f} pending, "
          f"of {total['available']:.2f} visible points.")
    print(textwrap.fill("Rule: " + RULE_TEXT, 100))
    print(NECESSARY)
    return 0 if passed == len(runs) else 1
