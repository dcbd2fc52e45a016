"""Name the mistake behind a failed check, from the student's answers alone.

For the probe that failed, each catalogued mistake of the function answers the same question
(its mutant runs here, in the trusted process): ``mutant_answer``. The mistake is named when
its answer agrees with the student's (``runtime.mistakes.answer_matches``): the same values
within ``tolerances.VALUE``, the same error, the same statistics for random draws. Probes
that test a rule rather than a value (determinism, inputs unmodified, output types) name
the mistakes of that kind.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..runtime.mistakes import (answer_is_right, answer_matches, breaks_a_pass, draw_signature, most_probes,
                                rule_kind)
from ..runtime.probes import Probe, judge_safely
from ..runtime.runner import CheckRun
from ..runtime.protocol import copy_args, resolve_args
from ..suite.reference import play_session, to_plain
from .catalogue import Mistake, by_name, for_function
from .mutants import load_mutant

NOT_A_MISTAKE = ("WorkerFailure", "ModuleProblem", "NotImplementedError")


def _outcome(call) -> list:
    try:
        return ["value", to_plain(call())]
    except Exception as error:  # noqa: BLE001 - a mutant may fail in any way
        return ["raises", [type(error).__name__, str(error)]]


def _call(module, function: str, args: Any, kwargs: Any):
    return lambda: getattr(module, function)(*resolve_args(copy_args(args)), **resolve_args(copy_args(kwargs)))


def mutant_answer(mistake: Mistake, probe: Probe) -> Any:
    """The answer the reference with ``mistake`` gives to ``probe`` (None for rule kinds)."""
    if mistake.detect != "output" or rule_kind(probe):
        return None
    mutant = load_mutant(mistake.name)
    request = probe.request
    with np.errstate(all="ignore"):
        if probe.kind in ("value", "raises"):
            outcome = _outcome(_call(mutant, request["function"], request.get("args", []), request.get("kwargs", {})))
            if probe.kind == "raises" and outcome[0] == "value":
                return ["value", None]  # that it returned is the answer; what it returned is not
            return outcome
        if probe.kind == "curve":
            return [_outcome(_call(mutant, request["function"], args, kwargs)) for args, kwargs in request["calls"]]
        if probe.kind in ("samples", "orthogonal"):
            # A fixed seed where the probe gives none: the answer is a statistic either way, and
            # the exported visible checks must be the same every time they are generated.
            # Orthogonal probes: the least orthogonal of a few draws, so that a float32 mutant
            # is not judged by one lucky draw that happens to pass the 1e-8 tolerance.
            spectrum = probe.kind == "orthogonal"
            answers = []
            given = request.get("kwargs", {})
            for seed in range(5 if spectrum else 1):
                kwargs = given if "rng" in given else {**given, "rng": seed}
                outcome = _outcome(_call(mutant, request["function"], request.get("args", []), kwargs))
                signature = draw_signature(outcome[1], spectrum) if outcome[0] == "value" else outcome[1]
                answers.append([outcome[0], signature])
            if spectrum and all(a[0] == "value" and a[1] for a in answers):
                return max(answers, key=lambda a: (not a[1]["orthogonal"], np.nan_to_num(a[1]["error"])))
            return answers[0]
        if probe.kind == "session":
            return play_session(mutant, request)
    return None


def explains(mistake: Mistake, probe: Probe, reply: dict, answer: Any = None) -> bool:
    """Whether ``mistake`` explains the student's ``reply`` to the failed ``probe``."""
    rule = rule_kind(probe)
    if rule or mistake.detect != "output":
        return rule == mistake.detect
    answer = mutant_answer(mistake, probe) if answer is None else answer
    return answer is not None and not answer_is_right(probe, answer) and answer_matches(probe, answer, reply)


def detect(function: str, run: CheckRun) -> list[Mistake]:
    """The catalogued mistakes of ``function`` that explain the failed ``run``."""
    if run.failure is None or run.failure[1].get("error") in NOT_A_MISTAKE:
        return []
    probe, reply = run.failure
    found = []
    for mistake in for_function(function):
        try:
            with np.errstate(all="ignore"):
                if explains(mistake, probe, reply):
                    found.append(mistake)
        except Exception:  # noqa: BLE001 - a detector must never break grading
            continue
    return found


def failed_probes(run: CheckRun, replies: list[dict] | None = None) -> list[tuple[Probe, dict]]:
    """The probes of a failed check that the student got wrong, with their replies: the one
    that failed, and (when ``replies`` answers every probe, as for main checks) the others."""
    if run.failure is None:
        return []
    if not replies or len(replies) <= len(run.replies):
        return [run.failure]
    return [(probe, reply) for index, (probe, reply) in enumerate(zip(run.probes, replies))
            if reply.get("error") not in NOT_A_MISTAKE and not judge_safely(probe, reply, replies[:index + 1]).ok]


def passed_probes(run: CheckRun, replies: list[dict] | None = None) -> list[tuple[Probe, dict]]:
    """The probes of a check that the student gets right, with their replies (every probe
    answered: ``replies`` when given, else the replies the run collected)."""
    answered = replies if replies and len(replies) > len(run.replies) else list(run.replies)
    return [(probe, reply) for index, (probe, reply) in enumerate(zip(run.probes, answered))
            if reply.get("error") not in NOT_A_MISTAKE and judge_safely(probe, reply, answered[:index + 1]).ok]


def name_mistakes(function: str, evidence: list[tuple[Probe, dict]],
                  passed: list[tuple[Probe, dict]] = ()) -> list[Mistake]:
    """The catalogued mistakes of ``function`` that explain the most of the failed probes in
    ``evidence`` (a mistake is named on a probe only where its answer differs from the
    reference's and matches the student's). A mistake whose answer would fail a probe the
    student passes (one in ``passed``) is not named: its hint would break what is right."""
    evidence = [(p, r) for p, r in evidence if r.get("error") not in NOT_A_MISTAKE]
    counts: dict[str, int] = {}
    for mistake in for_function(function):
        count = 0
        for probe, reply in evidence:
            try:
                with np.errstate(all="ignore"):
                    count += explains(mistake, probe, reply)
            except Exception:  # noqa: BLE001 - a detector must never break grading
                continue
        if count and _breaks_a_pass(mistake, passed):
            count = 0
        counts[mistake.name] = count
    return [by_name(name) for name in most_probes(counts)]


def _breaks_a_pass(mistake: Mistake, passed: list[tuple[Probe, dict]]) -> bool:
    for probe, _ in passed:
        try:
            with np.errstate(all="ignore"):
                if breaks_a_pass(mutant_answer(mistake, probe), probe):
                    return True
        except Exception:  # noqa: BLE001 - a detector must never break grading
            continue
    return False
