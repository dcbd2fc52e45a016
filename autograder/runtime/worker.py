"""The worker: the only process that imports and runs a submission's code.

The sandbox (``sandbox.py``) starts it as ``python -I -B worker.py LIMITS_JSON`` inside its
confinement, with the request channel on standard input and the reply channel on standard
output. While it is still trusted it:

1. moves the two channels to fresh descriptors, so the student's ``print`` cannot write into
   them (its output goes to standard error, which the grader captures and caps);
2. sets its resource limits and imports numpy and everything it needs itself, before any
   student file exists, so no submission can shadow a module the worker uses;
3. says hello, then receives the submission's modules as text (``install``) and writes them to
   its private working folder, which only then joins ``sys.path``;
4. serves ``import``, ``call``, ``map`` and ``session`` requests until its input closes.

Everything it sends back is plain data (see ``protocol.py``), with the call's captured
``print`` output. The grader trusts none of it: student code runs in this process and may
rewrite any of this module's objects.
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import json
import os
import resource
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if __package__:  # imported as part of the runtime package (the in-notebook preview)
    from . import protocol
else:  # run as a script in the sandbox: import the protocol by path, before student code exists
    sys.path.insert(0, HERE)
    import protocol  # noqa: E402

    sys.path.remove(HERE)

import numpy as np  # noqa: E402  (loaded before any student file exists)
import numpy.linalg  # noqa: E402,F401
import numpy.random  # noqa: E402,F401

#: Most characters of a call's printed output sent back with its reply.
OUTPUT_CHARS = 2000


# --- describing answers as plain data ------------------------------------------------------

def describe(value, depth: int = 0) -> dict:
    """What the student's code returned, as plain data with its exact type."""
    kind = type(value)
    if depth > 4:
        return {"kind": "other", "type": kind.__name__}
    if isinstance(value, np.ndarray):
        plain = np.array(value, copy=True).view(np.ndarray)
        if plain.dtype.kind not in "biuf":
            return {"kind": "other", "type": f"ndarray of {plain.dtype}"}
        return {"kind": "ndarray" if kind is np.ndarray else "ndarray_subclass",
                "type": kind.__name__, "dtype": str(plain.dtype), "value": plain}
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return {"kind": "scalar", "type": kind.__name__, "value": float(value)}
    if isinstance(value, str):
        return {"kind": "str", "type": kind.__name__, "value": str.__str__(value)[:2000]}
    if kind in (list, tuple):
        return {"kind": kind.__name__, "items": [describe(v, depth + 1) for v in value[:64]]}
    return {"kind": "other", "type": kind.__name__}


def _plain(value):
    """Call arguments back to wire values, so the grader can see whether they changed."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True).view(np.ndarray) if value.dtype.kind in "biuf" else None
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return None


def _error(exc: BaseException, workdir: str) -> dict:
    """An exception as data, located at the deepest frame in the student's own files."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if not frame.filename.startswith("<") and os.path.dirname(os.path.abspath(frame.filename)) == workdir:
            where = f"{os.path.basename(frame.filename)}:{frame.lineno}"
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{os.path.basename(exc.filename)}:{exc.lineno}"
    message = str(exc)
    return {"ok": False, "error": type(exc).__name__, "message": message[:500], "where": where,
            "bases": [cls.__name__ for cls in type(exc).__mro__]}


# --- dependency answers --------------------------------------------------------------------

def _with_oracles(module, oracles: dict):
    """Replace helpers such as ``compute_fans`` with known answers for the tested arguments.

    A graded function that calls another exercise gets that exercise's correct answer for the
    arguments the grader foresaw, so one mistake is not charged twice. Other arguments go to
    the student's own helper.
    """
    saved = {}
    for name, table in oracles.items():
        original = getattr(module, name, None)
        if not callable(original):
            continue
        answers = {key: answer for key, answer in table}

        def helper(*args, _original=original, _answers=answers, **kwargs):
            try:
                bound = inspect.signature(_original).bind(*args, **kwargs)
                bound.apply_defaults()
                key = protocol.canonical_key(list(bound.arguments.values()))
            except TypeError:
                return _original(*args, **kwargs)
            if key not in _answers:
                return _original(*args, **kwargs)
            answer = _answers[key]
            if "raise" in answer:
                raise ValueError(answer["raise"])
            return protocol.copy_args(answer["value"])

        saved[name] = original
        setattr(module, name, helper)
    return saved


def serve(inbox, outbox, workdir: str) -> None:
    modules: dict = {}

    def load(name: str):
        if name not in modules:
            modules[name] = importlib.import_module(name)
        return modules[name]

    while True:
        try:
            request = protocol.read_message(inbox)
        except EOFError:
            return
        op = request.get("op")
        printed = _CappedText(OUTPUT_CHARS)
        try:
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                if op == "install":
                    reply = _install(request, workdir)
                elif op == "import":
                    load(request["module"])
                    reply = {"ok": True}
                elif op == "call":
                    reply = _call(load(request["module"]), request)
                elif op == "map":
                    reply = _map(load(request["module"]), request, workdir)
                elif op == "session":
                    reply = _session(load(request["module"]), request, workdir)
                else:
                    reply = {"ok": False, "error": "ProtocolError", "message": f"unknown op {op!r}"}
        except BaseException as exc:  # noqa: BLE001 - every student failure is reported
            reply = _error(exc, workdir)
        if printed.text:
            reply["output"] = printed.text
        if "seq" in request:
            reply["seq"] = request["seq"]
        try:
            protocol.write_message(outbox, reply)
        except protocol.ProtocolError as exc:
            protocol.write_message(outbox, {"ok": False, "error": "UnsupportedAnswer",
                                            "message": str(exc)})


class _CappedText(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters written to it."""

    def __init__(self, limit: int):
        self.limit, self.text, self.dropped = limit, "", False

    def write(self, text: str) -> int:
        text = str(text)
        room = self.limit - len(self.text)
        self.text += text[:max(room, 0)]
        if len(text) > room and not self.dropped:
            self.dropped = True
            self.text += "\n[output truncated]"
        return len(text)


def _install(request: dict, workdir: str) -> dict:
    """Write the submission's modules (text, chosen by the grader) and put them on the path."""
    if workdir in sys.path:
        return {"ok": False, "error": "ProtocolError", "message": "the submission is already installed"}
    for name, text in request["files"].items():
        if os.path.basename(name) != name or not name.endswith(".py"):
            return {"ok": False, "error": "ProtocolError", "message": f"bad module name {name!r}"}
        with open(os.path.join(workdir, name), "w", encoding="utf-8") as handle:
            handle.write(text)
    sys.path.insert(0, workdir)
    importlib.invalidate_caches()
    return {"ok": True}


def _call(module, request: dict) -> dict:
    function = getattr(module, request["function"])
    args = protocol.resolve_args(request.get("args", []))
    kwargs = protocol.resolve_args(request.get("kwargs", {}))
    saved = _with_oracles(module, request.get("oracles", {}))
    try:
        result = function(*args, **kwargs)
    finally:
        for name, original in saved.items():
            setattr(module, name, original)
    reply = {"ok": True, "result": describe(result)}
    if request.get("return_args"):
        reply["args_after"] = [_plain(a) for a in args]
    return reply


def _map(module, request: dict, workdir: str) -> dict:
    """Call one function for each ``[args, kwargs]`` of ``calls``; errors are per call."""
    function = getattr(module, request["function"])
    saved = _with_oracles(module, request.get("oracles", {}))
    results = []
    try:
        for args, kwargs in request.get("calls", []):
            try:
                results.append({"ok": True, "result": describe(function(*protocol.resolve_args(args), **protocol.resolve_args(kwargs)))})
            except Exception as exc:  # noqa: BLE001
                results.append(_error(exc, workdir))
    finally:
        for name, original in saved.items():
            setattr(module, name, original)
    return {"ok": True, "results": results}


def _session(module, request: dict, workdir: str) -> dict:
    """Build an object, then run its steps: ``["call", args]``, ``["method", name]``,
    ``["get", attribute]`` or ``["set", attribute, value]``. Stops at the first error."""
    init_args, init_kwargs = request.get("init", [[], {}])
    results = []
    try:
        obj = getattr(module, request["cls"])(*protocol.resolve_args(init_args), **protocol.resolve_args(init_kwargs))
        for step in request.get("steps", []):
            action = step[0]
            if action == "call":
                value = obj(*protocol.resolve_args(step[1]))
            elif action == "method":
                value = getattr(obj, step[1])()
            elif action == "set":
                setattr(obj, step[1], protocol.resolve_args(step[2]))
                value = None
            else:
                value = getattr(obj, step[1])
            results.append({"kind": "self"} if value is obj and action == "method" else describe(value))
    except BaseException as exc:  # noqa: BLE001
        failure = _error(exc, workdir)
        failure["results"] = results
        return failure
    return {"ok": True, "results": results}


def _confine(limits: dict) -> str:
    """Set the resource limits and make the private working folder; returns it."""
    for name, value in (("RLIMIT_AS", limits.get("memory_bytes")),
                        ("RLIMIT_NPROC", limits.get("processes")),
                        ("RLIMIT_FSIZE", limits.get("file_bytes")),
                        ("RLIMIT_CORE", 0),
                        ("RLIMIT_NOFILE", 256)):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))
    workdir = limits["workdir"]
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    os.chdir(workdir)
    return os.path.realpath(workdir)


def _channels():
    """The request and reply streams, moved off descriptors 0 and 1. Descriptor 0 becomes
    /dev/null and descriptor 1 a copy of 2, so stray output lands in the captured stderr."""
    inbox = os.fdopen(os.dup(0), "rb", buffering=0)
    outbox = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    for fd in (inbox.fileno(), outbox.fileno()):
        os.set_inheritable(fd, False)
    return inbox, outbox


def _watch_lifeline(fd: int, everything: bool) -> None:
    """End the whole submission when the grader goes away, whatever its code is doing.

    The grader holds the write end of the pipe ``fd`` and never writes: end-of-file means it
    died. A thread then kills every process this one may signal (``everything``: in the
    sandbox's own PID namespace, or of the worker's own uid) or its process group, then exits.
    The functions it needs are bound now, before any student code could replace them."""
    import signal
    import threading

    read, kill, killpg, exit_ = os.read, os.kill, os.killpg, os._exit

    def watch() -> None:
        try:
            while read(fd, 1):
                pass
        except OSError:
            pass
        try:
            if everything:
                kill(-1, signal.SIGKILL)
            else:
                killpg(0, signal.SIGKILL)
        finally:
            exit_(70)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def main() -> None:
    inbox, outbox = _channels()
    config = json.loads(sys.argv[1])
    if config.get("lifeline") is not None:
        _watch_lifeline(config["lifeline"], config.get("kill_everything", False))
    try:
        workdir = _confine(config)
    except BaseException as exc:  # noqa: BLE001
        protocol.write_message(outbox, {"ok": False, "error": "SandboxError",
                                        "message": f"{type(exc).__name__}: {exc}"})
        return
    # A process forked by student code must not speak for the worker: close its channel.
    os.register_at_fork(after_in_child=lambda: (_close_quietly(inbox.fileno()), _close_quietly(outbox.fileno())))
    protocol.write_message(outbox, {"ok": True, "ready": True, "uid": os.getuid(), "pid": os.getpid(),
                                    "limits": {name: resource.getrlimit(getattr(resource, name))[0]
                                               for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE")}})
    serve(inbox, outbox, workdir)


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


if __name__ == "__main__":
    main()
