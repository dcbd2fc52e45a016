"""The worker: the only process that imports and runs a submission's code.

Started by ``sandbox.Worker`` as ``python -I -B worker.py CONFIG_JSON``. It sets up its own
confinement while it is still trusted, then answers requests until its input closes:

1. read the submission's ``.py`` files into memory;
2. if asked (``hide``), cover the grader's secrets with empty tmpfs mounts (it runs inside
   fresh mount and PID namespaces made by ``unshare``), re-exposing only the Python install;
3. lock those mounts (a nested user namespace) or drop to an unprivileged uid;
4. set resource limits, write the submission into a fresh working folder, import numpy;
5. serve ``import``, ``call`` and ``session`` requests over the protocol's file descriptors.

Everything it sends back is plain data (see ``protocol.py``). The grader trusts none of it:
student code runs in this process and may rewrite any of this module's objects.
"""
from __future__ import annotations

import ctypes
import importlib
import json
import os
import resource
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if __package__:  # imported as part of the runtime package (the in-notebook preview)
    from . import protocol
else:  # run as a script by the sandbox: import the protocol by path, before student code exists
    sys.path.insert(0, HERE)
    import protocol  # noqa: E402

    sys.path.remove(HERE)

MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_RDONLY, MS_REMOUNT = 2, 4, 4096, 16384, 1, 32
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
PR_SET_NO_NEW_PRIVS = 38
MAX_SOURCE_BYTES = 1 << 20


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    return libc


def _mount(source, target, fstype, flags, data=None):
    if _libc().mount(source and source.encode(), target.encode(),
                     fstype and fstype.encode(), flags, data and data.encode()) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


def _needs_reexpose(path: str) -> str | None:
    """The highest ancestor of ``path`` that others cannot traverse (``/root`` is 0700)."""
    parts = os.path.abspath(path).split(os.sep)
    for depth in range(2, len(parts)):
        ancestor = os.sep.join(parts[:depth])
        if ancestor and not os.stat(ancestor).st_mode & 0o001:
            return ancestor
    return None


def _hide_paths(hide: list[str], keep: list[str]) -> None:
    """Cover each path of ``hide`` with an empty tmpfs; keep the ``keep`` folders reachable."""
    staging = next(d for d in ("/mnt", "/media", "/srv", "/opt") if os.path.isdir(d) and d not in hide)
    _mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    rescued = []
    for index, path in enumerate(keep):
        covered_by_hide = any(path == h or path.startswith(h.rstrip("/") + "/") for h in hide)
        closed = _needs_reexpose(path)
        if covered_by_hide or closed:
            stage = f"{staging}/{index}"
            os.mkdir(stage)
            _mount(path, stage, None, MS_BIND | MS_REC)
            rescued.append((stage, path))
            if closed and closed not in hide:
                hide = hide + [closed]
    for path in sorted(set(hide), key=len):
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=755")
    for stage, path in rescued:
        os.makedirs(path, exist_ok=True)
        _mount(stage, path, None, MS_BIND | MS_REC)
        _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC)


def _confine(config: dict) -> str:
    """Apply the isolation the grader asked for; returns the working folder."""
    sources = {}
    submission = config["submission"]
    for name in sorted(os.listdir(submission)):
        path = os.path.join(submission, name)
        # Never follow a link: it could point at the grader's own files.
        if name.endswith(".py") and not name.startswith(".") and not os.path.islink(path) and os.path.isfile(path):
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as handle:
                sources[name] = handle.read(MAX_SOURCE_BYTES)
    if config.get("hide"):
        keep = sorted({sys.prefix, sys.base_prefix, *[p for p in sys.path if p.endswith("-packages")]})
        _hide_paths(list(config["hide"]), keep)
    workdir = config["workdir"]
    os.makedirs(workdir, exist_ok=True)
    for name, data in sources.items():
        with open(os.path.join(workdir, name), "wb") as handle:
            handle.write(data)
    uid = config.get("uid")
    if uid is not None:
        os.chown(workdir, uid, uid)
        for name in sources:
            os.chown(os.path.join(workdir, name), uid, uid)
        os.chmod(workdir, 0o700)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    elif config.get("hide"):
        # Without a uid to drop to, a nested user namespace locks the mounts above:
        # they can no longer be unmounted to reveal what they cover.
        if _libc().unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "could not lock the mounts")
    _libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    limits = config.get("limits", {})
    for name, value in (("RLIMIT_AS", limits.get("memory_bytes")),
                        ("RLIMIT_NPROC", limits.get("processes")),
                        ("RLIMIT_FSIZE", limits.get("file_bytes")),
                        ("RLIMIT_CORE", 0),
                        ("RLIMIT_NOFILE", 256)):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))
    os.chdir(workdir)
    return workdir


# --- describing answers as plain data ------------------------------------------------------

def describe(value, depth: int = 0) -> dict:
    """What the student's code returned, as plain data with its exact type."""
    import numpy as np

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
    import numpy as np

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
    import inspect

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


# --- serving -------------------------------------------------------------------------------

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
        try:
            if op == "import":
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
        try:
            protocol.write_message(outbox, reply)
        except protocol.ProtocolError as exc:
            protocol.write_message(outbox, {"ok": False, "error": "UnsupportedAnswer",
                                            "message": str(exc)})


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


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def main() -> None:
    config = json.loads(sys.argv[1])
    inbox = os.fdopen(config["in_fd"], "rb", buffering=0)
    outbox = os.fdopen(config["out_fd"], "wb", buffering=0)
    try:
        workdir = _confine(config)
        sys.path[:] = [workdir] + [p for p in sys.path if p not in ("", ".", workdir)]
        import numpy  # noqa: F401  (loaded before student code, under the limits)
        import numpy.linalg  # noqa: F401
        import numpy.random  # noqa: F401
    except BaseException as exc:  # noqa: BLE001
        protocol.write_message(outbox, {"ok": False, "error": "SandboxError",
                                        "message": f"{type(exc).__name__}: {exc}"})
        return
    # A process forked by student code must not speak for the worker: close its channel.
    os.register_at_fork(after_in_child=lambda: (_close_quietly(config["in_fd"]), _close_quietly(config["out_fd"])))
    protocol.write_message(outbox, {"ok": True, "ready": True, "uid": os.getuid(),
                                    "pid": os.getpid()})
    serve(inbox, outbox, workdir)


if __name__ == "__main__":
    main()
