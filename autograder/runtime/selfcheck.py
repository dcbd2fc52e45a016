"""The student's self-check: run the visible checks on a folder of exercise modules.

The visible checks are data (``exercises/visible_checks.json``), generated from the same
suite the grader uses, with the reference's answers for fixed inputs. No reference code and
no hidden check is needed to run them, so this module ships with the student release.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import jsoncodec
from .probes import Probe
from .runner import CheckRun, StudentRunner

VISIBLE_FILE = "visible_checks.json"


@dataclass
class VisibleCheck:
    name: str
    function: str
    module: str
    points: float
    description: str
    probes: list[Probe]
    main: bool = False


def load_visible_checks(path: Path) -> list[VisibleCheck]:
    """Read the exported visible checks."""
    data = jsoncodec.loads(Path(path).read_text())
    return [VisibleCheck(c["name"], c["function"], c["module"], c["points"], c["description"],
                         [Probe(**p) for p in c["probes"]], bool(c.get("main", False))) for c in data["checks"]]


def run_visible(folder: Path, checks: list[VisibleCheck], runner: StudentRunner | None = None) -> list[CheckRun]:
    """Run every visible check on the modules in ``folder`` (in an isolated worker)."""
    own = runner is None
    runner = runner or StudentRunner(Path(folder))
    try:
        return [runner.run(c.module, c.function, c.probes) for c in checks]
    finally:
        if own:
            runner.close()


# --- the rule and the feedback, shared by `make check`, `pytest exercises` and the notebook --

#: How much of a call's printed output the self-check shows (the worker caps it at 2,000).
SHOWN_OUTPUT = 800


def estimate(checks: list[VisibleCheck], runs: list[CheckRun]):
    """``(per-check Scored, per-function FunctionEstimate)``: the grade's rule applied to the
    visible checks. The main checks are hidden, so a passed visible check is pending until
    the grade knows them: nothing is shown as credit that the grade could withhold."""
    from .rule import Item, apply_rule, by_function

    items = [Item(c.function, c.main, c.points, r.passed) for c, r in zip(checks, runs)]
    scored = apply_rule(items, complete=False)
    return scored, by_function(items, scored)


def estimate_dict(checks: list[VisibleCheck], runs: list[CheckRun]) -> dict:
    """What ``check --json FILE`` writes: the per-function points the self-check shows."""
    from .rule import RULE_TEXT

    _, rows = estimate(checks, runs)
    return {"estimate": "from the visible checks only; the grade adds the hidden checks",
            "rule": RULE_TEXT,
            "functions": {row.function: row.as_dict() for row in rows},
            "total": {key: round(sum(getattr(r, key) for r in rows), 2) for key in ("earned", "pending", "available")}}


def likely_mistakes(failures: list[tuple[Probe, dict]]) -> list[dict]:
    """The shipped mistakes that explain the most of one function's failed probes."""
    from .mistakes import most_probes, shipped_mistakes

    counts: dict[str, int] = {}
    found: dict[str, dict] = {}
    for probe, reply in failures:
        for mistake in shipped_mistakes(probe, reply):
            counts[mistake["name"]] = counts.get(mistake["name"], 0) + 1
            found[mistake["name"]] = mistake
    return [found[name] for name in most_probes(counts)]


def mistake_block(function: str, mistakes: list, indent: str = "") -> str:
    """One "Likely mistake" block for a function (mistakes as dicts or catalogue entries)."""
    lines = []
    for mistake in mistakes:
        get = mistake.get if isinstance(mistake, dict) else lambda key: getattr(mistake, key)
        lines.append(f"{indent}Likely mistake in {function}: {get('explanation')}\n{indent}  Hint: {get('hint')}")
    return "\n".join(lines)


def printed_output(reply: dict | None, limit: int = SHOWN_OUTPUT, indent: str = "") -> str:
    """What the student's code printed during the failing call (stdout and stderr), capped."""
    from .probes import reply_output

    text = reply_output(reply)
    if not text.strip():
        return ""
    text = text.rstrip("\n")
    if len(text) > limit:
        text = text[:limit] + f"\n... [{len(text) - limit} more characters]"
    body = "\n".join(f"{indent}  | {line}" for line in text.splitlines())
    return f"{indent}Your code printed during this call:\n{body}"


def failed_probes(ask, run: CheckRun) -> list[tuple[Probe, dict]]:
    """Every probe of a failed check that the student gets wrong, with its reply: a check
    stops at its first failure, so the rest are asked here (with ``ask(probe)``) to name the
    mistake that explains the most of them."""
    from .probes import judge_safely

    if run.failure is None:
        return []
    if run.failure[1].get("error") in ("NotImplementedError", "ModuleProblem", "WorkerFailure", "Timeout"):
        return [run.failure]
    replies = list(run.replies) + [ask(probe) for probe in run.probes[len(run.replies):]]
    return [(probe, reply) for index, (probe, reply) in enumerate(zip(run.probes, replies))
            if not judge_safely(probe, reply, replies[:index + 1]).ok]


def stub_reply(reply: dict) -> bool:
    """The reply of an unwritten function: NotImplementedError (for a curve, at every step)."""
    if reply.get("error") == "NotImplementedError":
        return True
    items = reply.get("results")
    if reply.get("ok") and isinstance(items, list) and items:
        return all(isinstance(i, dict) and i.get("error") == "NotImplementedError" for i in items)
    return False
