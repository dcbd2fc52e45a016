"""The preview that a notebook's test cell runs in the student's own kernel.

``check_in_notebook("batch_norm", globals())`` runs that function's visible checks on the
functions defined in the notebook, prints what passed and what did not (with the likely
mistake), and returns a score for the cell. It is a preview: in ``nbgrader autograde`` the
grade of every test cell is replaced by the isolated grader's, computed from the notebook's
code in a separate worker, so nothing done in the kernel can change it.
"""
from __future__ import annotations

import signal
from pathlib import Path

from .rule import GATED, PENDING
from .runner import run_probes
from .selfcheck import VISIBLE_FILE, estimate, failed_probes, likely_mistakes, load_visible_checks, mistake_block
from .worker import _call, _error, _map, _session

SECONDS_PER_CALL = 5


class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout


def run_in_kernel(namespace: object, request: dict) -> dict:
    """Answer one probe's request with the notebook's functions, with a time limit."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_CALL)
    try:
        if request["op"] == "call":
            return _call(namespace, request)
        if request["op"] == "map":
            return _map(namespace, request, "")
        return _session(namespace, request, "")
    except _Timeout:
        return {"ok": False, "error": "Timeout", "message": f"did not return within {SECONDS_PER_CALL} s"}
    except Exception as exc:  # noqa: BLE001 - any failure of the student's code is feedback
        return _error(exc, "")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Globals:
    """A notebook's globals seen as a module: a helper that the grader answers for (such as
    ``cosine_decay`` for ``warmup_cosine``) is replaced where the student's functions look it
    up, as in the self-check's worker, and put back after the call."""

    def __init__(self, namespace: dict):
        object.__setattr__(self, "_namespace", namespace)

    def __getattr__(self, name: str):
        try:
            return self._namespace[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value) -> None:
        self._namespace[name] = value


def check_in_notebook(function: str, namespace: dict, points: float) -> float:
    """Run the visible checks of ``function`` on ``namespace``; print them; return the points
    the grade's rule (``rule``) gives on these checks for certain: a passed check is pending
    until the hidden main checks pass, so the preview never shows credit the grade takes away."""
    checks = [c for c in load_visible_checks(Path(__file__).with_name(VISIBLE_FILE)) if c.function == function]
    module = _Globals(namespace)
    ask = lambda probe: run_in_kernel(module, probe.request)  # noqa: E731
    runs = [run_probes(ask, check.probes) for check in checks]
    scored, rows = estimate(checks, runs)
    failures = []
    for check, run, result in zip(checks, runs, scored):
        if result.status == PENDING:
            print(f"PASS  {check.description} (pending: {GATED.format(function=function)})")
        elif run.passed:
            print(f"PASS  {check.description}")
        else:
            print(f"FAIL  {check.description}\n      {run.label}\n      {run.message}")
            failures += failed_probes(ask, run)
    block = mistake_block(function, likely_mistakes(failures), "      ")
    if block:
        print(block)
    row = rows[0] if rows else None
    earned, pending = (row.earned, row.pending) if row else (0.0, 0.0)
    print(f"{sum(r.passed for r in runs)} of {len(checks)} visible checks pass: {earned:g} points earned, {pending:g} "
          f"pending, of {points:g}. This is a preview: the grade comes from the hidden checks, run on your code "
          "by the isolated grader, with the same rule.")
    return round(min(earned, points), 2)
