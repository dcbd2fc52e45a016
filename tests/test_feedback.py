"""Plots and the HTML report: the target is drawn even for a stub, the report is one
self-contained file, and `check` writes it."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from autograder import paths
from autograder.engine import grade_submission
from autograder.feedback.report import feedback_html
from autograder.report.plots import plot_for
from autograder.suite.reference import Reference
from autograder.suite.registry import all_checks, build_probes

pytest.importorskip("matplotlib")
PNG = b"\x89PNG\r\n\x1a\n"
STUB_REPLY = {"ok": False, "error": "NotImplementedError", "message": "not implemented yet"}


def main_probe(function: str):
    check = next(c for c in all_checks() if c.function == function and c.main)
    return build_probes(check, "plots", Reference())[0]


@pytest.mark.parametrize("function", sorted({c.function for c in all_checks()}))
def test_a_stub_still_gets_the_target_plot(function):
    png = plot_for(function, main_probe(function), STUB_REPLY)
    assert png is not None and png.startswith(PNG) and len(png) < 200_000


def test_the_stub_report_has_plots_and_says_not_implemented():
    report = feedback_html(grade_submission(paths.EXERCISES, "stubs"))
    assert report.count("data:image/png;base64,") >= 1
    assert "not implemented yet" in report


def test_the_report_is_self_contained():
    report = feedback_html(grade_submission(paths.EXERCISES, "stubs"))
    assert "<style>" in report
    assert not re.search(r"""(src|href)=['"](?!data:|#)""", report)
    assert "http://" not in report and "https://" not in report
    assert "BEGIN SOLUTION" not in report and "def batch_norm" not in report


def test_a_perfect_submission_gets_a_report_without_plots(tmp_path):
    import shutil

    for module in paths.MODULES:
        shutil.copy(paths.SOLUTIONS / f"{module}.py", tmp_path)
    report = feedback_html(grade_submission(tmp_path, "perfect"))
    assert "Score: 100 / 100" in report and "data:image/png" not in report


def test_check_writes_the_report_and_prints_its_path(tmp_path):
    target = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "autograder", "check", "--html", str(target)], cwd=paths.REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert f"Feedback report with plots: {target}" in done.stdout
    report = target.read_text()
    assert report.count("data:image/png;base64,") == 22  # every function: the target, drawn for a stub


def test_check_names_a_mistake_in_the_terminal_too(tmp_path):
    from autograder.feedback.catalogue import by_name
    from autograder.feedback.mutants import write_mutant_submission

    mistake = by_name("warmup_off_by_one")
    folder = write_mutant_submission(tmp_path / "sub", mistake)
    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(folder), "--html", str(tmp_path / "r.html")],
                          cwd=paths.REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert mistake.explanation in done.stdout and mistake.hint in done.stdout
