"""Every catalogued mistake loses points on its own function and no other, and its feedback
names it; correct alternatives score 100 with no mistake named; shortcuts score 0."""
from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from autograder import paths
from autograder.engine import grade_submission
from autograder.feedback.catalogue import CATALOGUE
from autograder.feedback.mutants import write_mutant_submission
from autograder.grading import grade_folder
from autograder.runtime import jsoncodec
from autograder.runtime.selfcheck import VISIBLE_FILE
from autograder.suite.weights import WEIGHTS
from submission_kit import ZEROS, attack_submission

ALTERNATIVE = Path(__file__).parent / "submissions" / "alternative"


@pytest.fixture(scope="module")
def graded_mutants(tmp_path_factory):
    """Grade one submission per catalogue entry, in parallel; returns {name: results.json}."""
    root = tmp_path_factory.mktemp("mutants")
    for mistake in CATALOGUE:
        write_mutant_submission(root / "subs" / mistake.name, mistake)
    grade_folder(root / "subs", root / "out", jobs=2, progress=False)
    return {m.name: json.loads((root / "out" / m.name / "results.json").read_text()) for m in CATALOGUE}


def lost_points(results: dict) -> dict[str, float]:
    lost: dict[str, float] = {}
    for test in results["tests"]:
        if test["score"] < test["max_score"]:
            lost[test["tags"][0]] = lost.get(test["tags"][0], 0) + test["max_score"] - test["score"]
    return lost


def test_the_catalogue_has_at_least_40_mistakes_across_all_modules():
    assert len(CATALOGUE) >= 40
    assert len({m.name for m in CATALOGUE}) == len(CATALOGUE)
    assert {m.function for m in CATALOGUE} <= set(WEIGHTS)
    modules = {WEIGHTS[m.function][0] for m in CATALOGUE}
    assert modules == set(paths.MODULES)
    for mistake in CATALOGUE:
        assert mistake.explanation.endswith(".") and mistake.hint
        assert mistake.detect in ("output", "determinism", "unmodified", "plain")


@pytest.mark.parametrize("mistake", CATALOGUE, ids=[m.name for m in CATALOGUE])
def test_a_mutant_loses_points_on_its_function_only(graded_mutants, mistake):
    lost = lost_points(graded_mutants[mistake.name])
    assert set(lost) == {mistake.function}, lost


@pytest.mark.parametrize("mistake", CATALOGUE, ids=[m.name for m in CATALOGUE])
def test_a_mutants_feedback_names_its_mistake(graded_mutants, mistake):
    outputs = [t["output"] for t in graded_mutants[mistake.name]["tests"] if t["score"] < t["max_score"]]
    assert any(f"Likely mistake ({mistake.name})" in o for o in outputs), outputs[:2]
    assert any(mistake.hint in o for o in outputs)


def test_a_correct_alternative_scores_100_with_no_mistake_named():
    grade = grade_submission(ALTERNATIVE, "alternative")
    assert grade.score == grade.max_score == 100
    assert not [t.name for t in grade.tests if t.mistakes]


def test_the_reference_scores_100(tmp_path):
    for module in paths.MODULES:
        shutil.copy(paths.SOLUTIONS / f"{module}.py", tmp_path / f"{module}.py")
    assert grade_submission(tmp_path, "reference").score == 100


def test_the_untouched_stubs_score_0():
    grade = grade_submission(paths.EXERCISES, "stubs")
    assert grade.score == 0
    assert all("not implemented yet" in t.message for t in grade.tests)


def test_constant_answers_score_0(tmp_path):
    grade = grade_submission(attack_submission(tmp_path / "zeros", ""), "zeros")
    assert grade.score == 0, {t.name: t.score for t in grade.tests if t.score}


def _lookup_table_body(module: str) -> str:
    """Functions that return the visible checks' expected answers when asked their
    questions, and fall back to the zero fakes otherwise."""
    data = jsoncodec.loads((paths.EXERCISES / VISIBLE_FILE).read_text())
    table = []
    for check in data["checks"]:
        for probe in check["probes"]:
            request = probe["request"]
            if request.get("module") != module or probe["kind"] not in ("value", "curve"):
                continue
            if probe["kind"] == "value":
                table.append((request["function"], jsoncodec.encode(request["args"]), jsoncodec.encode(probe["expected"])))
            else:
                for (args, _), value in zip(request["calls"], probe["expected"]["values"]):
                    table.append((request["function"], jsoncodec.encode(args), value))
    names = sorted({row[0] for row in table})
    wrappers = "\n".join(
        f"_fallback_{n} = {n}\ndef {n}(*args, **kwargs):\n    return _lookup({n!r}, args, _fallback_{n}, kwargs)"
        for n in names)
    return textwrap.dedent(f'''
        import json as _json
        import numpy as _np
        _TABLE = _json.loads({json.dumps(json.dumps(table))})
        def _plain(v):
            if isinstance(v, _np.ndarray):
                return {{"__ndarray__": v.tolist(), "dtype": str(v.dtype), "shape": list(v.shape)}}
            if isinstance(v, tuple):
                return {{"__tuple__": [_plain(x) for x in v]}}
            if isinstance(v, list):
                return [_plain(x) for x in v]
            return v
        def _value(v):
            if isinstance(v, dict) and "__ndarray__" in v:
                return _np.array(v["__ndarray__"], dtype=float).reshape(v["shape"])
            if isinstance(v, dict) and "__tuple__" in v:
                return tuple(_value(x) for x in v["__tuple__"])
            if isinstance(v, list):
                return [_value(x) for x in v]
            return v
        def _lookup(name, args, fallback, kwargs):
            for function, table_args, value in _TABLE:
                if function == name and table_args == _plain(list(args)):
                    return _value(value)
            return fallback(*args, **kwargs)
    ''') + "\n" + wrappers


def test_a_lookup_table_of_the_visible_examples_scores_0(tmp_path):
    folder = attack_submission(tmp_path / "lookup", "", _lookup_table_body)
    grade = grade_submission(folder, "lookup")
    visible_passed = [t.name for t in grade.tests if t.visibility == "visible" and t.passed]
    assert visible_passed, "the lookup table should pass some visible checks, or this test proves nothing"
    assert grade.score == 0, {t.name: t.score for t in grade.tests if t.score}


def test_hidden_inputs_differ_between_students_and_repeat_on_regrade():
    from autograder.suite.reference import Reference
    from autograder.suite.registry import all_checks, build_probes

    check = next(c for c in all_checks() if c.name == "batch_norm_matches_reference")
    reference = Reference()
    first = build_probes(check, "alice", reference)[0].request["args"][0]
    again = build_probes(check, "alice", reference)[0].request["args"][0]
    other = build_probes(check, "bob", reference)[0].request["args"][0]
    assert (first == again).all()
    assert first.shape != other.shape or not (first == other).all()
    visible = next(c for c in all_checks() if c.visibility == "visible")
    assert str(build_probes(visible, "alice", reference)) == str(build_probes(visible, "bob", reference))


def test_every_contract_entry_has_main_and_visible_checks_and_points_total_100():
    from autograder.suite.registry import all_checks

    checks = all_checks()
    assert round(sum(c.points for c in checks), 6) == 100
    for function in WEIGHTS:
        mine = [c for c in checks if c.function == function]
        assert any(c.main for c in mine) and any(c.visibility == "visible" for c in mine), function
        assert round(sum(c.points for c in mine), 6) == WEIGHTS[function][1]
    assert set(ZEROS) == set(paths.MODULES)


@pytest.mark.parametrize("mistake", CATALOGUE, ids=[m.name for m in CATALOGUE])
def test_a_mutants_html_report_names_the_mistake_and_shows_a_plot(graded_mutants_dir, mistake):
    import html

    report = (graded_mutants_dir / mistake.name / "feedback.html").read_text()
    assert html.escape(mistake.explanation) in report and html.escape(mistake.hint) in report
    assert "data:image/png;base64," in report


@pytest.fixture(scope="module")
def graded_mutants_dir(graded_mutants, tmp_path_factory):
    return next(tmp_path_factory.getbasetemp().glob("mutants*")) / "out"


def test_the_self_check_names_mistakes_from_the_shipped_answers(tmp_path):
    """Visible checks carry each mistake's answers, so the student's own check names them."""
    from autograder.runtime.mistakes import shipped_mistakes
    from autograder.runtime.selfcheck import load_visible_checks, run_visible

    checks = load_visible_checks(paths.EXERCISES / VISIBLE_FILE)
    caught = 0
    for mistake in CATALOGUE:
        folder = write_mutant_submission(tmp_path / mistake.name, mistake)
        failed = [(c, r) for c, r in zip(checks, run_visible(folder, checks)) if not r.passed]
        assert {c.function for c, _ in failed} <= {mistake.function}
        if failed:
            caught += 1
            named = {m["name"] for _, r in failed for m in shipped_mistakes(*r.failure)}
            assert mistake.name in named, (mistake.name, named)
    assert caught >= 45  # most mistakes already show on the visible examples
