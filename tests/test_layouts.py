"""Finding the work: every supported layout grades like the canonical one, through `grade`
and `gradescope-run` alike; what was found is said; a changed submission is regraded."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import grading, paths
from autograder.collect import find_layout, notebook_source, read_submission
from submission_kit import reference_submission, with_replacements

BUG = ("clipping", ("if total_norm > max_norm else 1.0", ""))
nbformat = pytest.importorskip("nbformat")


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=paths.REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})})


def buggy_sources(tmp: Path) -> dict[str, str]:
    """The reference with one known mistake in clip_by_norm, as module sources."""
    folder = with_replacements(tmp / "_buggy", BUG[0], BUG[1])
    return {m: (folder / f"{m}.py").read_text() for m in paths.MODULES}


def canonical(folder: Path, sources: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for module, text in sources.items():
        (folder / f"{module}.py").write_text(text)


def repository_clone(folder: Path, sources: dict[str, str]) -> None:
    """What `git clone` of a student's repository looks like."""
    canonical(folder / "exercises", sources)
    (folder / "README.md").write_text("my repository\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "clipping.py").write_text("stale = True\n")  # dot-folders are never searched


def capitalised(folder: Path, sources: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for module, text in sources.items():
        (folder / f"{module.capitalize()}.py").write_text(text)


def nbgrader_notebooks(folder: Path, sources: dict[str, str]) -> None:
    """The generated nbgrader notebooks, in nbgrader's submitted/<student>/<assignment>/ shape."""
    from autograder.nbgrader_course import notebook_for

    (folder / "stability").mkdir(parents=True)
    for module, text in sources.items():
        nbformat.write(notebook_for(module, text), folder / "stability" / f"{module}.ipynb")


def one_notebook(folder: Path, sources: dict[str, str]) -> None:
    """Any notebook that defines the functions, with a magic and a shell escape."""
    folder.mkdir(parents=True)
    cells = [nbformat.v4.new_code_cell("%matplotlib inline\n!pip list")]
    cells += [nbformat.v4.new_code_cell(text) for text in sources.values()]
    book = nbformat.v4.new_notebook(cells=cells)
    nbformat.write(book, folder / "homework.ipynb")


LAYOUTS = {"canonical": canonical, "clone": repository_clone, "capitalised": capitalised,
           "nbgrader": nbgrader_notebooks, "notebook": one_notebook}


def per_function(results: dict) -> dict[str, float]:
    scores: dict[str, float] = {}
    for test in results["tests"]:
        scores[test["tags"][0]] = scores.get(test["tags"][0], 0.0) + test["score"]
    return scores


@pytest.fixture(scope="module")
def layouts_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("layouts")
    sources = buggy_sources(root)
    for name, build in LAYOUTS.items():
        build(root / "subs" / name, sources)
    done = run_cli("grade", str(root / "subs"), "--out", str(root / "out"), "--jobs", "2", "--quiet")
    return root, done


def test_every_layout_grades_like_the_canonical_one(layouts_class):
    root, done = layouts_class
    assert done.returncode == 0, done.stderr
    assert f"graded {len(LAYOUTS)}," in done.stdout and "0 with no gradable module" in done.stdout
    with open(root / "out" / "grades.csv") as handle:
        rows = {r.pop("submission"): r for r in csv.DictReader(handle)}
    assert set(rows) == set(LAYOUTS)
    assert 90 < float(rows["canonical"]["total"]) < 100  # the mistake costs points
    for name in LAYOUTS:
        assert rows[name] == rows["canonical"], name


def test_the_summary_and_the_results_say_what_was_found(layouts_class):
    root, done = layouts_class
    assert "capitalised: found `Clipping.py`: names are case-sensitive, graded as clipping.py" in done.stdout
    assert "nbgrader: found `stability/clipping.ipynb`: read from its code cells" in done.stdout
    assert "notebook: found the functions of clipping.py in `homework.ipynb`" in done.stdout
    results = json.loads((root / "out" / "submissions" / "capitalised" / "results.json").read_text())
    assert "found `Clipping.py`: names are case-sensitive" in results["output"]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_gradescope_run_accepts_the_same_layouts(layouts_class, tmp_path, layout):
    root, _ = layouts_class
    graded = json.loads((root / "out" / "submissions" / layout / "results.json").read_text())
    sources = buggy_sources(tmp_path)
    LAYOUTS[layout](tmp_path / "gs" / "submission", sources)
    (tmp_path / "gs" / "submission_metadata.json").write_text(json.dumps({"users": [{"id": layout}]}))
    done = run_cli("gradescope-run", "--root", str(tmp_path / "gs"))
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "gs" / "results" / "results.json").read_text())
    assert per_function(results).keys() == per_function(graded).keys()
    assert results["score"] == pytest.approx(graded["score"])


def test_the_nbgrader_path_reads_notebooks_with_the_same_function(tmp_path):
    """nbgrader's preprocessor (an nbformat node) and `grade` (plain JSON) assemble the same
    module from a generated notebook, without its test cells and with magics commented out."""
    from autograder.nbgrader_course import notebook_for
    from autograder.nbgrader_grading import module_source

    book = notebook_for("clipping")
    nbformat.write(book, tmp_path / "clipping.ipynb")
    as_json = json.loads((tmp_path / "clipping.ipynb").read_text())
    assert module_source(book) == notebook_source(as_json)
    assert "check_in_notebook" not in notebook_source(as_json) and "def clip_by_norm" in notebook_source(as_json)
    one_notebook(tmp_path / "nb", {"clipping": (paths.SOLUTIONS / "clipping.py").read_text()})
    module = read_submission(tmp_path / "nb").sources.files["clipping.py"]
    assert "# %matplotlib inline" in module and "# !pip list" in module and "def clip_by_norm" in module


def test_two_candidates_for_a_module_are_an_error_naming_both(tmp_path):
    sources = {m: (paths.SOLUTIONS / f"{m}.py").read_text() for m in paths.MODULES}
    canonical(tmp_path / "subs" / "twice", sources)
    (tmp_path / "subs" / "twice" / "Clipping.ipynb").write_text(json.dumps({"cells": []}))
    layout = find_layout(tmp_path / "subs" / "twice")
    assert "clipping" not in layout.sources
    assert "`Clipping.ipynb`" in layout.problems["clipping"] and "`clipping.py`" in layout.problems["clipping"]
    done = run_cli("grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--quiet", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert "twice: two candidates for clipping.py: `Clipping.ipynb` and `clipping.py`" in done.stdout
    results = json.loads((tmp_path / "out" / "submissions" / "twice" / "results.json").read_text())
    clipping = [t for t in results["tests"] if t["tags"][0] == "clip_by_norm"]
    assert all(t["score"] == 0 and "two candidates" in t["output"] for t in clipping)
    assert per_function(results)["batch_norm"] > 0  # the other modules are graded


def test_the_shallowest_copy_wins(tmp_path):
    canonical(tmp_path / "a", {"clipping": "x = 1\n"})
    canonical(tmp_path / "a" / "old", {"clipping": "x = 2\n", "schedules": "y = 1\n"})
    layout = find_layout(tmp_path / "a")
    assert layout.sources == {"clipping": tmp_path / "a" / "clipping.py", "schedules": tmp_path / "a" / "old" / "schedules.py"}


def test_a_changed_submission_is_regraded_without_force(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    with_replacements(subs / "late", *BUG)
    reference_submission(subs / "steady")
    first = run_cli("grade", str(subs), "--out", str(out), "--quiet", "--jobs", "1")
    assert first.returncode == 0 and "graded 2," in first.stdout
    steady = (out / "submissions" / "steady" / "results.json").stat().st_mtime_ns
    reference_submission(subs / "late")  # the late fix
    second = run_cli("grade", str(subs), "--out", str(out), "--quiet", "--jobs", "1")
    assert second.returncode == 0 and "regraded 1" in second.stdout and "skipped 1 unchanged" in second.stdout
    assert json.loads((out / "submissions" / "late" / "results.json").read_text())["score"] == 100
    assert (out / "submissions" / "steady" / "results.json").stat().st_mtime_ns == steady
    with open(out / "grades.csv") as handle:
        assert {r["submission"]: float(r["total"]) for r in csv.DictReader(handle)} == {"late": 100.0, "steady": 100.0}


def test_a_changed_grader_regrades_everything(tmp_path, monkeypatch):
    subs, out = tmp_path / "subs", tmp_path / "out"
    reference_submission(subs / "a")
    reference_submission(subs / "b")
    first = grading.grade_folder(subs, out, jobs=1, progress=False, feedback=False)
    assert sorted(first.graded) == ["a", "b"]
    assert grading.grade_folder(subs, out, jobs=1, progress=False, feedback=False).skipped == ["a", "b"]
    monkeypatch.setattr(grading, "grader_digest", lambda: "a tolerance changed")
    again = grading.grade_folder(subs, out, jobs=1, progress=False, feedback=False)
    assert sorted(again.regraded) == ["a", "b"] and not again.skipped


def test_the_grader_digest_covers_the_suite_runtime_feedback_and_reference():
    assert set(grading.GRADER_TREES) == {"autograder/suite", "autograder/runtime", "autograder/feedback"}
    assert grading.grader_digest() == grading.grader_digest()


def test_the_output_folder_inside_the_submissions_is_never_graded(tmp_path):
    subs = tmp_path / "subs"
    reference_submission(subs / "alice")
    for _ in range(2):
        done = run_cli("grade", str(subs), "--out", str(subs / "out"), "--quiet", "--jobs", "1")
        assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (subs / "out" / "submissions").iterdir()) == ["alice"]
    assert "skipped 1 unchanged" in done.stdout


def test_a_folder_with_nothing_gradable_is_named_with_its_reason(tmp_path):
    subs = tmp_path / "subs"
    reference_submission(subs / "alice")
    (subs / "bob").mkdir()
    (subs / "bob" / "notes.txt").write_text("I forgot\n")
    done = run_cli("grade", str(subs), "--out", str(tmp_path / "out"), "--quiet", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert "1 with no gradable module" in done.stdout
    assert "bob: no exercise module found; it holds notes.txt" in done.stdout


def test_a_linked_module_is_refused_by_name_not_followed(tmp_path):
    sources = {m: (paths.SOLUTIONS / f"{m}.py").read_text() for m in paths.MODULES if m != "clipping"}
    canonical(tmp_path / "s", sources)
    os.symlink(paths.SOLUTIONS / "clipping.py", tmp_path / "s" / "clipping.py")
    staged = read_submission(tmp_path / "s")
    assert "clipping.py" not in staged.sources.files
    assert "symbolic link" in staged.sources.problems["clipping"] and "clipping" in staged.refused


def _notebook_file(path: Path, book) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(book))
    return path


@pytest.mark.parametrize("book", [
    {"cells": [{"cell_type": "code", "metadata": [1], "source": ""}]},
    {"cells": [{"cell_type": "code", "metadata": {"nbgrader": 1}, "source": ""}]},
    {"cells": [{"cell_type": "code", "metadata": {"nbgrader": [2]}, "source": ["x = 1\n", 3]}]},
    {"cells": [7, None, {"cell_type": "code"}]},
])
def test_a_malformed_notebook_costs_its_student_only(tmp_path, book):
    """Attack: notebook metadata of the wrong shape, as a module's notebook and as a stray
    notebook deeper down. The class is still graded; the student is told plainly."""
    subs = tmp_path / "subs"
    reference_submission(subs / "alice")
    mallory = reference_submission(subs / "mallory")
    (mallory / "clipping.py").unlink()
    _notebook_file(mallory / "clipping.ipynb", book)
    _notebook_file(mallory / "x" / "y" / "notes.ipynb", book)
    summary = grading.grade_folder(subs, tmp_path / "out", jobs=1, progress=False)
    with open(tmp_path / "out" / "grades.csv") as handle:
        totals = {row["submission"]: float(row["total"]) for row in csv.DictReader(handle)}
    assert totals["alice"] == 100 and totals["mallory"] == 100 - 14
    assert sorted(summary.graded) == ["alice", "mallory"] and not summary.failed


def test_a_notebook_with_oversized_code_is_not_parsed(tmp_path, monkeypatch):
    """Attack: megabytes of code in a stray notebook; it is never handed to the parser (which
    would take about 0.5 GB per MB), and its module is simply missing."""
    import ast

    folder = reference_submission(tmp_path / "student")
    (folder / "clipping.py").unlink()
    _notebook_file(folder / "homework.ipynb",
                   {"cells": [{"cell_type": "code", "metadata": {}, "source": "x = [" + "0," * 400_000 + "]"}]})
    parsed = []
    monkeypatch.setattr(ast, "parse", lambda source, *a, **k: parsed.append(len(source)))
    staged = read_submission(folder)
    assert parsed == [] and "clipping.py is missing" in staged.sources.problems["clipping"]


def test_a_lone_surrogate_in_a_notebook_costs_that_module_only(tmp_path):
    folder = reference_submission(tmp_path / "student")
    (folder / "clipping.py").unlink()
    text = (paths.SOLUTIONS / "clipping.py").read_text() + '\ny = "' + chr(0xD800) + '"\n'  # JSON: "\\ud800"
    _notebook_file(folder / "clipping.ipynb", {"cells": [{"cell_type": "code", "metadata": {}, "source": text}]})
    staged = read_submission(folder)
    assert "not valid UTF-8" in staged.sources.problems["clipping"]
    assert sorted(staged.sources.files) == ["initialization.py", "normalization.py", "schedules.py"]
