"""Build probes whose expected answers come from the reference solutions (trusted side).

``Reference`` loads ``solutions/*.py`` in the grader's process and turns a planned call into a
``Probe``: the worker request (with dependency answers attached) plus the reference's result.
"""
from __future__ import annotations

import importlib.util
import inspect
from types import ModuleType
from typing import Any, Callable

import numpy as np

from .. import paths
from ..runtime.probes import Bare, Probe, call_label, message_names
from ..runtime.protocol import canonical_key, copy_args, resolve_args
from .weights import module_of

#: Which other exercises a function may call, and with which arguments. The worker answers
#: those calls with the reference's values, so a mistake in ``compute_fans`` costs points in
#: ``compute_fans`` only, not again in every initializer.
DEPENDENCIES: dict[str, list[tuple[str, Callable[[dict], tuple]]]] = {
    "xavier_uniform": [("compute_fans", lambda a: (a["shape"],))],
    "xavier_normal": [("compute_fans", lambda a: (a["shape"],))],
    "he_uniform": [("compute_fans", lambda a: (a["shape"],)),
                   ("calculate_gain", lambda a: (a["nonlinearity"], a["param"]))],
    "he_normal": [("compute_fans", lambda a: (a["shape"],)),
                  ("calculate_gain", lambda a: (a["nonlinearity"], a["param"]))],
    "clip_by_norm": [("global_norm", lambda a: (a["grads"], a["norm_type"]))],
    "warmup_cosine": [
        ("linear_warmup", lambda a: (a["step"], a["warmup_steps"], a["base_lr"])),
        ("cosine_decay", lambda a: (a["step"] - a["warmup_steps"], a["total_steps"] - a["warmup_steps"],
                                    a["base_lr"], a["min_lr"])),
    ],
}


def load_reference(module: str, folder=paths.SOLUTIONS) -> ModuleType:
    """Import ``folder/<module>.py`` under a private name."""
    spec = importlib.util.spec_from_file_location(f"_reference_{module}", folder / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def to_plain(value: Any) -> Any:
    """A reference result as the plain values that judging compares with."""
    if isinstance(value, np.ndarray):
        return np.array(value, dtype=np.float64)
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, tuple):
        return tuple(to_plain(v) for v in value)
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    raise TypeError(f"unexpected reference result {type(value).__name__}")


class Reference:
    """The reference solutions, and probe builders that use them."""

    def __init__(self, folder=paths.SOLUTIONS):
        self._folder = folder
        self._modules: dict[str, ModuleType] = {}

    def module(self, name: str) -> ModuleType:
        if name not in self._modules:
            self._modules[name] = load_reference(name, self._folder)
        return self._modules[name]

    def function(self, name: str) -> Callable:
        return getattr(self.module(module_of(name)), name)

    def __call__(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """The reference's result for a call (arguments are copied first)."""
        return self.function(function)(*resolve_args(copy_args(args)), **resolve_args(copy_args(kwargs)))

    # --- requests --------------------------------------------------------------------------

    def request(self, function: str, args: tuple, kwargs: dict, return_args: bool = False) -> dict:
        request = {"op": "call", "module": module_of(function), "function": function,
                   "args": list(args), "kwargs": dict(kwargs)}
        oracles = self._oracles(function, args, kwargs)
        if oracles:
            request["oracles"] = oracles
        if return_args:
            request["return_args"] = True
        return request

    def _oracles(self, function: str, args: tuple, kwargs: dict) -> dict:
        if function not in DEPENDENCIES:
            return {}
        bound = inspect.signature(self.function(function)).bind(*args, **kwargs)
        bound.apply_defaults()
        tables: dict[str, list] = {}
        for helper, helper_args in DEPENDENCIES[function]:
            call_args = helper_args(bound.arguments)
            signature = inspect.signature(self.function(helper)).bind(*call_args)
            signature.apply_defaults()
            key = canonical_key(list(signature.arguments.values()))
            try:
                answer = {"value": self(helper, *call_args)}
            except ValueError as error:
                answer = {"raise": str(error)}
            tables.setdefault(helper, []).append([key, answer])
        return tables

    # --- probes ----------------------------------------------------------------------------

    def value(self, function: str, *args: Any, **kwargs: Any) -> Probe:
        """The student's result must equal the reference's."""
        return Probe("value", self.request(function, args, kwargs), call_label(function, args, kwargs),
                     to_plain(self(function, *args, **kwargs)))

    def curve(self, function: str, steps: list[int], *rest: Any, **kwargs: Any) -> Probe:
        """A schedule at many steps: ``function(step, *rest, **kwargs)`` for each step."""
        calls = [[[step, *rest], dict(kwargs)] for step in steps]
        expected = [to_plain(self(function, step, *rest, **kwargs)) for step in steps]
        request = {"op": "map", "module": module_of(function), "function": function, "calls": calls}
        oracles: dict = {}
        for step in steps:
            for helper, table in self._oracles(function, (step, *rest), kwargs).items():
                oracles.setdefault(helper, []).extend(table)
        if oracles:
            request["oracles"] = oracles
        label = call_label(function, (Bare("step"), *rest), kwargs) + f" for step in {_steps_text(steps)}"
        return Probe("curve", request, label, {"steps": list(steps), "values": expected})

    def raises(self, function: str, *args: Any, names: tuple[str, ...] = (), **kwargs: Any) -> Probe:
        """The call must raise ValueError whose message names the argument: one of ``names``
        (the contract asks for it; aliases keep the wording free). Checked against the
        reference at build time."""
        try:
            self(function, *args, **kwargs)
        except ValueError as error:
            if names and not message_names(str(error), names):
                raise AssertionError(f"the reference's message {error} names none of {names}") from None
        else:
            raise AssertionError(f"the reference does not raise for {call_label(function, args, kwargs)}")
        return Probe("raises", self.request(function, args, kwargs), call_label(function, args, kwargs),
                     {"error": "ValueError", "names": list(names)})

    def plain(self, function: str, *args: Any, **kwargs: Any) -> Probe:
        """Arrays come back as exact float64 ndarrays, scalars as floats."""
        return Probe("plain", self.request(function, args, kwargs), call_label(function, args, kwargs))

    def unmodified(self, function: str, *args: Any, **kwargs: Any) -> Probe:
        """The call leaves its array arguments unchanged."""
        return Probe("unmodified", self.request(function, args, kwargs, return_args=True),
                     call_label(function, args, kwargs))

    def samples(self, function: str, *args: Any, dist: str, std: float, bound: float | None = None,
                **kwargs: Any) -> Probe:
        """Random draws with this distribution (``std`` and ``bound`` come from the check)."""
        shape = tuple(int(s) for s in args[0])
        expected = {"dist": dist, "std": float(std), "shape": list(shape)}
        if bound is not None:
            expected["bound"] = float(bound)
        return Probe("samples", self.request(function, args, kwargs), call_label(function, args, kwargs), expected)

    def orthogonal(self, function: str, shape: tuple, gain: float = 1.0, **kwargs: Any) -> Probe:
        args = (shape,) if gain == 1.0 else (shape, gain)
        return Probe("orthogonal", self.request(function, args, kwargs), call_label(function, args, kwargs),
                     {"shape": list(shape), "gain": float(gain)})

    def repeat(self, probe: Probe, ref: int, same: bool) -> Probe:
        """Ask ``probe``'s question again; the answer must equal (or differ from) probe ``ref``'s."""
        return Probe("same" if same else "differs", probe.request, probe.label, None, ref)

    def session(self, cls: str, init: dict, steps: list[list], judged: list[bool] | None = None) -> Probe:
        """Run an object's steps; each judged step must match the reference object's."""
        request = {"op": "session", "module": module_of(cls), "cls": cls,
                   "init": [[], dict(init)], "steps": steps}
        played = play_session(self.module(module_of(cls)), request)
        if played["error"] is not None:
            raise AssertionError(f"the reference fails step {played['error'][0]} of its {cls} session")
        expected = [v if judged is None or judged[i] else None for i, v in enumerate(played["steps"])]
        label = f"{cls}({', '.join(f'{k}={v}' for k, v in init.items())}) then " + \
            ", ".join(_step_label(s) for s in steps)
        return Probe("session", request, label, expected)


def play_session(module: ModuleType, request: dict) -> dict:
    """Run a session request on ``module`` in this (trusted) process, on copies of its data.

    Returns ``{"steps": [plain value or None per step], "error": None}``, or with ``"error":
    [step index, exception name]`` where it stopped. ``method`` and ``set`` steps give None.
    """
    init_args, init_kwargs = request.get("init", [[], {}])
    values: list = []
    try:
        obj = getattr(module, request["cls"])(*copy_args(init_args), **copy_args(init_kwargs))
    except Exception as error:  # noqa: BLE001 - a mutant may fail in any way
        return {"steps": values, "error": [0, type(error).__name__]}
    for index, step in enumerate(request.get("steps", [])):
        try:
            if step[0] == "call":
                values.append(to_plain(obj(*copy_args(step[1]))))
            elif step[0] == "method":
                getattr(obj, step[1])()
                values.append(None)
            elif step[0] == "set":
                setattr(obj, step[1], copy_args(step[2]))
                values.append(None)
            else:
                values.append(to_plain(getattr(obj, step[1])))
        except Exception as error:  # noqa: BLE001
            return {"steps": values, "error": [index, type(error).__name__]}
    return {"steps": values, "error": None}


def _steps_text(steps: list[int]) -> str:
    if steps == list(range(steps[0], steps[-1] + 1)):
        return f"{steps[0]}..{steps[-1]}"
    return "[" + ", ".join(map(str, steps[:8])) + (", ...]" if len(steps) > 8 else "]")


def _step_label(step: list) -> str:
    if step[0] == "call":
        return f"bn(x: {step[1][0].shape})"
    if step[0] == "method":
        return f".{step[1]}()"
    if step[0] == "set":
        return f".{step[1]} = ..."
    return f".{step[1]}"
