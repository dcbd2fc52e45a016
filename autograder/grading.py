"""Grade a folder of submissions in parallel, resumably, writing every file atomically.

Output layout (class-level files can never collide with a student's folder name)::

    OUT/grades.csv                            the class gradebook
    OUT/submissions/<name>/results.json       Gradescope's format, written last: marks it done
    OUT/submissions/<name>/feedback.html      the student's report

Each ``results.json`` records a digest of the graded files and of the grader (checks,
weights, tolerances, rubric, reference): a rerun regrades a submission whose files or grader
changed and skips only true duplicates (``force`` regrades everything). A run killed halfway
loses at most the submissions being graded at that moment. The modules are read once, as text,
in this trusted process (``collect``) and handed to the worker from memory: no copy of a
student's files is ever written to disk, so none is left behind by a killed run.

Submissions are graded by a pool of grader processes (``ProcessPoolExecutor``). If a grader
process dies (out of memory, killed), the pool is replaced and the submissions it was
grading are retried once, one at a time, so that an innocent submission that shared the
broken pool is not blamed; a submission that kills its grader twice is reported as failed and
the rest of the class is still graded.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .atomic import write_atomic
from .collect import (EXPECTED, ClassListing, Staged, SubmissionsError, check_folder, describe_contents,
                      list_class, module_of_name, no_module_reason, read_submission)
from .engine import SubmissionGrade, grade_submission
from .gradebook import results_path, write_gradebook
from .results import results_json
from .runtime.sandbox import Isolation, Limits, choose_isolation
from .scoring import TestResult
from .suite.reference import Reference
from .suite.registry import all_checks

#: The name a grader process shows (``ps``, ``top``, ``/proc/PID/comm``) while it grades a
#: submission: this prefix and the start of the submission's name hash (see ``grading_tag``).
PROCESS_TAG = "sl-"
PR_SET_PDEATHSIG = 1
#: The grader's own files whose change means every submission must be regraded.
GRADER_TREES = ("autograder/suite", "autograder/runtime", "autograder/feedback")
GRADER_FILES = ("autograder/engine.py", "autograder/scoring.py", "autograder/results.py")


@dataclass
class BatchSummary:
    """What one ``grade`` run did, by submission name."""

    graded: list[str] = field(default_factory=list)
    regraded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: Graded, but no module could be read: name -> reason.
    no_module: dict[str, str] = field(default_factory=dict)
    #: Found but not graded (symbolic links, non-UTF-8 names): name -> reason.
    reported: dict[str, str] = field(default_factory=dict)
    #: Layout notes (case-insensitive names, notebooks): name -> notes.
    notes: dict[str, list[str]] = field(default_factory=dict)
    #: Could not be graded (the grader failed or its process died twice): name -> reason.
    failed: dict[str, str] = field(default_factory=dict)
    gradebook: Path | None = None
    isolation: str = ""


@dataclass
class Task:
    """One submission to grade, with its sources already read by the trusted process."""

    name: str
    staged: Staged
    digests: dict[str, str]
    no_module: str | None = None


# --- digests ---------------------------------------------------------------------------------

def _tree_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def grader_digest() -> str:
    """A digest of everything that decides a grade: the check suite, weights, tolerances,
    rubric and feedback catalogue, the worker, the scoring, and the reference solutions."""
    files = [f for tree in GRADER_TREES for f in _tree_files(paths.REPO / tree)]
    files += [paths.REPO / name for name in GRADER_FILES]
    files += [paths.SOLUTIONS / f"{m}.py" for m in paths.MODULES]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(paths.REPO).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


def recorded_digests(out_dir: Path, name: str) -> dict | None:
    """The digests a previous run recorded for ``name``, or None when it has no results."""
    try:
        results = json.loads(results_path(out_dir, name).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    extra = results.get("extra_data") if isinstance(results, dict) else None
    return extra.get("digests", {}) if isinstance(extra, dict) else {}


# --- the grader processes --------------------------------------------------------------------

_STATE: dict = {}


def _init_process(limits: Limits, isolation: Isolation, feedback: bool, out_dir: str, parent: int) -> None:
    _die_with(parent)
    _STATE.update(limits=limits, isolation=isolation, feedback=feedback, out_dir=Path(out_dir),
                  reference=Reference(), checks=all_checks())


def _die_with(parent: int) -> None:
    """End this grader process when ``grade`` (``parent``) ends, even by SIGKILL: its worker
    then ends with it, and nothing of a killed run keeps running."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pool's own pipes end it after the submission
        pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def grading_tag(name: str) -> str:
    """What a grader process is named while it grades ``name`` (15 bytes, the kernel's limit)."""
    return PROCESS_TAG + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def _name_process(tag: str) -> None:
    """Show ``tag`` as this process's name, so ``ps`` tells which grader grades whom."""
    try:
        Path("/proc/self/comm").write_text(tag[:15])
    except OSError:
        pass


def _unreadable(name: str, problem: str, notes: list[str]) -> SubmissionGrade:
    tests = [TestResult(c.name, c.function, c.description, c.visibility, c.points, 0.0, False, c.main, problem)
             for c in _STATE["checks"]]
    return SubmissionGrade(name, tests, notes=[*notes, problem])


def _grade_staged(task: Task) -> SubmissionGrade:
    """Grade the sources of ``task``, read earlier by the trusted process."""
    _name_process(grading_tag(task.name))
    try:
        grade = grade_submission(task.staged.sources, task.name, limits=_STATE["limits"],
                                 isolation=_STATE["isolation"], checks=_STATE["checks"],
                                 reference=_STATE["reference"])
    finally:
        _name_process(PROCESS_TAG + "idle")
    grade.notes[:0] = task.staged.notes
    return grade


def _grade_one(task: Task) -> tuple[str, str | None]:
    """Grade one submission and write its results; returns (name, internal error or None)."""
    out_dir = _STATE["out_dir"]
    try:
        if task.no_module is not None:
            grade = _unreadable(task.name, task.no_module, task.staged.notes)
        else:
            grade = _grade_staged(task)
        target = results_path(out_dir, task.name)
        if _STATE["feedback"]:
            from .feedback.report import feedback_html

            write_atomic(target.with_name("feedback.html"), feedback_html(grade))
        write_atomic(target, results_json(grade, {"digests": task.digests}))  # last: marks it done
        return task.name, None
    except Exception as error:  # noqa: BLE001 - one submission's failure must not stop the class
        return task.name, f"{type(error).__name__}: {error}"


class _Pool:
    """Grader processes that run tasks; a pool that breaks reports which tasks it lost."""

    def __init__(self, jobs: int, initargs: tuple) -> None:
        self.jobs, self.initargs = jobs, initargs

    def _executor(self, jobs: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_init_process, initargs=self.initargs)

    def run(self, tasks: list[Task], done) -> list[Task]:
        """Run ``tasks`` with at most ``jobs`` in flight, calling ``done(name, error)`` for each
        finished one; returns the tasks lost to dead grader processes (not yet retried)."""
        queue, lost = list(reversed(tasks)), []
        while queue:
            executor = self._executor(self.jobs)
            running: dict[Future, Task] = {}
            broken = False
            try:
                while (queue or running) and not broken:
                    while queue and len(running) < self.jobs:
                        task = queue.pop()
                        running[executor.submit(_grade_one, task)] = task
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        task = running.pop(future)
                        try:
                            done(*future.result())
                        except BrokenProcessPool:
                            lost.append(task)
                            broken = True
                if broken:  # every task still in flight was in the broken pool: a suspect
                    lost.extend(running.values())
            finally:
                executor.shutdown(wait=True, cancel_futures=True)
        return lost

    def retry_alone(self, task: Task) -> tuple[str, str | None]:
        """Grade ``task`` in a pool of its own; a second death is that submission's error."""
        executor = self._executor(1)
        try:
            return executor.submit(_grade_one, task).result()
        except BrokenProcessPool:
            return task.name, ("the grader process died twice while grading this submission "
                               "(out of memory, or killed); it was not graded")
        finally:
            executor.shutdown(wait=True, cancel_futures=True)


# --- a class ---------------------------------------------------------------------------------

def in_shard(name: str, index: int, count: int) -> bool:
    """Whether submission ``name`` belongs to shard ``index`` of ``count`` (1-based): a split
    by a hash of the name, so every grader agrees without seeing the same folder listing."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1


def check_out_dir(submissions: Path, out_dir: Path) -> None:
    """Refuse an output folder that is a file, or that holds the submissions."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SubmissionsError(f"--out {out_dir} exists and is not a folder")
    if submissions == out_dir or out_dir in submissions.parents:
        raise SubmissionsError(f"--out {out_dir} holds the submissions folder; choose a folder outside it")


def nothing_found(submissions: Path, listing: ClassListing) -> SubmissionsError:
    """The error for a class folder in which no submission was found, saying what it holds."""
    seen = describe_contents(submissions)
    if any(module_of_name(Path(f)) for f in listing.files):
        seen += " (this looks like one submission: grade a folder that holds it)"
    return SubmissionsError(f"no submission found in {submissions}: expected {EXPECTED}; {seen}")


def plan_class(submissions: Path, out_dir: Path, shard: tuple[int, int] | None,
               summary: BatchSummary) -> list[Task]:
    """Find and read every submission (trusted, text only); raise if none is found."""
    listing = list_class(submissions, exclude=(out_dir,))
    folders = listing.folders
    reported = listing.reported
    if shard is not None:
        folders = [f for f in folders if in_shard(f.name, *shard)]
        reported = {n: r for n, r in reported.items() if in_shard(n, *shard)}
    tasks = []
    for folder in folders:
        staged = read_submission(folder)
        no_module = None if staged.gradable else no_module_reason(folder, staged)
        tasks.append(Task(folder.name, staged, {"submission": staged.digest()}, no_module))
    if not any(t.no_module is None for t in tasks) and not (shard is not None and listing.folders):
        raise nothing_found(submissions, listing)
    summary.reported.update(reported)
    return tasks


def grade_folder(submissions: Path, out_dir: Path, jobs: int | None = None, force: bool = False,
                 progress: bool = True, limits: Limits | None = None, isolation: str | None = None,
                 feedback: bool = True, shard: tuple[int, int] | None = None) -> BatchSummary:
    """Grade every submission in ``submissions`` into ``out_dir`` (``feedback``: also write
    ``feedback.html`` with plots for each). Nothing is created when no submission is found.
    ``isolation``: a level the instructor named; by default the sandbox, refused
    (``IsolationError``) where it does not work. The level is decided here, once, before any
    student code runs."""
    submissions, out_dir = Path(submissions).resolve(), Path(out_dir).resolve()
    check_folder(submissions)
    check_out_dir(submissions, out_dir)
    summary = BatchSummary()
    tasks = plan_class(submissions, out_dir, shard, summary)
    # At the uid level a worker could read whatever other users may: classmates' work too.
    chosen = choose_isolation(isolation, secrets=(*paths.secret_files(), str(submissions)))
    out_dir.mkdir(parents=True, exist_ok=True)
    if chosen.level == "uid":
        os.chmod(out_dir, 0o700)
    grader = grader_digest()
    pending = []
    for task in tasks:
        task.digests["grader"] = grader
        notes = task.staged.notes + list(task.staged.refused.values())
        if notes and task.no_module is None:
            summary.notes[task.name] = notes
        if task.no_module is not None:
            summary.no_module[task.name] = task.no_module
        recorded = recorded_digests(out_dir, task.name)
        if recorded == task.digests and not force:
            summary.skipped.append(task.name)
            continue
        (summary.regraded if recorded is not None else summary.graded).append(task.name)
        pending.append(task)
    _run(pending, out_dir, summary, jobs, progress, (limits or Limits(), chosen, feedback))
    summary.gradebook = write_gradebook(out_dir)
    summary.isolation = chosen.describe()
    return summary


def _run(pending: list[Task], out_dir: Path, summary: BatchSummary, jobs: int | None, progress: bool,
         settings: tuple[Limits, Isolation, bool]) -> None:
    """Grade ``pending``; record failures in ``summary`` (the graded lists are already set)."""
    if not pending:
        return
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(pending)))
    limits, isolation, feedback = settings
    pool = _Pool(jobs, (limits, isolation, feedback, str(out_dir), os.getpid()))
    bar = _progress(len(pending), progress)

    def done(name: str, error: str | None) -> None:
        if error:
            summary.failed[name] = error
        bar.update(1)

    try:
        for task in pool.run(pending, done):
            done(*pool.retry_alone(task))
    finally:
        bar.close()
    for name in summary.failed:
        for group in (summary.graded, summary.regraded):
            if name in group:
                group.remove(name)


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
