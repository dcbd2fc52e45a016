"""Grade a folder of submissions in parallel, resumably, writing every file atomically.

For each submission folder ``SUBMISSIONS/<name>/`` it writes ``OUT/<name>/feedback.html``
and ``OUT/<name>/results.json`` (Gradescope's format), then ``OUT/grades.csv`` for the class. A submission whose
``results.json`` exists is skipped unless ``force``; a run killed halfway loses at most the
submissions being graded at that moment.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .atomic import write_atomic
from .collect import find_submissions, submission_problem
from .engine import SubmissionGrade, grade_submission
from .gradebook import write_gradebook
from .results import results_json
from .runtime.sandbox import Isolation, Limits, choose_isolation
from .scoring import TestResult
from .suite.reference import Reference
from .suite.registry import all_checks


@dataclass
class BatchSummary:
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    gradebook: Path | None = None
    isolation: str = ""


_STATE: dict = {}


def _init_process(limits: Limits, isolation: Isolation, feedback: bool = True) -> None:
    _STATE.update(limits=limits, isolation=isolation, feedback=feedback, reference=Reference(),
                  checks=all_checks())


def _unreadable(folder: Path, problem: str) -> SubmissionGrade:
    tests = [TestResult(c.name, c.function, c.description, c.visibility, c.points, 0.0, False, c.main, problem)
             for c in _STATE["checks"]]
    return SubmissionGrade(folder.name, tests, notes=[problem])


def _grade_one(task: tuple[str, str]) -> tuple[str, str | None]:
    """Grade one folder and write its results; returns (name, internal error or None)."""
    folder, out_dir = Path(task[0]), Path(task[1])
    try:
        problem = submission_problem(folder)
        if problem:
            grade = _unreadable(folder, problem)
        else:
            grade = grade_submission(folder, folder.name, limits=_STATE["limits"], isolation=_STATE["isolation"],
                                     checks=_STATE["checks"], reference=_STATE["reference"])
        if _STATE["feedback"]:
            from .feedback.report import feedback_html

            write_atomic(out_dir / folder.name / "feedback.html", feedback_html(grade))
        write_atomic(out_dir / folder.name / "results.json", results_json(grade))  # last: marks it done
        return folder.name, None
    except Exception as error:  # noqa: BLE001 - one submission's failure must not stop the class
        return folder.name, f"{type(error).__name__}: {error}"


def in_shard(name: str, index: int, count: int) -> bool:
    """Whether submission ``name`` belongs to shard ``index`` of ``count`` (1-based): a split
    by a hash of the name, so every grader agrees without seeing the same folder listing."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1


def grade_folder(submissions: Path, out_dir: Path, jobs: int | None = None, force: bool = False,
                 progress: bool = True, limits: Limits | None = None, isolation: str | None = None,
                 feedback: bool = True, shard: tuple[int, int] | None = None) -> BatchSummary:
    """Grade every submission in ``submissions`` into ``out_dir`` (``feedback``: also write
    ``feedback.html`` with plots for each). ``isolation``: a level the instructor named;
    by default the sandbox, refused (``IsolationError``) where it does not work. The level is
    decided here, once, before any student code runs."""
    submissions, out_dir = Path(submissions).resolve(), Path(out_dir).resolve()
    # At the uid level a worker could read whatever other users may: classmates' work too.
    chosen = choose_isolation(isolation, secrets=(*paths.secret_files(), str(submissions)))
    out_dir.mkdir(parents=True, exist_ok=True)
    if chosen.level == "uid":
        os.chmod(out_dir, 0o700)
    folders = find_submissions(submissions, exclude=(out_dir,))
    if shard is not None:
        folders = [f for f in folders if in_shard(f.name, *shard)]
    summary = BatchSummary()
    pending = []
    for folder in folders:
        if not force and (out_dir / folder.name / "results.json").exists():
            summary.skipped.append(folder.name)
        else:
            pending.append(folder)
    jobs = max(1, min(jobs or os.cpu_count() or 1, max(1, len(pending))))
    tasks = [(str(f), str(out_dir)) for f in pending]
    initargs = (limits or Limits(), chosen, feedback)
    bar = _progress(len(tasks), progress)
    if jobs == 1:
        _init_process(*initargs)
        results = map(_grade_one, tasks)
        pool = None
    else:
        pool = multiprocessing.get_context("fork").Pool(jobs, _init_process, initargs)
        results = pool.imap_unordered(_grade_one, tasks)
    try:
        for name, error in results:
            if error:
                summary.failed[name] = error
            else:
                summary.graded.append(name)
            bar.update(1)
    finally:
        bar.close()
        if pool is not None:
            pool.close()
            pool.join()
    summary.gradebook = write_gradebook(out_dir)
    summary.isolation = chosen.describe()
    return summary


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, unit="submission", file=sys.stderr, dynamic_ncols=True)
