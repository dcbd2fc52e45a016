"""Where things live in the repository. Every other module takes its paths from here."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"
LESSONS = REPO / "lessons"

#: The exercise modules, in teaching order. Each is ``solutions/<name>.py`` and
#: ``exercises/<name>.py``.
MODULES = ("normalization", "initialization", "clipping", "schedules")


def secret_files() -> tuple[str, ...]:
    """The grader's files a worker must never read: the reference solutions, the hidden check
    suite and the mistake catalogue (checked before grading at the ``uid`` level)."""
    folders = (SOLUTIONS, REPO / "autograder" / "suite", REPO / "autograder" / "feedback")
    return tuple(str(p) for folder in folders if folder.is_dir() for p in sorted(folder.glob("*.py")))
