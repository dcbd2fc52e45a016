"""The command line: `grade` (results, gradebook, resuming, bad input) and `check`."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from autograder import paths
from autograder.runtime.selfcheck import VISIBLE_FILE, load_visible_checks
from autograder.suite.weights import WEIGHTS
from submission_kit import reference_submission, with_replacements

GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
VISIBLE = len(load_visible_checks(paths.EXERCISES / VISIBLE_FILE))


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=paths.REPO, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs = root / "subs"
    reference_submission(subs / "alice")
    with_replacements(subs / "bob", "clipping", ("if total_norm > max_norm else 1.0", ""))
    (subs / "carol").mkdir()
    for module in paths.MODULES:
        (subs / "carol" / f"{module}.py").write_text((paths.EXERCISES / f"{module}.py").read_text())
    (subs / "dave").mkdir()
    (subs / "dave" / "normalization.py").write_bytes(b"\x00\xff garbage \x00")
    (subs / "dave" / "clipping.py").mkdir()
    (subs / "dave" / "schedules.py").write_text((paths.SOLUTIONS / "schedules.py").read_text())
    (subs / ".git").mkdir()
    (subs / "notes.txt").write_text("not a submission")
    done = run_cli("grade", str(subs), "--out", str(root / "out"), "--jobs", "2")
    return root, done


def test_grade_writes_results_and_a_gradebook(graded_class):
    root, done = graded_class
    assert done.returncode == 0, done.stderr
    assert "graded 4" in done.stdout and "student code ran in isolation:" in done.stdout
    out = root / "out"
    assert sorted(p.name for p in (out / "submissions").iterdir()) == ["alice", "bob", "carol", "dave"]
    assert sorted(p.name for p in out.iterdir()) == ["grades.csv", "submissions"]
    with open(out / "grades.csv") as handle:
        rows = {r["submission"]: r for r in csv.DictReader(handle)}
    assert list(next(iter(rows.values()))) == ["submission", *WEIGHTS, "total", "notes"]
    assert float(rows["alice"]["total"]) == 100
    assert float(rows["bob"]["clip_by_norm"]) < WEIGHTS["clip_by_norm"][1] and float(rows["bob"]["total"]) > 90
    assert float(rows["carol"]["total"]) == 0
    assert float(rows["dave"]["batch_norm"]) == 0 and float(rows["dave"]["linear_warmup"]) == 4


@pytest.mark.parametrize("name", ["alice", "bob", "carol", "dave"])
def test_results_follow_gradescopes_schema(graded_class, name):
    root, _ = graded_class
    path = root / "out" / "submissions" / name / "results.json"
    assert path.stat().st_size < 1024 * 1024
    results = json.loads(path.read_text())
    assert {"score", "max_score", "output", "tests"} <= set(results)
    assert results["max_score"] == 100
    assert abs(results["score"] - sum(t["score"] for t in results["tests"])) < 1e-6
    for test in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility", "tags"} <= set(test)
        assert test["visibility"] in GRADESCOPE_VISIBILITY
        assert isinstance(test["tags"], list) and test["tags"][0] in WEIGHTS
        assert 0 <= test["score"] <= test["max_score"]
        assert "def " not in test["output"] and "BEGIN SOLUTION" not in test["output"]
    assert "isolation" in results["output"]


def test_feedback_says_what_was_called_and_how_it_differed(graded_class):
    root, _ = graded_class
    results = json.loads((root / "out" / "submissions" / "bob" / "results.json").read_text())
    failed = [t for t in results["tests"] if t["score"] < t["max_score"]]
    text = "\n".join(t["output"] for t in failed)
    assert "clip_by_norm(" in text and "expected" in text and "got" in text
    assert "Likely mistake in clip_by_norm (clip_norm_scales_up)" in text
    dave = json.loads((root / "out" / "submissions" / "dave" / "results.json").read_text())
    messages = {t["tags"][0]: t["output"] for t in dave["tests"]}
    assert "normalization.py is not valid UTF-8" in messages["batch_norm"]
    assert "clipping.py is not a regular file" in messages["global_norm"]


def test_a_second_run_skips_unchanged_submissions_and_force_regrades(graded_class):
    root, _ = graded_class
    before = (root / "out" / "submissions" / "alice" / "results.json").stat().st_mtime_ns
    again = run_cli("grade", str(root / "subs"), "--out", str(root / "out"), "--quiet")
    assert again.returncode == 0 and "graded 0, regraded 0" in again.stdout and "skipped 4 unchanged" in again.stdout
    assert (root / "out" / "submissions" / "alice" / "results.json").stat().st_mtime_ns == before
    forced = run_cli("grade", str(root / "subs"), "--out", str(root / "out"), "--quiet", "--force", "--jobs", "1")
    assert forced.returncode == 0 and "regraded 4" in forced.stdout


def test_a_killed_run_loses_nothing_and_resumes(tmp_path):
    subs = tmp_path / "subs"
    for i in range(6):
        reference_submission(subs / f"s{i}")
    process = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(tmp_path / "out"),
                                "--jobs", "1", "--quiet"], cwd=paths.REPO, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len(list((tmp_path / "out").glob("submissions/*/results.json"))) < 2:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    written = list((tmp_path / "out").glob("submissions/*/results.json"))
    assert 2 <= len(written) < 6
    for path in written:
        assert json.loads(path.read_text())["score"] == 100
    resumed = run_cli("grade", str(subs), "--out", str(tmp_path / "out"), "--quiet")
    assert resumed.returncode == 0 and f"skipped {len(written)} unchanged" in resumed.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["grades.csv", "submissions"]  # no leftovers
    with open(tmp_path / "out" / "grades.csv") as handle:
        assert [float(r["total"]) for r in csv.DictReader(handle)] == [100.0] * 6


@pytest.mark.parametrize("args, message", [
    (["grade", "/nonexistent/folder", "--out", "OUT"], "does not exist"),
    (["grade", "README.md", "--out", "OUT"], "is not a folder"),
    (["grade", "exercises", "--out", "OUT", "--jobs", "0"], "--jobs must be at least 1"),
])
def test_bad_arguments_exit_nonzero_with_a_message(tmp_path, args, message):
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    done = run_cli(*args)
    assert done.returncode == 2 and message in done.stderr


def test_missing_required_arguments_exit_nonzero():
    assert run_cli("grade").returncode == 2


def test_check_prints_a_table_and_fails_on_stubs():
    done = run_cli("check")
    assert done.returncode == 1
    for function in WEIGHTS:
        assert function in done.stdout
    assert "not implemented yet" in done.stdout and f"0 of {VISIBLE} visible checks pass" in done.stdout


def test_check_passes_on_the_solutions():
    done = run_cli("check", str(paths.SOLUTIONS))
    assert done.returncode == 0 and f"{VISIBLE} of {VISIBLE} visible checks pass" in done.stdout


def test_check_rejects_a_missing_folder():
    done = run_cli("check", "/nonexistent")
    assert done.returncode == 2 and "is not a folder" in done.stderr


def test_benchmark_script_runs(tmp_path):
    done = subprocess.run([sys.executable, "benchmarks/grading.py", "--n", "3", "--jobs", "2", "--no-targets"],
                          cwd=paths.REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "median" in done.stdout and "of which plots" in done.stdout and "speed-up" in done.stdout


def test_shards_split_a_class_and_their_gradebooks_merge(tmp_path):
    subs = tmp_path / "subs"
    for i in range(6):
        reference_submission(subs / f"s{i}")
    outs = []
    for k in (1, 2, 3):
        out = tmp_path / f"out{k}"
        done = run_cli("grade", str(subs), "--out", str(out), "--shard", f"{k}/3", "--quiet", "--jobs", "1")
        assert done.returncode == 0, done.stderr
        outs.append(out)
    graded = [sorted(p.parent.name for p in out.glob("submissions/*/results.json")) for out in outs]
    assert sorted(sum(graded, [])) == [f"s{i}" for i in range(6)]  # disjoint and complete
    merged = tmp_path / "all.csv"
    done = run_cli("merge", *map(str, outs), "--out", str(merged))
    assert done.returncode == 0 and "6 submissions" in done.stdout
    with open(merged) as handle:
        assert [r["submission"] for r in csv.DictReader(handle)] == [f"s{i}" for i in range(6)]


def test_merge_rejects_a_missing_gradebook_and_bad_shards(tmp_path):
    assert run_cli("merge", str(tmp_path / "nothing"), "--out", str(tmp_path / "x.csv")).returncode == 2
    done = run_cli("grade", "exercises", "--out", str(tmp_path / "o"), "--shard", "4/3")
    assert done.returncode == 2 and "--shard" in done.stderr
