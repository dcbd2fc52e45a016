"""What the lesson notebooks share: loading the student's own functions, and reporting claims.

The lessons run *your* implementations from ``exercises/``. Set the environment variable
``STABILITY_IMPL=solutions`` (instructors, CI) to run them on the reference solutions instead.

    >>> clipping = use("clipping")          # doctest: +SKIP
    >>> clipping.clip_by_norm(grads, 1.0)   # your function, or a clear message if unwritten
"""
from __future__ import annotations

import functools
import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


class NotImplementedYet(RuntimeError):
    """Raised when a lesson needs an exercise that is not written yet."""


def implementation_folder() -> Path:
    """``exercises/`` by default; ``solutions/`` when ``STABILITY_IMPL=solutions``."""
    choice = os.environ.get("STABILITY_IMPL", "exercises")
    folder = ROOT / choice
    if not folder.is_dir():
        raise FileNotFoundError(f"STABILITY_IMPL={choice!r}: there is no folder {folder}")
    return folder


def _guard(function, module: str, folder: Path):
    @functools.wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except NotImplementedError as error:
            raise NotImplementedYet(
                f"This lesson calls {function.__qualname__} from {folder.name}/{module}.py, which is not "
                f"implemented yet ({error}). Write it and rerun this cell, or run the lesson on the "
                "reference solutions with STABILITY_IMPL=solutions.") from None
    return guarded


def use(module: str) -> ModuleType:
    """Import ``<implementation folder>/<module>.py``; its functions explain, rather than
    crash, when they are not implemented yet."""
    folder = implementation_folder()
    spec = importlib.util.spec_from_file_location(f"lesson_{module}", folder / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    for name, value in list(vars(loaded).items()):
        if callable(value) and not name.startswith("_") and getattr(value, "__module__", None) == loaded.__name__:
            if isinstance(value, type):
                value.__init__ = _guard(value.__init__, module, folder)
                value.__call__ = _guard(value.__call__, module, folder)
            else:
                setattr(loaded, name, _guard(value, module, folder))
    print(f"using {folder.name}/{module}.py")
    return loaded


def report_claims(claims: dict) -> None:
    """Print the lesson's key numbers in one line that tests read back."""
    print("LESSON-CLAIMS " + json.dumps(claims, sort_keys=True))
