"""The release is a GitHub Classroom template: its workflow validates against GitHub's schema,
runs one function's visible checks per step with that function's visible points, and every
command it runs passes on the reference and fails on the stubs inside a fresh release. A
folder of collected student repositories grades like the canonical layout."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
import yaml

from autograder import paths
from autograder.classroom import (COMMAND_GRADER, REPORTER, WORKFLOW_PATH, classroom_workflow, step_points,
                                  visible_points)
from autograder.release import build_release
from autograder.runtime.selfcheck import VISIBLE_FILE
from autograder.suite.weights import WEIGHTS
from submission_kit import reference_submission, with_replacements

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("classroom") / "template"
    build_release(out)
    return out


@pytest.fixture(scope="module")
def workflow(release) -> dict:
    return yaml.safe_load((release / WORKFLOW_PATH).read_text())


def steps(workflow: dict) -> list[dict]:
    (job,) = workflow["jobs"].values()
    return job["steps"]


def grader_steps(workflow: dict) -> list[dict]:
    return [s for s in steps(workflow) if s.get("uses") == COMMAND_GRADER]


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_the_workflow_validates_against_githubs_schema(release):
    done = validate(release / WORKFLOW_PATH)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_workflow(release, tmp_path):
    broken = tmp_path / "classroom.yml"
    broken.write_text((release / WORKFLOW_PATH).read_text().replace("    runs-on: ubuntu-latest\n", "", 1)
                      .replace("max-score: 2", "max-score: [2]", 1))
    done = validate(broken)
    assert done.returncode == 1 and "runs-on" in done.stdout


def test_the_release_workflow_is_generated_from_its_visible_checks(release):
    visible = (release / "exercises" / VISIBLE_FILE).read_text()
    assert (release / WORKFLOW_PATH).read_text() == classroom_workflow(visible)


def test_one_step_per_function_worth_its_visible_points(release, workflow):
    points = visible_points((release / "exercises" / VISIBLE_FILE).read_text())
    graders = grader_steps(workflow)
    assert [s["id"] for s in graders] == list(WEIGHTS) == list(points)
    for step in graders:
        inputs = step["with"]
        assert inputs["test-name"] == step["id"]
        assert inputs["command"].startswith(f"python -m pytest exercises -m {step['id']} ")
        assert isinstance(inputs["max-score"], int) and inputs["max-score"] == step_points(points[step["id"]])
        assert abs(inputs["max-score"] - points[step["id"]]) <= 0.5
        assert 1 <= inputs["timeout"] <= 60  # minutes
    total = sum(s["with"]["max-score"] for s in graders)
    assert abs(total - sum(points.values())) <= len(points) / 2


def test_the_workflow_installs_before_it_grades_and_reports_every_step(workflow):
    names = [s.get("uses", s.get("run", "")) for s in steps(workflow)]
    install = next(i for i, s in enumerate(steps(workflow)) if "requirements.txt" in s.get("run", ""))
    first_grader = names.index(COMMAND_GRADER)
    assert names[0].startswith("actions/checkout@") and install < first_grader
    reporter = steps(workflow)[-1]
    assert reporter["uses"] == REPORTER
    ids = [s["id"] for s in grader_steps(workflow)]
    assert reporter["with"]["runners"].split(",") == ids
    assert reporter["env"] == {f"{i.upper()}_RESULTS": f"${{{{steps.{i}.outputs.result}}}}" for i in ids}
    assert workflow["permissions"]["checks"] == "write" and "push" in workflow["on"]


def test_the_readmes_say_the_classroom_score_is_an_estimate(release):
    student = (release / "README.md").read_text()
    instructor = (paths.REPO / "README.md").read_text()
    for text in (student, instructor):
        assert "visible-check estimate" in text and ".github/workflows/classroom.yml" in text


@pytest.mark.slow
def test_every_workflow_command_passes_on_the_reference_and_fails_on_the_stubs(release, tmp_path):
    """Run the workflow's own commands, as GitHub's runner would, in a fresh release: the
    install step in a new virtual environment, then each grader step with the grader's
    reduced environment (PATH and HOME only)."""
    template = tmp_path / "template"
    shutil.copytree(release, template)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    # The new environment sees this one's packages, so the install step finds every
    # requirement installed, and PIP_NO_INDEX proves the release asks for nothing more.
    site = next(env_dir.glob("lib/python*/site-packages"))
    (site / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    path = f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}"
    workflow = yaml.safe_load((template / WORKFLOW_PATH).read_text())
    runs = [s["run"] for s in steps(workflow) if "run" in s]
    for command in runs:
        done = subprocess.run(command, shell=True, cwd=template, capture_output=True, text=True, timeout=600,
                              env={**os.environ, "PATH": path, "PIP_NO_INDEX": "1"})
        assert done.returncode == 0, command + "\n" + done.stdout + done.stderr
    grader_env = {"PATH": path, "HOME": str(tmp_path), "FORCE_COLOR": "true"}

    def run_graders() -> dict[str, int]:
        codes = {}
        for step in grader_steps(workflow):
            inputs = step["with"]
            for command in (inputs["setup-command"], inputs["command"]):
                if command:
                    done = subprocess.run(command, shell=True, cwd=template, capture_output=True, text=True,
                                          timeout=inputs["timeout"] * 60, env=grader_env)
            codes[step["id"]] = done.returncode
        return codes

    on_stubs = run_graders()
    assert {f: c for f, c in on_stubs.items() if c == 0} == {}
    for module in paths.MODULES:
        shutil.copy(paths.SOLUTIONS / f"{module}.py", template / "exercises" / f"{module}.py")
    on_reference = run_graders()
    assert {f: c for f, c in on_reference.items() if c != 0} == {}


def _class_modules(root: Path) -> dict[str, Path]:
    """Three students' module folders: the reference, one mistake, the stubs."""
    students = {"alice": reference_submission(root / "alice"),
                "bob": with_replacements(root / "bob", "clipping", ("if total_norm > max_norm else 1.0", ""))}
    (root / "carol").mkdir()
    for module in paths.MODULES:
        shutil.copy(paths.EXERCISES / f"{module}.py", root / "carol" / f"{module}.py")
    students["carol"] = root / "carol"
    return students


def _grade(submissions: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out),
                           "--quiet", "--jobs", "2"], cwd=paths.REPO, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="needs issue 14 layout finding")
def test_collected_repositories_grade_like_the_canonical_layout(release, tmp_path):
    """GitHub Classroom's collection gives one clone of the template per student, with the
    modules in exercises/; grading that folder gives the grades of the canonical layout."""
    canonical = _class_modules(tmp_path / "canonical")
    clones = tmp_path / "clones"
    for name, modules in canonical.items():
        clone = clones / f"stability-lab-{name}"
        shutil.copytree(release, clone)
        (clone / ".git").mkdir()
        (clone / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        for module in paths.MODULES:
            shutil.copy(modules / f"{module}.py", clone / "exercises" / f"{module}.py")
    # The canonical folder's students are named like the clones, so the gradebooks compare.
    named = tmp_path / "named"
    for name, modules in canonical.items():
        shutil.copytree(modules, named / f"stability-lab-{name}")
    assert _grade(named, tmp_path / "out-canonical").returncode == 0
    done = _grade(clones, tmp_path / "out-clones")
    assert done.returncode == 0, done.stderr
    expected = (tmp_path / "out-canonical" / "grades.csv").read_text()
    assert expected.count("\n") == 4
    assert (tmp_path / "out-clones" / "grades.csv").read_text() == expected
