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
