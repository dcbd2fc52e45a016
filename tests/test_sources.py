"""Only the contract modules enter the worker, and only as strict UTF-8 regular files within the
size limit: every refusal is a plain message that costs that module, nothing is truncated."""
from __future__ import annotations

import doctest
import os

import pytest

from autograder import paths
from autograder.engine import grade_submission
from autograder.report import plots
from autograder.runtime import bwrap, protocol, sources
from autograder.runtime.sources import MAX_SOURCE_BYTES, read_folder
from submission_kit import reference_submission

MODULES = list(paths.MODULES)


def problem(folder, module="clipping") -> str:
    return read_folder(folder, MODULES).problems.get(module, "")


def test_only_the_four_modules_are_read(tmp_path):
    reference_submission(tmp_path)
    (tmp_path / "secrets.py").write_text("raise SystemExit\n")
    assert sorted(read_folder(tmp_path, MODULES).files) == sorted(f"{m}.py" for m in MODULES)


def test_another_coding_is_refused(tmp_path):
    reference_submission(tmp_path)
    (tmp_path / "clipping.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n")
    assert "declares the encoding latin-1" in problem(tmp_path)


def test_a_utf8_coding_line_is_fine(tmp_path):
    reference_submission(tmp_path)
    (tmp_path / "clipping.py").write_bytes(b"# -*- coding: utf-8 -*-\nx = '\xc3\xa9'\n")
    assert problem(tmp_path) == ""


def test_invalid_utf8_is_refused(tmp_path):
    reference_submission(tmp_path)
    (tmp_path / "clipping.py").write_bytes(b"x = '\xff'\n")
    assert "is not valid UTF-8 (byte 5)" in problem(tmp_path)


def test_a_file_over_the_limit_is_refused_not_truncated(tmp_path):
    reference_submission(tmp_path)
    (tmp_path / "clipping.py").write_text("#" * (MAX_SOURCE_BYTES + 1))
    assert f"the limit is {MAX_SOURCE_BYTES:,}" in problem(tmp_path)


def test_hard_links_symlinks_and_pipes_are_refused(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\n")
    folder = tmp_path / "sub"
    folder.mkdir()
    os.link(outside, folder / "clipping.py")
    (folder / "schedules.py").symlink_to(outside)
    os.mkfifo(folder / "normalization.py")  # opening it for reading must not hang the grader
    (folder / "initialization.py").mkdir()
    found = read_folder(folder, MODULES).problems
    assert "hard link" in found["clipping"]
    assert "symbolic link" in found["schedules"]
    assert "not a regular file" in found["normalization"] and "not a regular file" in found["initialization"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the grader reads with lowered rights only when it is root")
def test_as_root_files_are_read_with_an_unprivileged_users_rights(tmp_path):
    reference_submission(tmp_path)
    os.chmod(tmp_path / "clipping.py", 0o600)  # the student could not read it either
    assert "cannot be read (Permission denied)" in problem(tmp_path)
    assert os.geteuid() == 0 and os.getegid() == 0  # restored


def test_a_refused_module_costs_that_module_only(tmp_path):
    reference_submission(tmp_path)
    (tmp_path / "clipping.py").write_bytes(b"x = '\xff'\n")
    grade = grade_submission(tmp_path, "refused")
    assert grade.score == 100 - 14
    assert all("not valid UTF-8" in t.message for t in grade.tests if t.function in ("global_norm", "clip_by_norm"))


@pytest.mark.parametrize("module", [bwrap, sources, protocol, plots])
def test_the_runtime_docstring_examples_pass(module):
    failures, tried = doctest.testmod(module)
    assert tried > 0 and failures == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the check as another user")
def test_an_unprivileged_grader_refuses_the_same_files():
    import sys

    import attack_kit

    script = ("import os, pathlib, tempfile\n"
              "from autograder.runtime.sources import read_folder\n"
              "d = pathlib.Path(tempfile.mkdtemp())\n"
              "(d / 'clipping.py').write_text('x = 1\\n')\n"
              "os.symlink('/etc/passwd', d / 'schedules.py')\n"
              "os.mkfifo(d / 'normalization.py')\n"
              "(d / 'outside.py').write_text('y = 2\\n')\n"
              "os.link(d / 'outside.py', d / 'initialization.py')\n"
              "found = read_folder(d, ['clipping', 'schedules', 'normalization', 'initialization'])\n"
              "print(sorted(found.files), sorted((m, p.split(' is ')[1][:12]) for m, p in found.problems.items()))\n")
    done = attack_kit.as_user([sys.executable, "-c", script], attack_kit.PLAIN_USER)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("['clipping.py'] [('initialization', 'a hard link '), ('normalization', "
                                   "'not a regula'), ('schedules', 'a symbolic l')]")

