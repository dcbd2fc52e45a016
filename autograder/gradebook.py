"""``grades.csv``: one row per submission, a column per graded function, and the total.

It is built from the ``results.json`` files in the output folder, so a resumed run produces
the same gradebook as an uninterrupted one.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from .atomic import write_atomic
from .suite.weights import WEIGHTS


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
    for results_file in sorted(Path(out_dir).glob("*/results.json")):
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
    path = Path(out_dir) / "grades.csv"
    write_atomic(path, gradebook_csv(collect_rows(out_dir)))
    return path


class MergeError(Exception):
    """Gradebooks that cannot be merged (missing, or one student graded differently twice)."""


def merge_gradebooks(out_dirs: list[Path], target: Path) -> int:
    """Merge the ``grades.csv`` of several output folders (shards) into ``target``."""
    merged: dict[str, dict] = {}
    for out_dir in out_dirs:
        path = Path(out_dir) / "grades.csv"
        if not path.is_file():
            raise MergeError(f"{path} does not exist")
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                name = row["submission"]
                if name in merged and merged[name] != row:
                    raise MergeError(f"{name} appears in two gradebooks with different grades")
                merged[name] = row
    rows = [merged[name] for name in sorted(merged)]
    write_atomic(Path(target), gradebook_csv(rows))
    return len(rows)
