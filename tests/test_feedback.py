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
from autograder.suite.weights import WEIGHTS

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


def test_the_stub_report_gives_unwritten_functions_one_line_and_no_plot():
    report = feedback_html(grade_submission(paths.EXERCISES, "stubs"))
    assert "data:image/png;base64," not in report
    assert report.count("Not written yet: every call raised NotImplementedError.") == len(WEIGHTS)
    assert "Not written yet (no plot, one line each)" in report


def test_the_plot_budget_goes_to_the_functions_that_lost_most_and_answered(tmp_path):
    """Half-right: three functions unwritten, four with mistakes (two of them with partial
    credit). The three plots go to the three that lost the most points with an answer."""
    import shutil

    from autograder.feedback.catalogue import by_name
    from autograder.feedback.mutants import mutated_source
    from autograder.stubgen import stub_source
    from autograder.suite.weights import module_of

    for module in paths.MODULES:
        shutil.copy(paths.SOLUTIONS / f"{module}.py", tmp_path)
    for name in ("clip_norm_per_tensor", "cosine_not_held", "he_normal_other_fan", "orthogonal_float32"):
        mistake = by_name(name)
        path = tmp_path / f"{module_of(mistake.function)}.py"
        path.write_text(mutated_source(mistake, path.read_text()))
    stubbed = stub_source((paths.SOLUTIONS / "normalization.py").read_text(), "normalization")
    (tmp_path / "normalization.py").write_text(stubbed)
    grade = grade_submission(tmp_path, "half")
    lost = {f: WEIGHTS[f][1] - sum(t.score for t in grade.tests if t.function == f) for f in WEIGHTS}
    report = feedback_html(grade)
    plotted = re.findall(r"alt='plot for (\w+)'", report)
    assert sorted(plotted) == sorted(["clip_by_norm", "he_normal", "cosine_decay"])
    assert min(lost[f] for f in plotted) >= lost["orthogonal"] > 0
    assert "Left out: orthogonal." in report
    assert all(f"<section id='{f}'>" in report for f in WEIGHTS)
    assert "partial credit: cosine_not_held" in report and "partial credit: orthogonal_float32" in report


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
    assert "data:image/png;base64," not in report  # a stub has no answer to draw
    assert "Estimate from the visible checks" in report and "Not written yet" in report


def test_check_names_a_mistake_in_the_terminal_too(tmp_path):
    from autograder.feedback.catalogue import by_name
    from autograder.feedback.mutants import write_mutant_submission

    mistake = by_name("warmup_off_by_one")
    folder = write_mutant_submission(tmp_path / "sub", mistake)
    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(folder), "--html", str(tmp_path / "r.html")],
                          cwd=paths.REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert mistake.explanation in done.stdout and mistake.hint in done.stdout
    assert f"Likely mistake in {mistake.function}: {mistake.explanation}" in done.stdout


def _he_normal_always_fan_in(folder):
    """The reference, but he_normal divides by fan_in whatever the mode."""
    from submission_kit import reference_submission

    reference_submission(folder)
    path = folder / "initialization.py"
    source = path.read_text()
    head, tail = source.split("def he_normal", 1)
    old = 'fan = fan_in if mode == "fan_in" else fan_out'
    assert old in tail
    path.write_text(head + "def he_normal" + tail.replace(old, "fan = fan_in", 1))
    return folder


def test_a_mistake_whose_fix_would_break_passing_answers_is_not_named(tmp_path):
    """he_normal with fan = fan_in for both modes: its fan_in answers pass (the visible
    he_normal((500, 250)) too), so he_normal_other_fan, whose mutant fails those, is not the
    hint to give, although it matches the failed fan_out probes."""
    grade = grade_submission(_he_normal_always_fan_in(tmp_path), "fan_in_only")
    mine = [t for t in grade.tests if t.function == "he_normal"]
    assert any(not t.passed for t in mine)
    assert next(t for t in mine if t.name == "he_normal_small_example").passed
    named = [m.name for t in mine for m in t.mistakes]
    assert "he_normal_other_fan" not in named, named
    # The rest of the rule holds: the mutant itself still gets its own mistake named.
    from autograder.feedback.catalogue import by_name
    from autograder.feedback.mutants import write_mutant_submission

    mutant = grade_submission(write_mutant_submission(tmp_path / "mutant", by_name("he_normal_other_fan")), "other_fan")
    assert "he_normal_other_fan" in [m.name for t in mutant.tests for m in t.mistakes]


def _check_texts(report: str, description: str) -> str:
    """The text of one check's block in a feedback report."""
    start = report.index(description)
    return report[start:report.index("</div></div>", start) if "</div></div>" in report[start:] else start + 400]


def test_the_graded_report_says_not_counted_never_pending(tmp_path):
    """Grading is over: a passed check of a function whose main checks failed is "not
    counted", in feedback.html and results.json; with partial credit, the credit is said."""
    import json

    from autograder.feedback.catalogue import by_name
    from autograder.feedback.mutants import write_mutant_submission
    from autograder.results import results_json

    grade = grade_submission(_he_normal_always_fan_in(tmp_path / "fan_in"), "fan_in_only")
    small = next(t for t in grade.tests if t.name == "he_normal_small_example")
    assert small.passed and small.score == 0
    report = feedback_html(grade)
    block = _check_texts(report, small.description)
    assert "not counted: he_normal&#x27;s main checks failed" in block and "pending" not in block, block
    output = next(t for t in json.loads(results_json(grade))["tests"] if t["name"].endswith(small.name))["output"]
    assert "not counted: he_normal's main checks failed" in output and "pending" not in output, output
    section = report[report.index("<section id='he_normal'>"):]
    assert "pending" not in section[:section.index("</section>")]

    partial = grade_submission(write_mutant_submission(tmp_path / "transposed", by_name("he_normal_shape_transposed")),
                               "transposed")
    mine = [t for t in partial.tests if t.function == "he_normal"]
    assert all(t.partial == "he_normal_shape_transposed" for t in mine)
    texts = [t["output"] for t in json.loads(results_json(partial))["tests"] if t["tags"][0] == "he_normal"]
    assert texts and not any("pending" in text or "not counted" in text for text in texts), texts
    assert all("partial credit" in text for text in texts), texts
    report = feedback_html(partial)
    section = report[report.index("<section id='he_normal'>"):]
    assert "pending" not in section[:section.index("</section>")]
