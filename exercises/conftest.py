"""Registers one pytest marker per exercise, so ``pytest exercises -m clip_by_norm`` works,
and ends the run with the self-check's estimate (the grade's rule on the visible checks)."""
from __future__ import annotations

import json
from pathlib import Path


def pytest_configure(config):
    data = json.loads((Path(__file__).parent / "visible_checks.json").read_text())
    for function in sorted({c["function"] for c in data["checks"]}):
        config.addinivalue_line("markers", f"{function}: the visible checks of {function}")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from test_selfcheck import RUNS_KEY

    runs = config.stash.get(RUNS_KEY, [])
    if not runs:
        return
    from autograder.runtime.rule import RULE_TEXT
    from autograder.selfcheck_report import format_table, summarize_by_function

    checks, results = [c for c, _ in runs], [r for _, r in runs]
    rows = summarize_by_function(checks, results)
    terminalreporter.section("estimate from the visible checks (the grade adds hidden checks)")
    terminalreporter.write_line(format_table(rows, width=100))
    terminalreporter.write_line(f"earned {sum(r.earned for r, _ in rows):.2f}, pending "
                                f"{sum(r.pending for r, _ in rows):.2f}, of {sum(r.available for r, _ in rows):.2f} "
                                "visible points")
    terminalreporter.write_line("Rule: " + RULE_TEXT)
