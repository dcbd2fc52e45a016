"""The table of bad invocations: every command, given a bad path or argument, prints one line
on stderr, exits 2, shows no traceback and leaves nothing behind."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import paths

# Placeholders: FILE a file, DIR a folder, EMPTY an empty folder, SINGLE one student's
# folder (the four modules directly inside), COURSE an nbgrader course with an edited config,
# NEW and MISSING paths that do not exist.
BAD = [
    ("stubs", ["--out", "FILE"], "is not a folder"),
    ("check", ["MISSING"], "is not a folder"),
    ("check", ["exercises", "--html", "DIR"], "is a folder"),
    ("check", ["exercises", "--html", "FILE/report.html"], "is not a folder"),
    ("check", ["exercises", "--json", "DIR"], "is a folder"),
    ("check", ["exercises", "--function", "no_such_function"], "no_such_function"),
    ("grade", ["MISSING", "--out", "NEW"], "does not exist"),
    ("grade", ["FILE", "--out", "NEW"], "is not a folder"),
    ("grade", ["EMPTY", "--out", "NEW"], "no submission found"),
    ("grade", ["SINGLE", "--out", "NEW"], "looks like one submission"),
    ("grade", ["DIR", "--out", "FILE"], "is not a folder"),
    ("grade", ["DIR", "--out", "DIR"], "holds the submissions"),
    ("grade", ["DIR", "--out", "NEW", "--jobs", "0"], "--jobs must be at least 1"),
    ("grade", ["DIR", "--out", "NEW", "--shard", "4/3"], "--shard"),
    ("grade", ["DIR"], "the following arguments are required: --out"),
    ("grade", ["DIR", "--out", "NEW", "--isolation", "bogus"], "invalid choice"),
    ("merge", ["MISSING", "--out", "NEW"], "does not exist"),
    ("merge", ["FILE", "--out", "NEW"], "does not exist"),
    ("release", ["FILE"], "is not a folder"),
    ("release", ["DIR"], "not empty"),
    ("gradescope", ["DIR"], "is a folder"),
    ("gradescope", ["FILE/autograder.zip"], "is not a folder"),
    ("nbgrader", ["FILE"], "is not a folder"),
    ("nbgrader", ["COURSE"], "has been edited"),
    ("gradescope-run", ["--root", "MISSING"], "is not a folder"),
]


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in root.rglob("*")}


@pytest.fixture
def places(tmp_path) -> dict[str, str]:
    (tmp_path / "file.txt").write_text("not a folder\n")
    (tmp_path / "dir" / "alice").mkdir(parents=True)
    for module in paths.MODULES:
        (tmp_path / "dir" / "alice" / f"{module}.py").write_text((paths.SOLUTIONS / f"{module}.py").read_text())
    (tmp_path / "empty").mkdir()
    (tmp_path / "single").mkdir()
    for module in paths.MODULES:
        (tmp_path / "single" / f"{module}.py").write_text("x = 1\n")
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "nbgrader_config.py").write_text("c = get_config()\nc.Exchange.root = '/srv/x'\n")
    return {"FILE": str(tmp_path / "file.txt"), "DIR": str(tmp_path / "dir"), "EMPTY": str(tmp_path / "empty"),
            "SINGLE": str(tmp_path / "single"), "COURSE": str(tmp_path / "course"),
            "NEW": str(tmp_path / "new"), "MISSING": str(tmp_path / "missing")}


def substitute(arg: str, places: dict[str, str]) -> str:
    head, _, tail = arg.partition("/")
    return places[head] + ("/" + tail if tail else "") if head in places else arg


@pytest.mark.parametrize("command, args, message", BAD, ids=[f"{c} {' '.join(a)}" for c, a, _ in BAD])
def test_a_bad_invocation_is_one_line_exit_2_and_leaves_nothing(tmp_path, places, command, args, message):
    before = snapshot(tmp_path)
    repo_before = set(os.listdir(paths.REPO))
    done = subprocess.run([sys.executable, "-m", "autograder", command, *(substitute(a, places) for a in args)],
                          cwd=paths.REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr
    assert snapshot(tmp_path) == before  # nothing created, nothing changed, no temporary file
    assert set(os.listdir(paths.REPO)) == repo_before


def test_an_unknown_command_is_one_line_too():
    done = subprocess.run([sys.executable, "-m", "autograder", "grades"], cwd=paths.REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "invalid choice" in done.stderr


def test_every_command_has_a_row():
    from autograder.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse has no API
    assert set(commands) == {c for c, _, _ in BAD}
