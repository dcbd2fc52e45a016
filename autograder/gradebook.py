"""``grades.csv``: one row per submission, a column per graded function, and the total.

It is built from the ``results.json`` files in the output folder
(``OUT/submissions/<name>/results.json``), so a resumed run produces the same gradebook as an
uninterrupted one. Class-level files (``OUT/grades.csv``) live beside ``OUT/submissions/``,
never inside it, so no student's folder name can collide with them.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from .atomic import write_atomic
from .suite.weights import WEIGHTS

#: Per-student outputs live in ``OUT/submissions/<name>/``; class-level files in ``OUT/``.
SUBMISSIONS_DIR = "submissions"
GRADEBOOK = "grades.csv"


def results_path(out_dir: Path, name: str) -> Path:
    """Where the results of submission ``name`` are written in output folder ``out_dir``."""
    return Path(out_dir) / SUBMISSIONS_DIR / name / "results.json"


def row_from_results(name: str, results: dict) -> dict:
    per_function = {f: 0.0 for f in WEIGHTS}
    partial: dict[str, None] = {}
    for test in results.get("tests", []):
        tags = test.get("tags") or [None]
        if tags[0] in per_function:
            per_function[tags[0]] += float(test.get("score", 0.0))
            partial.update({f"{tags[0]}: {t}": None for t in tags[1:] if str(t).startswith("partial credit: ")})
    row = {"submission": name}
    row.update({f: round(v, 2) for f, v in per_function.items()})
    row["total"] = round(math.fsum(per_function.values()), 2)
    row["notes"] = "; ".join(partial)
    return row


def collect_rows(out_dir: Path) -> list[dict]:
    rows = []
    for results_file in sorted((Path(out_dir) / SUBMISSIONS_DIR).glob("*/results.json")):
        try:
            results = json.loads(results_file.read_text())
        except (OSError, ValueError):
            continue
        rows.append(row_from_results(results_file.parent.name, results))
    return rows


def gradebook_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["submission", *WEIGHTS, "total", "notes"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_gradebook(out_dir: Path) -> Path:
    path = Path(out_dir) / GRADEBOOK
    write_atomic(path, gradebook_csv(collect_rows(out_dir)))
    return path


class MergeError(Exception):
    """Gradebooks that cannot be merged (missing, or one student graded differently twice)."""


def _read_gradebook(path: Path) -> list[dict]:
    """The rows of a ``grades.csv``; a file that is not one is a ``MergeError``."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise MergeError(f"{path} cannot be read as a gradebook ({error})") from None
    if any("submission" not in row for row in rows):
        raise MergeError(f"{path} is not a gradebook (no 'submission' column)")
    return rows


def merge_gradebooks(out_dirs: list[Path], target: Path) -> int:
    """Merge the ``grades.csv`` of several output folders (shards) into ``target``."""
    merged: dict[str, dict] = {}
    for out_dir in out_dirs:
        path = Path(out_dir) / GRADEBOOK
        if not path.is_file():
            raise MergeError(f"{path} does not exist (give the output folders of `grade` runs)")
        for row in _read_gradebook(path):
            name = row["submission"]
            if name in merged and merged[name] != row:
                raise MergeError(f"{name} appears in two gradebooks with different grades")
            merged[name] = row
    rows = [merged[name] for name in sorted(merged)]
    target = Path(target)
    if target.is_dir():
        raise MergeError(f"--out {target} is a folder; give the merged .csv file to write")
    if not target.parent.is_dir():
        raise MergeError(f"--out {target}: its folder {target.parent} does not exist")
    write_atomic(target, gradebook_csv(rows))
    return len(rows)
