"""Find the submissions in a folder: one sub-folder per student, each holding that student's
exercise modules. Files and dot-entries at the top level are ignored."""
from __future__ import annotations

import os
from pathlib import Path


class SubmissionsError(Exception):
    """The submissions folder itself cannot be used (missing, not a folder, unreadable)."""


def find_submissions(folder: Path, exclude: tuple[Path, ...] = ()) -> list[Path]:
    """Sub-folders of ``folder`` in name order, without dot-entries, files and ``exclude``."""
    folder = Path(folder)
    if not folder.exists():
        raise SubmissionsError(f"{folder} does not exist")
    if not folder.is_dir():
        raise SubmissionsError(f"{folder} is not a folder")
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except PermissionError:
        raise SubmissionsError(f"{folder} cannot be read (permission denied)") from None
    excluded = {p.resolve() for p in exclude}
    found = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if path.resolve() in excluded:
            continue
        found.append(path)
    return found


def submission_problem(folder: Path) -> str | None:
    """Why a submission folder cannot be read at all, or None."""
    try:
        os.listdir(folder)
    except OSError as error:
        return f"the submission folder could not be read ({error.strerror})"
    return None
