"""Run checks' probes against one submission, containing every failure of the student's code.

``StudentRunner`` owns the submission's worker. A missing module, an import error, a
timeout, a crash or a garbled answer becomes a failed reply with a plain message; the worker
is restarted for the next function, and a function whose worker died is not retried.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .probes import Probe, Verdict, failure_text, judge
from .sandbox import Limits, Worker, WorkerFailure


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
    """Ask a submission's code the probes' questions, one worker at a time."""

    def __init__(self, submission: Path, hide: Sequence[Path] = (), limits: Limits | None = None,
                 level: str = "auto"):
        self.submission = Path(submission)
        self.limits = limits or Limits()
        self._worker = Worker(self.submission, hide, self.limits, level)
        self._running = False
        self._module_problems: dict[str, str | None] = {}
        self._broken: dict[str, str] = {}
        self.isolation = ""

    def __enter__(self) -> "StudentRunner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._worker.close()
        self._running = False

    def _ensure_worker(self) -> None:
        if not self._running:
            self._worker.close()
            self._worker.start()
            self.isolation = self._worker.isolation
            self._running = True

    def output(self) -> str:
        return self._worker.output()

    def module_problem(self, module: str) -> str | None:
        """Why ``module`` cannot be graded (missing, fails to import), or None."""
        if module not in self._module_problems:
            self._module_problems[module] = self._import(module)
        return self._module_problems[module]

    def _import(self, module: str) -> str | None:
        path = self.submission / f"{module}.py"
        if path.is_symlink():
            return f"{module}.py is a symbolic link; submit the file itself"
        if not path.is_file():
            return f"{module}.py is missing from the submission"
        try:
            self._ensure_worker()
            reply = self._worker.request({"op": "import", "module": module}, self.limits.import_seconds,
                                         f"the import of {module}.py")
        except WorkerFailure as failure:
            self._running = False
            return f"{module}.py could not be imported: {failure.message}"
        if not reply.get("ok"):
            return f"{module}.py could not be imported: {failure_text(reply)}"
        return None

    def ask(self, module: str, function: str, probe: Probe) -> dict:
        """The worker's reply to one probe, or a failed reply that says what went wrong."""
        problem = self.module_problem(module)
        if problem:
            return {"ok": False, "error": "ModuleProblem", "message": problem}
        if function in self._broken:
            return {"ok": False, "error": "WorkerFailure", "message": self._broken[function]}
        try:
            self._ensure_worker()
            return self._worker.request(probe.request, self.limits.call_seconds, function)
        except WorkerFailure as failure:
            self._running = False
            self._broken[function] = failure.message
            return {"ok": False, "error": "WorkerFailure", "message": failure.message}

    def run(self, module: str, function: str, probes: list[Probe]) -> CheckRun:
        """Ask every probe in turn and stop at the first one that fails."""
        return run_probes(lambda probe: self.ask(module, function, probe), probes)


def run_probes(ask: Callable[[Probe], dict], probes: list[Probe]) -> CheckRun:
    """Ask each probe with ``ask``, judge its reply, and stop at the first failure."""
    replies: list[dict] = []
    for probe in probes:
        reply = ask(probe)
        replies.append(reply)
        verdict = judge(probe, reply, replies)
        if not verdict.ok:
            return CheckRun(False, verdict.message, probe.label, verdict, probes, replies)
    return CheckRun(True, "", "", None, probes, replies)
