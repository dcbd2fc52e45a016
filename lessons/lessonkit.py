"""What the lesson notebooks share: loading your functions, and saying honestly how they do.

The lessons run *your* implementations from ``exercises/``. Each lesson starts with
``status(...)``: one line per function it uses, computed from the visible checks of
``exercises/visible_checks.json`` (the same ones ``make check`` runs):

- ``passes``: the function passes its visible checks; the figures it draws can be trusted;
- ``FAILS``: it runs but fails a visible check; every figure drawn from it carries a red
  warning naming it, and printed numbers are preceded by one;
- ``not written yet``: its demos are skipped with one line; later cells still run.

A function that calls another exercise (``warmup_cosine`` calls ``linear_warmup`` and
``cosine_decay``) is judged as ``make check`` judges it: with the correct answers of its
helpers, so one mistake is not charged twice. Its demos call your helpers, though: they are
skipped while a helper is not written, and warn when a helper fails.

    >>> norm = use("normalization")                       # doctest: +SKIP
    >>> status(norm, ["batch_norm", "layer_norm"])         # doctest: +SKIP
    >>> if ready("batch_norm"):                             # doctest: +SKIP
    ...     fig, ax = figure("batch_norm")                  # a figure with a warning if needed
"""
from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

plt.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "figure.max_open_warning": 0})
try:  # the lessons' matrices are small: one BLAS thread is faster, and much faster on a busy machine
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
    pass

#: Each function's state, filled by ``status``: "pass", "fail", "missing" or "unchecked".
STATE: dict[str, str] = {}
#: The other exercises each function calls (from the visible checks' helper answers), filled by ``status``.
HELPERS: dict[str, list[str]] = {}


class NotImplementedYet(RuntimeError):
    """Raised when a lesson needs an exercise that is not written yet."""


def implementation_folder() -> Path:
    """``exercises/``, or the folder named by ``STABILITY_IMPL`` (used to render the lessons
    with the reference solutions; students do not need it)."""
    choice = os.environ.get("STABILITY_IMPL", "exercises")
    folder = ROOT / choice
    if not folder.is_dir():
        raise FileNotFoundError(f"STABILITY_IMPL={choice!r}: there is no folder {folder}")
    return folder


def _load(module: str) -> ModuleType:
    folder = implementation_folder()
    spec = importlib.util.spec_from_file_location(f"lesson_{module}", folder / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def _guard(function, module: str):
    @functools.wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except NotImplementedError:
            raise NotImplementedYet(
                f"{function.__qualname__} in {implementation_folder().name}/{module}.py is not implemented "
                "yet. Write it, run `make check`, and rerun this cell. The rendered copy of this lesson "
                "(lessons/rendered/) shows what this cell draws.") from None
    return guarded


def use(module: str) -> ModuleType:
    """Import ``exercises/<module>.py``; an unwritten function raises ``NotImplementedYet``
    with a message that says what to do, rather than a bare ``NotImplementedError``."""
    loaded = _load(module)
    for name, value in list(vars(loaded).items()):
        if callable(value) and not name.startswith("_") and getattr(value, "__module__", None) == loaded.__name__:
            if isinstance(value, type):
                value.__init__ = _guard(value.__init__, module)
                value.__call__ = _guard(value.__call__, module)
            else:
                setattr(loaded, name, _guard(value, module))
    return loaded


def _visible_checks() -> list:
    from autograder.runtime.selfcheck import VISIBLE_FILE, load_visible_checks
    return load_visible_checks(ROOT / "exercises" / VISIBLE_FILE)


def helpers_of(checks: list) -> dict[str, list[str]]:
    """The exercises each function calls, as the visible checks record them: a check of
    ``warmup_cosine`` carries the correct answers ("oracles") of ``linear_warmup`` and
    ``cosine_decay`` for the arguments it will pass them."""
    found: dict[str, list[str]] = {}
    for check in checks:
        for probe in check.probes:
            for helper in probe.request.get("oracles", {}):
                if helper not in found.setdefault(check.function, []):
                    found[check.function].append(helper)
    return found


def check_function(module: ModuleType, function: str, checks: list) -> tuple[str, str]:
    """Run ``function``'s visible checks on ``module`` in this process, as ``make check`` runs
    them (the helpers it calls answer correctly for the checked arguments): its state and,
    when it fails, the first failure in one line."""
    from autograder.runtime.notebook import run_in_kernel
    from autograder.runtime.runner import run_probes

    failures = []
    for check in (c for c in checks if c.function == function):
        # the module itself, not a copy of its names: the helper answers must replace the
        # names the function looks up in its own module (run_in_kernel puts them back)
        run = run_probes(lambda probe: run_in_kernel(module, probe.request), check.probes)
        if run.passed:
            continue
        reply = run.replies[-1] if run.replies else {}
        if "NotImplementedError" in reply.get("bases", []):
            return "missing", ""
        failures.append(f"{run.label}: {run.message}")
    return ("fail", failures[0]) if failures else ("pass", "")


def _guess_state(module: ModuleType, function: str) -> str:
    """Without the visible checks: "missing" while the stub's ``NotImplementedError`` is there."""
    import inspect

    target = getattr(module, function)
    source = inspect.getsource(target.__init__ if isinstance(target, type) else target)
    return "missing" if "raise NotImplementedError" in source else "unchecked"


def _helper_note(module: ModuleType, function: str, checks: list) -> str:
    """For a passing function that calls other exercises: which of those are not right yet."""
    states = {h: STATE.get(h) or check_function(module, h, checks)[0] for h in HELPERS[function]}
    missing = [h for h, state in states.items() if state == "missing"]
    bad = [h for h, state in states.items() if state == "fail"]
    if not (missing or bad):
        return ""
    parts = [f"{', '.join(missing)} not written yet"] if missing else []
    parts += [f"{', '.join(bad)} {_fail(bad)}"] if bad else []
    return (f" (checked with correct answers from {', '.join(HELPERS[function])}, as `make check` does; "
            f"its demos call yours: {'; '.join(parts)})")


def status(module_name: str, functions: list[str]) -> dict[str, str]:
    """Print one line per function (passes / FAILS / not written yet) and remember it."""
    import numpy as np

    checks = _visible_checks()
    HELPERS.update(helpers_of(checks))
    raw = _load(module_name)
    where = f"{implementation_folder().name}/{module_name}.py"
    with np.errstate(all="ignore"):
        for function in functions:
            try:
                state, why = check_function(raw, function, checks)
            except ImportError:  # a platform without the runtime's needs (resource, SIGALRM)
                state, why = _guess_state(raw, function), ""
            STATE[function] = state
            if state == "pass" and HELPERS.get(function):
                why = _helper_note(raw, function, checks)
            line = {
                    "pass": "passes its visible checks" + why,
                    "fail": f"FAILS a visible check ({why if len(why) < 200 else why[:200] + '...'})",
                    "missing": "not written yet: its demos below are skipped",
                    "unchecked": "written; not checked here (this platform cannot run the checks)"}[state]
            print(f"{ {'pass': 'ok ', 'unchecked': '?? '}.get(state, '!! ')} {function:20s} {line}")
    print(f"(your code: {where}; run `make check` for the full report)")
    return {f: STATE[f] for f in functions}


def _with_helpers(functions) -> list[str]:
    """``functions`` and the exercises they call, each once, in order."""
    every: list[str] = []
    for function in functions:
        for name in (function, *HELPERS.get(function, [])):
            if name not in every:
                every.append(name)
    return every


def failing(*functions: str) -> list[str]:
    """The functions among ``functions``, and the exercises they call, that fail their visible checks."""
    return [f for f in _with_helpers(functions) if STATE.get(f) == "fail"]


def ready(*functions: str, after: tuple[str, ...] = ()) -> bool:
    """Whether a demo that calls ``functions`` (and uses the variables ``after`` of earlier
    cells) can run. Prints one line when it cannot (a function is not written yet, or an
    earlier cell stopped), and a warning when a function fails its visible checks."""
    missing = [f for f in _with_helpers(functions) if STATE.get(f) == "missing"]
    if missing:
        callers = [f for f in functions if f not in missing and set(HELPERS.get(f, [])) & set(missing)]
        via = f" (called by {', '.join(callers)})" if callers else ""
        print(f"Skipped: this demo needs {', '.join(missing)}{via}, not written yet. "
              "The rendered copy in lessons/rendered/ shows its output.")
        return False
    earlier = sys._getframe(1).f_globals
    absent = [name for name in after if name not in earlier]
    if absent:
        print(f"Skipped: this demo uses {', '.join(absent)} from an earlier cell, which stopped with an error.")
        return False
    bad = failing(*functions)
    if bad:
        print(f"WARNING: the output below comes from {', '.join(bad)}, which {_fail(bad)} the visible checks: "
              "do not trust it.")
    return True


def _fail(names: list[str]) -> str:
    return "fails" if len(names) == 1 else "fail"


def drawable(*functions: str) -> list[str]:
    """The functions among ``functions`` that a figure drawing one curve each can draw; prints
    at most one line: which curves are left out (not written yet), and which come from a
    function that fails its visible checks."""
    shown = [f for f in functions if not any(STATE.get(n) == "missing" for n in _with_helpers([f]))]
    left_out = [f for f in functions if f not in shown]
    missing = [n for n in _with_helpers(left_out) if STATE.get(n) == "missing"]
    parts = [f"Not drawn: {', '.join(left_out)} (needs {', '.join(missing)}, not written yet)."] if left_out else []
    bad = failing(*shown)
    if bad:
        parts.append(f"WARNING: {', '.join(bad)} {_fail(bad)} the visible checks: do not trust {'its' if len(bad) == 1 else 'their'} curves.")
    if parts:
        print(" ".join(parts))
    return shown


def stamp(target, *functions: str) -> None:
    """Write a red warning across ``target`` when any of ``functions`` fails its visible checks:
    a whole figure, or one panel (an Axes) of a figure whose panels use different functions."""
    bad = failing(*functions)
    if not bad:
        return
    text = f"drawn with {', '.join(bad)}\nwhich {_fail(bad).upper()} the visible checks"
    box = {"facecolor": "white", "alpha": 0.6, "edgecolor": "red"}
    if isinstance(target, plt.Axes):
        target.text(0.5, 0.5, text, transform=target.transAxes, ha="center", va="center", fontsize=12,
                    color="red", alpha=0.75, rotation=12, bbox=box, zorder=10)
        return
    target.text(0.5, 0.5, text, ha="center", va="center", fontsize=16, color="red", alpha=0.75, rotation=12,
                bbox=box)
    target.suptitle(f"WARNING: {', '.join(bad)} {_fail(bad)} the visible checks", color="red")


def figure(*functions: str, **subplots):
    """``plt.subplots(**subplots)``, stamped with a warning if a function it draws from fails."""
    fig, axes = plt.subplots(**subplots)
    stamp(fig, *functions)
    return fig, axes
