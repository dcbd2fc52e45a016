"""Run checks' probes against one submission, containing every failure of the student's code.

``StudentRunner`` owns the submission's worker. A missing or refused module, an import error,
a timeout, a crash, a flood or an unreadable answer becomes a failed reply with a plain
message; the worker is restarted for the next function, and a function whose worker died is
not retried. A worker that cannot start is retried once at the same level, then every
remaining check reports it. The submission's whole time is bounded by
``Limits.submission_seconds``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..paths import MODULES
from .probes import Probe, Verdict, failure_text, judge_safely
from .sandbox import Isolation, Limits, Worker, WorkerFailure, choose_isolation
from .sources import Sources, read_folder


@dataclass
class CheckRun:
    """The outcome of one check's probes (before points)."""

    passed: bool
    message: str = ""
    label: str = ""
    verdict: Verdict | None = None
    probes: list[Probe] = field(default_factory=list)
    replies: list[dict] = field(default_factory=list)

    @property
    def failure(self) -> tuple[Probe, dict] | None:
        """The probe that failed and the reply it got, or None when the check passed."""
        if self.passed or not self.replies:
            return None
        return self.probes[len(self.replies) - 1], self.replies[-1]


class StudentRunner:
    """Ask a submission's code the probes' questions, one worker at a time.

    ``submission``: a folder holding the modules at its top, or ``Sources`` already read.
    ``isolation``: the run's level; by default the strongest this machine offers (probed
    once per process), which suits the student's self-check. Graders pass the level they
    decided with ``choose_isolation``.
    """

    def __init__(self, submission: Path | Sources, limits: Limits | None = None,
                 isolation: Isolation | None = None):
        self.sources = submission if isinstance(submission, Sources) else read_folder(Path(submission), MODULES)
        self.limits = limits or Limits()
        self.isolation = isolation or choose_isolation(floor="process")
        self._worker = Worker(dict(self.sources.files), self.limits, self.isolation)
        self._running = False
        self._module_problems: dict[str, str | None] = {}
        self._broken: dict[str, str] = {}
        self._fatal: str | None = None
        self._deadline = time.monotonic() + self.limits.submission_seconds
        self.notes: list[str] = []

    def __enter__(self) -> "StudentRunner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._worker.close()
        self._running = False

    @property
    def received_bytes(self) -> int:
        return self._worker.received

    def _ensure_worker(self) -> None:
        """Start the worker if it is not running: a start that fails is tried once more at
        the same level, then the failure is this submission's, for every later check."""
        if self._fatal:
            raise WorkerFailure("sandbox", self._fatal)
        if time.monotonic() > self._deadline:
            self._fatal = (f"the submission used up its time budget of {self.limits.submission_seconds:g} s; "
                           "the remaining checks were not run")
            self.notes.append(self._fatal)
            raise WorkerFailure("budget", self._fatal)
        if self._running:
            return
        for attempt in (1, 2):
            try:
                self._worker.start()
                self._running = True
                return
            except WorkerFailure as failure:
                if failure.kind not in ("sandbox", "timeout", "died", "protocol") or attempt == 2:
                    self._fatal = f"the sandbox could not start a worker for this submission: {failure.message}"
                    self.notes.append(self._fatal)
                    raise WorkerFailure("sandbox", self._fatal) from None

    def output(self) -> str:
        return self._worker.output()

    def module_problem(self, module: str) -> str | None:
        """Why ``module`` cannot be graded (missing, refused, fails to import), or None."""
        if module not in self._module_problems:
            self._module_problems[module] = self.sources.problems.get(module) or self._import(module)
        return self._module_problems[module]

    def _import(self, module: str) -> str | None:
        try:
            self._ensure_worker()
            reply = self._worker.request({"op": "import", "module": module}, self._seconds(self.limits.import_seconds),
                                         f"the import of {module}.py")
        except WorkerFailure as failure:
            self._running = False
            return f"{module}.py could not be imported: {failure.message}"
        if not reply.get("ok"):
            return f"{module}.py could not be imported: {failure_text(reply)}"
        return None

    def _seconds(self, limit: float) -> float:
        """A request's limit, cut to what is left of the submission's budget."""
        return max(0.0, min(limit, self._deadline - time.monotonic()))

    def ask(self, module: str, function: str, probe: Probe) -> dict:
        """The worker's reply to one probe, or a failed reply that says what went wrong."""
        problem = self.module_problem(module)
        if problem:
            return {"ok": False, "error": "ModuleProblem", "message": problem}
        if function in self._broken:
            return {"ok": False, "error": "WorkerFailure", "message": self._broken[function]}
        try:
            self._ensure_worker()
            return self._worker.request(probe.request, self._seconds(self.limits.call_seconds), function)
        except WorkerFailure as failure:
            self._running = False
            message = failure.message
            if failure.kind == "timeout" and time.monotonic() >= self._deadline:
                message = (f"the submission used up its time budget of {self.limits.submission_seconds:g} s "
                           f"while running {function}")
            self._broken[function] = message
            return {"ok": False, "error": "WorkerFailure", "message": message}

    def run(self, module: str, function: str, probes: list[Probe]) -> CheckRun:
        """Ask every probe in turn and stop at the first one that fails."""
        return run_probes(lambda probe: self.ask(module, function, probe), probes)


def run_probes(ask: Callable[[Probe], dict], probes: list[Probe]) -> CheckRun:
    """Ask each probe with ``ask``, judge its reply, and stop at the first failure."""
    replies: list[dict] = []
    for probe in probes:
        reply = ask(probe)
        replies.append(reply)
        verdict = judge_safely(probe, reply, replies)
        if not verdict.ok:
            return CheckRun(False, verdict.message, probe.label, verdict, probes, replies)
    return CheckRun(True, "", "", None, probes, replies)
