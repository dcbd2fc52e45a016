"""``python -m autograder check``: the visible checks on a folder, as a table per function.

This module ships with the student release: it needs only the runtime and the exported
visible checks.
"""
from __future__ import annotations

import math
import shutil
import textwrap
from pathlib import Path

from . import paths
from .atomic import write_atomic
from .report.build import CheckLine, attach_plots, group_by_function
from .report.html import render
from .runtime.mistakes import shipped_mistakes
from .runtime.runner import CheckRun, StudentRunner
from .runtime.selfcheck import VISIBLE_FILE, VisibleCheck, load_visible_checks


def summarize_by_function(checks: list[VisibleCheck], runs: list[CheckRun]) -> list[tuple[str, float, float, str]]:
    """``(function, earned, available, first failure or "")`` in check order."""
    rows: dict[str, list] = {}
    for check, run in zip(checks, runs):
        row = rows.setdefault(check.function, [0.0, 0.0, ""])
        row[1] += check.points
        if run.passed:
            row[0] += check.points
        elif not row[2]:
            row[2] = f"{run.label}: {run.message}" if run.label else run.message
    return [(name, round(e, 2), round(a, 2), f) for name, (e, a, f) in rows.items()]


def format_table(rows: list[tuple[str, float, float, str]], width: int | None = None) -> str:
    width = width or max(60, min(shutil.get_terminal_size((100, 20)).columns, 120))
    name_width = max(len(r[0]) for r in rows)
    lines = [f"{'function':<{name_width}}  {'points':>11}  first failure", "-" * width]
    indent = " " * (name_width + 15)
    for name, earned, available, failure in rows:
        status = "ok" if not failure else failure
        wrapped = textwrap.wrap(status, width - len(indent)) or [""]
        lines.append(f"{name:<{name_width}}  {earned:>5.2f}/{available:<5.2f}  {wrapped[0]}")
        lines += [indent + more for more in wrapped[1:3]]
    return "\n".join(lines)


def self_check_html(folder: Path, checks: list[VisibleCheck], runs: list[CheckRun]) -> str:
    """The feedback report of a self-check: every failed function with its plot, the mistakes
    recognised from the answers shipped with the visible checks, and the hints."""
    lines = []
    for check, run in zip(checks, runs):
        mistakes = shipped_mistakes(*run.failure) if run.failure else []
        lines.append((check.function, CheckLine(check.name, check.description, check.points if run.passed else 0.0,
                                                check.points, run.passed, run.label, run.message, mistakes, run)))
    sections = group_by_function(lines)
    attach_plots(sections)
    return render("Stability Lab self-check", f"visible checks on {folder}", sections,
                  ["The grade comes from hidden checks on other, random inputs: passing these is necessary, not enough."])


def run_self_check(folder: Path, checks_file: Path | None = None, html_path: Path | None = None) -> int:
    """Run the visible checks on ``folder``, print the table and write the HTML report;
    0 when every check passes."""
    checks = load_visible_checks(checks_file or paths.EXERCISES / VISIBLE_FILE)
    with StudentRunner(folder) as runner:
        runs = [runner.run(c.module, c.function, c.probes) for c in checks]
    rows = summarize_by_function(checks, runs)
    print(format_table(rows))
    named = {m["name"]: m for c, r in zip(checks, runs) if r.failure
             for m in shipped_mistakes(*r.failure)}
    for mistake in named.values():
        print(f"\nLikely mistake: {mistake['explanation']}\n  Hint: {mistake['hint']}")
    html_path = Path(html_path or paths.REPO / "build" / "feedback.html")
    write_atomic(html_path, self_check_html(folder, checks, runs))
    print(f"\nFeedback report with plots: {html_path}")
    earned = math.fsum(r[1] for r in rows)
    available = math.fsum(r[2] for r in rows)
    passed = sum(run.passed for run in runs)
    print(f"\n{passed} of {len(runs)} visible checks pass ({earned:.2f} of {available:.2f} visible points).")
    print("The grade comes from hidden checks on other, random inputs: passing these is necessary, not enough.")
    return 0 if passed == len(runs) else 1
