"""The student release holds the stubs, the visible checks and their runtime, and nothing
that gives an answer away; `make check` and `pytest exercises` work inside it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from autograder import paths
from autograder.markers import find_regions
from autograder.release import build_release
from autograder.runtime.selfcheck import VISIBLE_FILE, load_visible_checks
from autograder.suite.registry import all_checks


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "stability-lab"
    build_release(out)
    return out


def solution_lines() -> set[str]:
    """Every non-trivial line a student must write (inside the solution markers), except the
    few that the stub gives anyway (a formula quoted in a docstring, ``self.training = True``
    in the given ``train()``)."""
    lines = set()
    for module in paths.MODULES:
        source = (paths.SOLUTIONS / f"{module}.py").read_text()
        given = (paths.EXERCISES / f"{module}.py").read_text()
        text = source.splitlines()
        for region in find_regions(source):
            for line in text[region.begin + 1:region.end]:
                stripped = line.strip()
                if len(stripped) >= 18 and not stripped.startswith("#") and stripped not in given:
                    lines.add(stripped)
    return lines


def release_text(release: Path) -> dict[str, str]:
    return {str(p.relative_to(release)): p.read_text(errors="replace") for p in release.rglob("*") if p.is_file()}


def test_the_release_has_what_students_need(release):
    names = {str(p.relative_to(release)) for p in release.rglob("*") if p.is_file()}
    for module in paths.MODULES:
        assert f"exercises/{module}.py" in names
    assert {"exercises/visible_checks.json", "exercises/test_selfcheck.py", "README.md", "requirements.txt",
            "Makefile", "autograder/runtime/worker.py", "autograder/report/plots.py"} <= names
    if paths.LESSONS.is_dir():
        assert any(n.startswith("lessons/") and n.endswith(".ipynb") for n in names)


def test_the_release_has_no_solutions_hidden_checks_or_reference_values(release):
    names = {str(p.relative_to(release)) for p in release.rglob("*") if p.is_file()}
    assert not [n for n in names if n.startswith(("solutions/", "tests/", "autograder/suite", "autograder/feedback"))]
    assert not [n for n in names if n.endswith((".npz", ".npy"))]
    texts = release_text(release)
    leaks = [(line, name) for line in solution_lines() for name, text in texts.items() if line in text]
    assert not leaks, leaks[:5]
    hidden = [c.name for c in all_checks() if c.visibility == "hidden"]
    assert hidden and not [(h, n) for h in hidden for n, t in texts.items() if re.search(rf"\b{h}\b", t)]


def test_the_leak_search_would_find_a_leak(release, tmp_path):
    line = sorted(solution_lines())[0]
    assert any(line in (paths.SOLUTIONS / f"{m}.py").read_text() for m in paths.MODULES)
    assert len(solution_lines()) > 40


def test_pytest_exercises_reports_not_implemented_inside_the_release(release):
    done = subprocess.run([sys.executable, "-m", "pytest", "exercises", "-q", "-p", "no:cacheprovider"],
                          cwd=release, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    visible = len(load_visible_checks(release / "exercises" / VISIBLE_FILE))
    assert visible >= 2 * 22
    assert f"{visible} failed" in done.stdout and done.stdout.count("is not implemented yet") >= visible


def test_make_check_runs_inside_the_release(release, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    # Let the new environment see this one's packages, so pip finds every requirement
    # already installed (and PIP_NO_INDEX proves the release asks for nothing more).
    site = next(env_dir.glob("lib/python*/site-packages"))
    (site / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(["make", "check", f"VENV={env_dir}"], cwd=release, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PIP_NO_INDEX": "1"})
    assert done.returncode != 0  # the stubs fail their checks
    visible = len(load_visible_checks(release / "exercises" / VISIBLE_FILE))
    assert "not implemented yet" in done.stdout and f"0 of {visible} visible checks pass" in done.stdout
    assert (release / "build" / "feedback.html").exists()


def test_the_release_cli_offers_only_the_student_command(release):
    done = subprocess.run([sys.executable, "-m", "autograder", "--help"], cwd=release, capture_output=True, text=True)
    assert done.returncode == 0 and "{check}" in done.stdout


def test_release_refuses_a_folder_with_content(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        build_release(tmp_path)
