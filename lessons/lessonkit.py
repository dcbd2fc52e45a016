"""What the lesson notebooks share: loading your functions, and saying honestly how they do.

The lessons run *your* implementations from ``exercises/``. Each lesson starts with
``status(...)``: one line per function it uses, computed from the visible checks of
``exercises/visible_checks.json`` (the same ones ``make check`` runs):

- ``passes``: the function passes its visible checks; the figures it draws can be trusted;
- ``FAILS``: it runs but fails a visible check; every figure drawn from it carries a red
  warning naming it, and printed numbers are preceded by one;
- ``not written yet``: its demos are skipped with one line; later cells still run.

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
from types import ModuleType, SimpleNamespace

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


def check_function(module: ModuleType, function: str, checks: list) -> tuple[str, str]:
    """Run ``function``'s visible checks on ``module`` in this process: its state and, when it
    fails, the first failure in one line."""
    from autograder.runtime.notebook import run_in_kernel
    from autograder.runtime.runner import run_probes

    failures = []
    for check in (c for c in checks if c.function == function):
        run = run_probes(lambda probe: run_in_kernel(SimpleNamespace(**vars(module)), probe.request), check.probes)
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


def status(module_name: str, functions: list[str]) -> dict[str, str]:
    """Print one line per function (passes / FAILS / not written yet) and remember it."""
    import numpy as np

    checks = _visible_checks()
    raw = _load(module_name)
    where = f"{implementation_folder().name}/{module_name}.py"
    with np.errstate(all="ignore"):
        for function in functions:
            try:
                state, why = check_function(raw, function, checks)
            except ImportError:  # a platform without the runtime's needs (resource, SIGALRM)
                state, why = _guess_state(raw, function), ""
            STATE[function] = state
            line = {"pass": "passes its visible checks",
                    "fail": f"FAILS a visible check ({why if len(why) < 200 else why[:200] + '...'})",
                    "missing": "not written yet: its demos below are skipped",
                    "unchecked": "written; not checked here (this platform cannot run the checks)"}[state]
            print(f"{ {'pass': 'ok ', 'unchecked': '?? '}.get(state, '!! ')} {function:20s} {line}")
    print(f"(your code: {where}; run `make check` for the full report)")
    return {f: STATE[f] for f in functions}


def failing(*functions: str) -> list[str]:
    """The functions among ``functions`` that fail their visible checks."""
    return [f for f in functions if STATE.get(f) == "fail"]


def ready(*functions: str, after: tuple[str, ...] = ()) -> bool:
    """Whether a demo that calls ``functions`` (and uses the variables ``after`` of earlier
    cells) can run. Prints one line when it cannot (a function is not written yet, or an
    earlier cell stopped), and a warning when a function fails its visible checks."""
    missing = [f for f in functions if STATE.get(f) == "missing"]
    if missing:
        print(f"Skipped: this demo needs {', '.join(missing)}, not written yet. "
              "The rendered copy in lessons/rendered/ shows its output.")
        return False
    earlier = sys._getframe(1).f_globals
    absent = [name for name in after if name not in earlier]
    if absent:
        print(f"Skipped: this demo uses {', '.join(absent)} from an earlier cell, which stopped with an error.")
        return False
    bad = failing(*functions)
    if bad:
        print(f"WARNING: the output below comes from {', '.join(bad)}, which fails the visible checks: "
              "do not trust it.")
    return True


def stamp(fig, *functions: str) -> None:
    """Write a red warning across ``fig`` when any of ``functions`` fails its visible checks."""
    bad = failing(*functions)
    if bad:
        fig.text(0.5, 0.5, f"drawn with {', '.join(bad)}\nwhich FAILS the visible checks",
                 ha="center", va="center", fontsize=16, color="red", alpha=0.75, rotation=12,
                 bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "red"})
        fig.suptitle(f"WARNING: {', '.join(bad)} fails the visible checks", color="red")


def figure(*functions: str, **subplots):
    """``plt.subplots(**subplots)``, stamped with a warning if a function it draws from fails."""
    fig, axes = plt.subplots(**subplots)
    stamp(fig, *functions)
    return fig, axes
