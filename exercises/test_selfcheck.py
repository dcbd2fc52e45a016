"""Your self-check: the autograder's visible checks, run on your code.

Run ``make check`` for a table and a feedback report, or ``pytest exercises`` for one test
per check (``pytest exercises -m batch_norm`` runs one function's checks). Your functions run
in a separate process, so an infinite loop or a crash fails that check only. The hidden
checks that grade your work use other, random inputs: passing these is necessary, not enough.
A passed check counts once its function passes its hidden main checks: the summary at the
end shows those points as pending, with the same rule as ``make check`` and the grade.

Set STABILITY_TARGET to a folder to check other modules than the ones beside this file.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.runtime.runner import StudentRunner
from autograder.runtime.selfcheck import (VISIBLE_FILE, failed_probes, likely_mistakes, load_visible_checks,
                                          mistake_block, printed_output)

HERE = Path(__file__).resolve().parent
TARGET = Path(os.environ.get("STABILITY_TARGET", HERE))
CHECKS = load_visible_checks(HERE / VISIBLE_FILE)


@pytest.fixture(scope="module")
def runner():
    with StudentRunner(TARGET) as student:
        yield student


@pytest.mark.parametrize(
    "check", [pytest.param(c, marks=getattr(pytest.mark, c.function), id=c.name) for c in CHECKS])
def test_visible(check, runner, request):
    run = runner.run(check.module, check.function, check.probes)
    # conftest.py prints the estimate (same rule as `make check`) from these at the end.
    request.config.stash.setdefault(RUNS_KEY, []).append((check, run))
    if not run.passed:
        failures = failed_probes(lambda probe: runner.ask(check.module, check.function, probe), run)
        parts = [run.label, f"    {run.message}", mistake_block(check.function, likely_mistakes(failures), "    "),
                 printed_output(run.failure[1], indent="    ")]
        pytest.fail("\n".join(part for part in parts if part), pytrace=False)


RUNS_KEY = pytest.StashKey[list]()
