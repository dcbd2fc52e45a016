"""A generated nbgrader course, run through the real nbgrader: generate_assignment,
autograde, generate_feedback and export. Scores come from the isolated grader, so a
notebook that patches numpy and the checker in its kernel still scores 0."""
from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.feedback.catalogue import by_name
from autograder.nbgrader_course import ASSIGNMENT, build_course, sample_submission
from autograder.suite.weights import WEIGHTS

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")
BIN = Path(sys.executable).parent


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, capture_output=True, text=True,
                          timeout=900, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done


def submit(course: Path, student: str, edit=None, fill: bool = True) -> None:
    sample_submission(course, student, fill, edit)


def replace_in_cell(book, grade_id: str, old: str, new: str) -> None:
    cell = next(c for c in book.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    assert old in cell.source, old
    cell.source = cell.source.replace(old, new)


def buggy(module, book):
    if module == "clipping":
        mistake = by_name("clip_norm_scales_up")
        replace_in_cell(book, "solution_clip_by_norm", *mistake.patch[0])


def infinite_loop(module, book):
    if module == "schedules":
        replace_in_cell(book, "solution_step_decay", "    return float(base_lr * gamma", "    while True:\n        pass\n    return float(base_lr * gamma")


def monkeypatch(module, book):
    attack = nbformat.v4.new_code_cell(
        "import numpy as np, numpy.testing, unittest\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "np.allclose = np.isclose = lambda *a, **k: True\n"
        "unittest.TestCase.assertEqual = lambda *a, **k: None\n"
        "import stability_check.notebook as _nb, stability_check.probes as _probes\n"
        "_nb.check_in_notebook = lambda function, namespace, points: float(points)\n"
        "_probes.judge = lambda *a, **k: _probes.Verdict(True)\n")
    book.cells.insert(1, attack)


TAG = f"nbattack{os.getpid()}"
LITTER = [f"/tmp/litter-{TAG}", f"/var/tmp/litter-{TAG}", f"/dev/shm/litter-{TAG}", f"/dev/shm/grader-{TAG}"]


def kernel_attack(course: Path):
    """A notebook whose code, run as the instructor, would mark the course, copy the grader out,
    wreck the gradebook and leave files behind."""
    code = (f"import os, shutil\nCOURSE = {str(course)!r}\n"
            "open(os.path.join(COURSE, 'kernel-ran-as-instructor'), 'w').write('x')\n"
            f"shutil.copytree(os.path.join(COURSE, 'grader'), {LITTER[3]!r}, dirs_exist_ok=True)\n"
            "with open(os.path.join(COURSE, 'gradebook.db'), 'r+b') as _db:\n    _db.write(b'wrecked' * 1000)\n")

    def edit(module, book):
        cell = nbformat.v4.new_code_cell(
            "for _path in " + repr(LITTER[:3]) + ":\n    try:\n        open(_path, 'w').write('left')\n"
            "    except OSError:\n        pass\n" + "try:\n" + "".join(f"    {line}\n" for line in code.splitlines())
            + "except OSError:\n    pass\n")
        book.cells.insert(1, cell)
    return edit


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    build_course(course)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    submit(course, "correct")
    submit(course, "buggy", buggy)
    submit(course, "untouched", fill=False)
    submit(course, "looping", infinite_loop)
    submit(course, "patcher", monkeypatch, fill=False)
    submit(course, "intruder", kernel_attack(course), fill=False)
    LOGS["autograde"] = log_of(nbgrader(course, "autograde", ASSIGNMENT))
    LOGS["feedback"] = log_of(nbgrader(course, "generate_feedback", ASSIGNMENT))
    nbgrader(course, "export")
    return course


LOGS: dict[str, str] = {}


def log_of(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


def scores(course: Path) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        result = {}
        for student in ("correct", "buggy", "untouched", "looping", "patcher", "intruder"):
            submission = gradebook.find_submission(ASSIGNMENT, student)
            result[student] = {n.name: n.score for n in submission.notebooks}
            result[student]["total"] = submission.score
        return result


def test_the_course_has_the_config_and_four_notebooks(tmp_path):
    build_course(tmp_path)
    config = (tmp_path / "nbgrader_config.py").read_text()
    for setting in ("c.OverwriteCells.add_missing_cells = True", "ClearHiddenTests", "IsolatedGrading",
                    'load_subconfig(os.path.join(HERE, "instructor_config.py"))'):
        assert setting in config
    autograde = config[config.index("c.Autograde.autograde_preprocessors"):].split("]")[0]
    assert "IsolatedGrading" in autograde and "Execute" not in autograde
    names = sorted(p.name for p in (tmp_path / "source" / ASSIGNMENT).glob("*.ipynb"))
    assert names == ["clipping.ipynb", "initialization.ipynb", "normalization.ipynb", "schedules.ipynb"]
    points = {}
    for path in (tmp_path / "source" / ASSIGNMENT).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                points[meta["grade_id"].removeprefix("test_")] = meta["points"]
            if meta.get("solution"):
                assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    assert points == {f: w for f, (_, w) in WEIGHTS.items()}
    assert not (tmp_path / "source" / ASSIGNMENT / "solutions").exists()


def test_the_release_has_no_solutions(course):
    for path in (course / "release" / ASSIGNMENT).glob("*.ipynb"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
        assert "raise NotImplementedError()" in text
    assert not list((course / "release").rglob("solutions"))


def test_the_gradebook_scores_come_from_the_isolated_grader(course):
    got = scores(course)
    assert got["correct"]["total"] == 100
    assert got["untouched"]["total"] == 0
    assert got["patcher"]["total"] == 0
    assert 0 < got["buggy"]["clipping"] < 14 and got["buggy"]["total"] == 86 + got["buggy"]["clipping"]
    assert got["looping"]["schedules"] == 18 - WEIGHTS["step_decay"][1] and got["looping"]["total"] == 98


def test_no_student_kernel_runs_as_the_instructor(course):
    """The intruder's code ran only in the sandbox: the course is unmarked, the gradebook (read
    above) intact, the grader not copied out, and nothing left in the shared folders."""
    got = scores(course)
    assert got["intruder"]["total"] == 0 and got["correct"]["total"] == 100
    assert not (course / "kernel-ran-as-instructor").exists()
    assert [path for path in LITTER if os.path.exists(path)] == []


def test_nbgrader_export_writes_the_grades(course):
    with open(course / "grades.csv") as handle:
        rows = {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(handle)}
    assert rows["correct"] == 100 and rows["patcher"] == 0


def test_feedback_names_the_mistake_shows_plots_and_hides_internals(course):
    report = (course / "feedback" / "buggy" / ASSIGNMENT / "clipping.html").read_text()
    mistake = by_name("clip_norm_scales_up")
    assert mistake.hint.split(":")[0] in report or mistake.hint[:30] in report
    assert "data:image/png" in report
    for page in (course / "feedback").rglob("*.html"):
        text = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "autograder/" not in text
        assert "Traceback (most recent call last)" not in text
        assert "nbgrader_grading" not in text and "def batch_norm_matches_reference" not in text


def test_a_hung_cell_costs_only_its_function(course):
    got = scores(course)["looping"]
    assert got["normalization"] == 42 and got["clipping"] == 14 and got["initialization"] == 26
    report = (course / "feedback" / "looping" / ASSIGNMENT / "schedules.html").read_text()
    assert "did not return within" in report


def test_untouched_notebooks_raise_no_checksum_warning_and_plots_have_alt_text(course):
    assert "has changed" not in LOGS["autograde"], LOGS["autograde"][-3000:]
    assert "Alternative text is missing" not in LOGS["feedback"], LOGS["feedback"][-3000:]
    report = (course / "feedback" / "buggy" / ASSIGNMENT / "clipping.html").read_text()
    assert "alt='plot for clip_by_norm'" in report or 'alt="plot for clip_by_norm"' in report
    assert "No description has been provided for this image" not in report


def test_grade_reads_nbgraders_submitted_folder_like_nbgrader(course, tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(course / "submitted"), "--out",
                           str(tmp_path / "out"), "--quiet", "--jobs", "2"], capture_output=True, text=True,
                          timeout=600, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "out" / "grades.csv") as handle:
        totals = {r["submission"]: float(r["total"]) for r in csv.DictReader(handle)}
    got = scores(course)
    for student in ("correct", "untouched", "patcher", "looping"):
        assert totals[student] == got[student]["total"], student
    assert 86 < totals["buggy"] < 100


def config_values(course: Path, *names: str) -> list[str]:
    code = ("import sys\nfrom traitlets.config.loader import PyFileConfigLoader\n"
            f"c = PyFileConfigLoader('nbgrader_config.py', path={str(course)!r}).load_config()\n"
            f"print([repr(eval('c.' + n)) for n in {list(names)!r}])")
    done = subprocess.run([sys.executable, "-c", code], cwd=course, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return eval(done.stdout)  # noqa: S307 - our own repr of plain values


def run_nbgrader_command(course: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "nbgrader", str(course), *extra],
                          capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parent.parent)


def test_regenerating_a_course_keeps_the_instructors_settings(tmp_path):
    course = tmp_path / "course"
    assert run_nbgrader_command(course).returncode == 0
    mine = course / "instructor_config.py"
    mine.write_text(mine.read_text() + "c.IsolatedGrading.call_seconds = 9.0\nc.CourseDirectory.course_id = 'mine'\n")
    again = run_nbgrader_command(course)
    assert again.returncode == 0, again.stderr
    assert "c.IsolatedGrading.call_seconds = 9.0" in mine.read_text()
    assert config_values(course, "IsolatedGrading.call_seconds", "CourseDirectory.course_id") == ["9.0", "'mine'"]


def test_an_edited_config_is_kept_unless_forced(tmp_path):
    course = tmp_path / "course"
    assert run_nbgrader_command(course).returncode == 0
    config = course / "nbgrader_config.py"
    edited = config.read_text() + "c.Exchange.root = '/srv/exchange'\n"
    config.write_text(edited)
    refused = run_nbgrader_command(course)
    assert refused.returncode == 2 and "instructor_config.py" in refused.stderr and "--force" in refused.stderr
    assert config.read_text() == edited
    forced = run_nbgrader_command(course, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (course / "nbgrader_config.py.old").read_text() == edited
    assert "c.Exchange.root" not in config.read_text()


def test_a_sealed_config_of_an_older_version_is_replaced_without_force(tmp_path):
    """A config generated by an earlier version (another text, its own seal) was not edited:
    regenerating replaces it, with no refusal and no .old copy."""
    from autograder.nbgrader_course import SEAL

    course = tmp_path / "course"
    assert run_nbgrader_command(course).returncode == 0
    older = "c = get_config()\nc.Execute.timeout = 30\n"
    (course / "nbgrader_config.py").write_text(older + SEAL.format(digest=hashlib.sha256(older.encode()).hexdigest()))
    again = run_nbgrader_command(course)
    assert again.returncode == 0, again.stderr
    assert "IsolatedGrading" in (course / "nbgrader_config.py").read_text()
    assert not (course / "nbgrader_config.py.old").exists()
