"""The one scoring rule, the rubric table, and hints that are right (issue 12)."""
from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from autograder import paths
from autograder.feedback.catalogue import CATALOGUE, PARTIAL_CREDIT, by_name
from autograder.feedback.mutants import load_mutant, write_mutant_submission
from autograder.runtime.rule import FAILED, NOT_COUNTED, PASSED, PENDING, Item, apply_rule, by_function
from autograder.suite.weights import WEIGHTS


# --- the rule --------------------------------------------------------------------------------

def test_a_passed_check_is_pending_until_its_functions_main_checks_are_known_to_pass():
    items = [Item("f", True, 3.0, True), Item("f", False, 1.0, True), Item("g", False, 2.0, True),
             Item("h", True, 2.0, False), Item("h", False, 1.0, True), Item("h", False, 1.0, False)]
    graded = apply_rule(items, complete=True)
    # Graded: h's main check failed, so its passed detail check is not counted (not pending:
    # nothing is left to wait for). g has no main check at all: it stays pending.
    assert [s.status for s in graded] == [PASSED, PASSED, PENDING, FAILED, NOT_COUNTED, FAILED]
    assert [s.score for s in graded] == [3.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    # The self-check sees no main check of f: f's passed detail check is pending, not credit.
    seen = apply_rule(items[1:3], complete=False)
    assert [(s.status, s.score, s.pending) for s in seen] == [(PENDING, 0.0, 1.0), (PENDING, 0.0, 2.0)]
    rows = {r.function: r for r in by_function(items, graded)}
    assert (rows["f"].earned, rows["h"].earned, rows["h"].pending, rows["h"].failed) == (4.0, 0.0, 0.0, 2)


def test_the_student_readme_states_the_rule():
    from autograder.release import STUDENT_README
    from autograder.runtime.rule import RULE_TEXT

    assert RULE_TEXT in " ".join(STUDENT_README.split())
    assert len(re.findall(r"[.!?](\s|$)", RULE_TEXT)) == 3


# --- the rubric --------------------------------------------------------------------------------

def rubric_table() -> str:
    lines = ["| mistake | function | share of the function's points kept |", "| --- | --- | --- |"]
    lines += [f"| `{name}` | `{by_name(name).function}` | {share:g} |" for name, share in PARTIAL_CREDIT.items()]
    return "\n".join(lines)


def test_the_rubric_lives_in_the_catalogue_and_the_readme_shows_it():
    for name, share in PARTIAL_CREDIT.items():
        mistake = by_name(name)  # a catalogue entry
        assert 0 < share < 1 and mistake.credit == share and mistake.detect == "output"
    assert all(m.credit == 0 for m in CATALOGUE if m.name not in PARTIAL_CREDIT)
    readme = (paths.REPO / "README.md").read_text()
    assert rubric_table() in readme, "regenerate the README's rubric table:\n" + rubric_table()


def test_conceptual_mistakes_keep_nothing():
    for name in ("bn_wrong_axis", "ln_batch_axis", "bn_unbiased_variance", "he_normal_other_fan", "fans_swapped"):
        assert by_name(name).credit == 0


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from autograder.engine import grade_submission

    cache = {}

    def grade(name: str, *mistakes: str):
        if name not in cache:
            folder = tmp_path_factory.mktemp(name)
            for module in paths.MODULES:
                shutil.copy(paths.SOLUTIONS / f"{module}.py", folder)
            from autograder.feedback.mutants import mutated_source
            from autograder.suite.weights import module_of
            for mistake in map(by_name, mistakes):
                path = folder / f"{module_of(mistake.function)}.py"
                path.write_text(mutated_source(mistake, path.read_text()))
            cache[name] = grade_submission(folder, name)
        return cache[name]

    return grade


def test_rubric_credit_is_contained_to_its_function_when_mixed_with_other_mistakes(graded):
    grade = graded("mixed", "cosine_not_held", "clip_norm_per_tensor", "orthogonal_float32")
    scores = {f: round(sum(t.score for t in grade.tests if t.function == f), 2) for f in WEIGHTS}
    assert scores["cosine_decay"] == 2.0 and scores["orthogonal"] == 3.0 and scores["clip_by_norm"] == 0
    assert {t.partial for t in grade.tests if t.partial} == {"cosine_not_held", "orthogonal_float32"}
    assert all(scores[f] == p for f, (_, p) in WEIGHTS.items() if f not in ("cosine_decay", "orthogonal", "clip_by_norm"))


def test_no_credit_when_the_mutant_misses_one_main_probe(graded, monkeypatch):
    """The every-probe rule: the same mistake, but one main-check answer that differs."""
    from autograder.feedback import credit

    real = credit.reproduces
    calls = []

    def all_but_last(mistake, probes, replies):
        calls.append(len(probes))
        return real(mistake, probes, replies) and len(calls) < 2

    monkeypatch.setattr(credit, "reproduces", all_but_last)
    probes = [1, 2]
    assert credit.rubric_credit("cosine_decay", [(probes, []), (probes, [])]) is None


# --- hints that are right ------------------------------------------------------------------------

def named(grade, function):
    return [[m.name for m in t.mistakes] for t in grade.tests if t.function == function and t.mistakes]


def test_a_float32_orthogonal_is_not_told_the_gain_is_ignored(graded):
    grade = graded("float32", "orthogonal_float32")
    assert named(grade, "orthogonal") == [["orthogonal_float32"]]


def test_per_array_clipping_gets_one_block_and_not_clipping_by_value(graded):
    grade = graded("per_array", "clip_norm_per_tensor")
    assert named(grade, "clip_by_norm") == [["clip_norm_per_tensor"]]


def test_the_self_check_names_the_same_single_mistake_in_both_cases(tmp_path):
    from autograder.runtime.runner import StudentRunner
    from autograder.runtime.selfcheck import VISIBLE_FILE, failed_probes, load_visible_checks
    from autograder.selfcheck_report import function_feedback

    checks = load_visible_checks(paths.EXERCISES / VISIBLE_FILE)
    for name, function in (("orthogonal_float32", "orthogonal"), ("clip_norm_per_tensor", "clip_by_norm")):
        mine = [c for c in checks if c.function == function]
        folder = write_mutant_submission(tmp_path / name, by_name(name))
        with StudentRunner(folder) as runner:
            runs = [runner.run(c.module, c.function, c.probes) for c in mine]
            failures = [failed_probes(lambda p, c=c: runner.ask(c.module, c.function, p), r) for c, r in zip(mine, runs)]
        assert [m["name"] for m in function_feedback(mine, runs, failures)[function]] == [name]


def test_a_mistake_whose_answer_equals_the_references_is_never_named():
    """orthogonal_ignores_gain answers a gain-1 probe exactly as the reference does."""
    from autograder.feedback.detect import explains, mutant_answer
    from autograder.runtime.mistakes import answer_is_right
    from autograder.suite.reference import Reference

    probe = Reference().orthogonal("orthogonal", (6, 9), 1.0)
    ignores_gain = by_name("orthogonal_ignores_gain")
    assert answer_is_right(probe, mutant_answer(ignores_gain, probe))
    float32 = (load_mutant("orthogonal_float32").orthogonal((6, 9), gain=1.0, rng=3))
    reply = {"ok": True, "result": {"kind": "ndarray", "value": float32.astype(np.float64), "dtype": "float64"}}
    assert not explains(ignores_gain, probe, reply)
    assert explains(by_name("orthogonal_float32"), probe, reply)


# --- ergonomics ----------------------------------------------------------------------------------

def test_shapes_print_as_python_writes_them_and_step_is_bare():
    from autograder.runtime.probes import Bare, call_label

    assert call_label("f", (np.zeros(8), np.zeros((2, 5)))) == "f((8,) array, (2, 5) array)"
    assert call_label("cosine_decay", (Bare("step"), 10, 1.0)) == "cosine_decay(step, 10, 1)"


def test_the_students_printed_output_is_shown_capped():
    from autograder.runtime.selfcheck import SHOWN_OUTPUT, printed_output

    assert printed_output({"ok": True}) == ""
    text = printed_output({"ok": False, "output": "debug: x.shape = (4, 3)\n" + "y" * 5000})
    assert "Your code printed" in text and "debug: x.shape = (4, 3)" in text
    assert len(text) < SHOWN_OUTPUT + 200 and "more characters" in text


def test_a_graded_report_shows_the_printed_output_of_the_failing_call():
    from autograder.feedback.report import check_line
    from autograder.report.build import group_by_function
    from autograder.report.html import render
    from autograder.results import printed_text
    from autograder.runtime.runner import CheckRun
    from autograder.scoring import TestResult

    run = CheckRun(False, "wrong", "f(1)", None, [object()], [{"ok": True, "output": "hello from f"}])
    test = TestResult("c", "global_norm", "d", "visible", 1.0, 0.0, False, False, "wrong", "f(1)", run, status=FAILED)
    assert "hello from f" in printed_text(test)
    assert "hello from f" in render("t", "s", group_by_function([("global_norm", check_line(test))]))


def test_check_one_function(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "autograder", "check", "--function", "cosine_decay", "--html",
                           str(tmp_path / "r.html")], cwd=paths.REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    table = done.stdout.split("Feedback report")[0]
    assert "cosine_decay is not implemented yet" in table and "batch_norm" not in table and "at step" not in table
    bad = subprocess.run([sys.executable, "-m", "autograder", "check", "--function", "nope"], cwd=paths.REPO,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "cosine_decay" in bad.stderr
    assert "--function $(F)" in (paths.REPO / "Makefile").read_text()


def test_the_notebook_preview_uses_the_rule_and_names_the_function(monkeypatch, capsys):
    """The preview cell never returns credit the grade could withhold (its checks are all
    visible, so passed ones are pending), and names one likely mistake with its function."""
    from autograder.runtime import notebook
    from autograder.runtime.selfcheck import VISIBLE_FILE, load_visible_checks

    checks = load_visible_checks(paths.EXERCISES / VISIBLE_FILE)
    monkeypatch.setattr(notebook, "load_visible_checks", lambda path: checks)
    reference = load_mutant("warmup_off_by_one")  # the schedules module with one mistake
    assert notebook.check_in_notebook("cosine_decay", vars(reference), points=4) == 0
    shown = capsys.readouterr().out
    assert "pending: counts once cosine_decay passes its main checks" in shown and "FAIL" not in shown
    assert notebook.check_in_notebook("linear_warmup", vars(reference), points=4) == 0
    shown = capsys.readouterr().out
    assert f"Likely mistake in linear_warmup: {by_name('warmup_off_by_one').explanation}" in shown


def test_the_notebook_preview_judges_a_caller_with_correct_helpers_like_make_check(monkeypatch, capsys):
    """warmup_cosine calls cosine_decay: with a broken cosine_decay in the notebook, the preview
    (like make check's worker) judges warmup_cosine with the correct helper answers."""
    from autograder.runtime import notebook
    from autograder.runtime.selfcheck import VISIBLE_FILE, load_visible_checks

    checks = load_visible_checks(paths.EXERCISES / VISIBLE_FILE)
    monkeypatch.setattr(notebook, "load_visible_checks", lambda path: checks)
    broken = vars(load_mutant("cosine_not_held"))
    notebook.check_in_notebook("warmup_cosine", broken, points=6)
    shown = capsys.readouterr().out
    assert "FAIL" not in shown, shown
    notebook.check_in_notebook("cosine_decay", broken, points=4)
    assert "FAIL" in capsys.readouterr().out
    assert broken["cosine_decay"].__name__ == "cosine_decay"  # the student's own helper is put back


def test_pytest_exercises_names_the_mistake_and_ends_with_the_estimate(tmp_path):
    import os
    import subprocess
    import sys

    mistake = by_name("warmup_off_by_one")
    folder = write_mutant_submission(tmp_path / "sub", mistake)
    done = subprocess.run([sys.executable, "-m", "pytest", "exercises", "-q", "-p", "no:cacheprovider", "-m",
                           "linear_warmup or cosine_decay"], cwd=paths.REPO, capture_output=True, text=True,
                          env=dict(os.environ, STABILITY_TARGET=str(folder)), timeout=300)
    assert done.returncode == 1
    assert f"Likely mistake in linear_warmup: {mistake.explanation}" in done.stdout and mistake.hint in done.stdout
    summary = done.stdout.split("estimate from the visible checks")[1]
    assert re.search(r"cosine_decay\s+0\.00\s+1\.14\s+1\.14\s+visible checks pass; pending", summary), summary


def test_grades_csv_says_partial_credit():
    from autograder.gradebook import gradebook_csv, row_from_results

    results = {"tests": [{"score": 1.5, "tags": ["cosine_decay", "main", "partial credit: cosine_not_held"]},
                         {"score": 0.5, "tags": ["cosine_decay", "detail", "partial credit: cosine_not_held"]}]}
    row = row_from_results("ann", results)
    assert row["cosine_decay"] == 2.0 and row["notes"] == "cosine_decay: partial credit: cosine_not_held"
    assert gradebook_csv([row]).splitlines()[0].endswith(",total,notes")


def test_what_the_students_code_printed_reaches_check_and_grade(tmp_path, capsys):
    """The worker's ``output`` for the failing call, in the terminal and in results.json."""
    from autograder.engine import grade_submission
    from autograder.results import results_dict
    from autograder.selfcheck_report import run_self_check

    folder = write_mutant_submission(tmp_path / "printer", by_name("cosine_not_held"))
    path = folder / "schedules.py"
    path.write_text(path.read_text().replace('    t = step\n', '    t = step\n    print("debug: t =", t)\n'))
    assert 'print("debug: t ="' in path.read_text()
    run_self_check(folder, html_path=tmp_path / "r.html", function="cosine_decay")
    shown = capsys.readouterr().out
    assert "Your code printed during this call:" in shown and "debug: t =" in shown
    assert "debug: t =" in (tmp_path / "r.html").read_text()
    results = results_dict(grade_submission(folder, "printer"))
    assert any("Your code printed during this call:\ndebug: t =" in t["output"] for t in results["tests"])
