"""The check registry: each check belongs to one contract entry and carries its share of
that entry's points, whether it is a main check and whether students see it.

Scoring rules (applied by ``scoring.py``):
- a function's points (``weights.py``) are split among its checks by ``share``;
- a check's points count only when every *main* check of its function passes, so edge cases
  and errors earn nothing for a function that is otherwise wrong or hard-coded;
- main checks use inputs randomized per submission, so no lookup table can pass them.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..runtime.probes import Probe
from .reference import Reference
from .weights import WEIGHTS, points_of

Builder = Callable[[np.random.Generator, Reference], list[Probe]]


@dataclass(frozen=True)
class Check:
    name: str
    function: str
    share: float
    main: bool
    visibility: str
    description: str
    build: Builder

    @property
    def points(self) -> float:
        return split_points(self.function)[self.name]


_CHECKS: list[Check] = []


def check(function: str, share: float = 1.0, main: bool = False, visible: bool = False):
    """Register the decorated probe builder as a check of ``function``."""
    if function not in WEIGHTS:
        raise KeyError(f"{function} is not a graded contract entry")

    def register(build: Builder) -> Builder:
        description = (build.__doc__ or build.__name__).strip().splitlines()[0]
        _CHECKS.append(Check(build.__name__, function, share, main,
                             "visible" if visible else "hidden", description, build))
        return build

    return register


def all_checks() -> list[Check]:
    """Every check, in contract order."""
    from . import checks_clipping, checks_initialization, checks_normalization, checks_schedules  # noqa: F401

    order = list(WEIGHTS)
    return sorted(_CHECKS, key=lambda c: order.index(c.function))


def checks_for(function: str) -> list[Check]:
    return [c for c in all_checks() if c.function == function]


@functools.lru_cache(maxsize=None)
def split_points(function: str) -> dict[str, float]:
    """``{check name: points}``: the function's weight split by share, in hundredths, with
    the rounding remainder on its first main check so that the parts add up exactly."""
    checks = checks_for(function)
    total_share = sum(c.share for c in checks)
    cents = {c.name: round(100 * points_of(function) * c.share / total_share) for c in checks}
    first_main = next(c.name for c in checks if c.main)
    cents[first_main] += round(100 * points_of(function)) - sum(cents.values())
    return {name: value / 100 for name, value in cents.items()}


def seed_for(submission: str, check_name: str, visibility: str = "hidden") -> int:
    """The input seed of one check for one submission.

    Hidden checks draw from the submission's name, so two students get different numbers and
    a regrade gets the same ones; visible checks use one fixed seed for everybody.
    """
    owner = "visible" if visibility == "visible" else submission
    digest = hashlib.sha256(f"stability-lab:{owner}:{check_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def build_probes(check_: Check, submission: str, reference: Reference) -> list[Probe]:
    rng = np.random.default_rng(seed_for(submission, check_.name, check_.visibility))
    return check_.build(rng, reference)
