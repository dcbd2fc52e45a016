"""The student's self-check: run the visible checks on a folder of exercise modules.

The visible checks are data (``exercises/visible_checks.json``), generated from the same
suite the grader uses, with the reference's answers for fixed inputs. No reference code and
no hidden check is needed to run them, so this module ships with the student release.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import jsoncodec
from .probes import Probe
from .runner import CheckRun, StudentRunner

VISIBLE_FILE = "visible_checks.json"


@dataclass
class VisibleCheck:
    name: str
    function: str
    module: str
    points: float
    description: str
    probes: list[Probe]


def load_visible_checks(path: Path) -> list[VisibleCheck]:
    """Read the exported visible checks."""
    data = jsoncodec.loads(Path(path).read_text())
    return [VisibleCheck(c["name"], c["function"], c["module"], c["points"], c["description"],
                         [Probe(**p) for p in c["probes"]]) for c in data["checks"]]


def run_visible(folder: Path, checks: list[VisibleCheck], runner: StudentRunner | None = None) -> list[CheckRun]:
    """Run every visible check on the modules in ``folder`` (in an isolated worker)."""
    own = runner is None
    runner = runner or StudentRunner(Path(folder))
    try:
        return [runner.run(c.module, c.function, c.probes) for c in checks]
    finally:
        if own:
            runner.close()
