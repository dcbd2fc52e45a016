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
    return {m.name: json.loads((root / "out" / "submissions" / m.name / "results.json").read_text()) for m in CATALOGUE}


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
    assert any(f"Likely mistake in {mistake.function} ({mistake.name})" in o for o in outputs), outputs[:2]
    assert any(mistake.hint in o for o in outputs)
    # One "Likely mistake" block per function: on one check only.
    assert sum("Likely mistake in" in o for o in outputs) == 1, outputs


def function_scores(results: dict) -> dict[str, float]:
    scores = {f: 0.0 for f in WEIGHTS}
    for test in results["tests"]:
        scores[test["tags"][0]] += test["score"]
    return {f: round(v, 2) for f, v in scores.items()}


@pytest.mark.parametrize("mistake", CATALOGUE, ids=[m.name for m in CATALOGUE])
def test_a_rubric_mistake_earns_exactly_its_share_and_nothing_else_changes(graded_mutants, mistake):
    results = graded_mutants[mistake.name]
    scores = function_scores(results)
    for function, (_, points) in WEIGHTS.items():
        if function != mistake.function:
            assert scores[function] == points, function
    partial = [t for t in results["tests"] if f"partial credit: {mistake.name}" in t["tags"]]
    if mistake.credit:
        assert scores[mistake.function] == round(mistake.credit * WEIGHTS[mistake.function][1], 2)
        assert partial and all(t["tags"][0] == mistake.function for t in partial)
        assert f"{mistake.function}: partial credit: {mistake.name}" in results["output"]
    else:
        assert not partial and not any("partial credit" in t["output"] for t in results["tests"])


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
    return next(tmp_path_factory.getbasetemp().glob("mutants*")) / "out" / "submissions"


@pytest.fixture(scope="module")
def visible_runs(graded_mutants_dir):
    """The self-check's runs (with every failed probe) on each mutant, the reference and
    the stubs: ``{name: (checks, runs, failures)}``."""
    from autograder.runtime.runner import StudentRunner
    from autograder.runtime.selfcheck import failed_probes, load_visible_checks

    checks = load_visible_checks(paths.EXERCISES / VISIBLE_FILE)
    folders = {m.name: graded_mutants_dir.parent.parent / "subs" / m.name for m in CATALOGUE}
    folders.update({"reference": paths.SOLUTIONS, "stubs": paths.EXERCISES})
    found = {}
    for name, folder in folders.items():
        with StudentRunner(folder) as runner:
            runs = [runner.run(c.module, c.function, c.probes) for c in checks]
            failures = [failed_probes(lambda p, c=c: runner.ask(c.module, c.function, p), r) for c, r in zip(checks, runs)]
        found[name] = (checks, runs, failures)
    return found


def test_the_self_check_names_mistakes_from_the_shipped_answers(visible_runs):
    """Visible checks carry each mistake's answers, so the student's own check names them:
    one block per function, the mistake that explains the most failed probes."""
    from autograder.selfcheck_report import function_feedback

    caught = 0
    for mistake in CATALOGUE:
        checks, runs, failures = visible_runs[mistake.name]
        failed = [(c, r) for c, r in zip(checks, runs) if not r.passed]
        assert {c.function for c, _ in failed} <= {mistake.function}
        if failed:
            caught += 1
            named = {m["name"] for m in function_feedback(checks, runs, failures).get(mistake.function, [])}
            assert mistake.name in named, (mistake.name, named)
    assert caught >= 45  # most mistakes already show on the visible examples


def test_the_self_checks_estimate_never_shows_credit_that_grade_withholds(visible_runs, graded_mutants, tmp_path):
    """On the same visible checks, for every submission (reference, stubs, every mutant):
    what check shows as earned, grade gives; what it shows as pending, grade gives exactly
    when the function's main checks pass; check and grade agree on which checks pass."""
    from autograder.grading import grade_folder
    from autograder.runtime.selfcheck import estimate_dict

    for name, folder in (("reference", paths.SOLUTIONS), ("stubs", paths.EXERCISES)):
        shutil.copytree(folder, tmp_path / "subs" / name, ignore=shutil.ignore_patterns("test_*", "conftest.py", "*.json", "__pycache__"))
    grade_folder(tmp_path / "subs", tmp_path / "out", jobs=2, progress=False)
    graded = dict(graded_mutants)
    graded.update({n: json.loads((tmp_path / "out" / "submissions" / n / "results.json").read_text()) for n in ("reference", "stubs")})
    assert set(graded) == set(visible_runs)
    compared = pending_seen = 0
    for name, (checks, runs, _) in visible_runs.items():
        shown = estimate_dict(checks, runs)["functions"]
        tests = {t["name"].split(": ", 1)[1]: t for t in graded[name]["tests"]}
        for function, row in shown.items():
            mine = [(c, r, tests[c.name]) for c, r in zip(checks, runs) if c.function == function]
            grade_visible = round(sum(t["score"] for _, _, t in mine), 2)
            mains = [t for t in graded[name]["tests"] if t["tags"][0] == function and t["tags"][1] == "main"]
            mains_pass = all(t["score"] == t["max_score"] for t in mains)
            # The same checks pass in both (the visible inputs are the same).
            for check, run, test in mine:
                assert run.passed == test["output"].split("\n")[1].startswith("Passed"), (name, check.name)
            assert row["earned"] <= grade_visible + 1e-9, (name, function)
            if mains_pass:
                assert grade_visible == round(row["earned"] + row["pending"], 2), (name, function)
            elif not any("partial credit" in tag for _, _, t in mine for tag in t["tags"]):
                assert grade_visible == 0, (name, function)
            compared += 1
            pending_seen += row["pending"] > 0
    assert compared == len(visible_runs) * len(WEIGHTS) and pending_seen > len(WEIGHTS)


def test_check_json_writes_what_the_table_shows(visible_runs, graded_mutants_dir, tmp_path):
    """`check --json FILE` writes the same per-function estimate that the tests compare."""
    import subprocess
    import sys

    from autograder.runtime.selfcheck import estimate_dict

    folder = graded_mutants_dir.parent.parent / "subs" / "cosine_not_held"
    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(folder), "--json", str(tmp_path / "e.json"),
                           "--html", str(tmp_path / "r.html")], cwd=paths.REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    written = json.loads((tmp_path / "e.json").read_text())
    assert written["functions"] == estimate_dict(*visible_runs["cosine_not_held"][:2])["functions"]
    assert written["functions"]["cosine_decay"]["earned"] == 0 < written["functions"]["cosine_decay"]["pending"]
    assert "Estimate from the visible checks" in done.stdout and "pending" in done.stdout
