"""Start, talk to and kill the worker process that runs a submission's code.

The grader never imports student code. ``Worker`` starts ``worker.py`` at one isolation level,
decided once per run by ``choose_isolation`` before any student code runs, and exchanges
plain-data messages with it. There is no fallback: a worker that fails to start is that
submission's error, never a reason to weaken the next one.

- ``"sandbox"``: bubblewrap (``bwrap.py``): an allow-list view of the machine (the Python
  install read-only, a private ``/tmp`` holding the four modules), new user, PID, network,
  IPC, UTS and cgroup namespaces, no capabilities, and a uid of its own when the grader is root.
- ``"uid"``: a uid of its own and file permissions only: no namespaces. For containers that
  cannot run bubblewrap (Gradescope's advice). Root only; the grader's files must not be
  readable by other users, which the probe checks.
- ``"process"``: a plain child process with the limits; nothing is hidden. For a student's
  own self-check, or an instructor who asks for it by name.

Every level has wall-clock limits per request and per submission (SIGKILL), caps on memory,
processes, file size and reply bytes, and a cgroup bounding the submission as a whole where
the machine lets the grader make one.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import bwrap, cgroups, protocol, teardown

RUNTIME = Path(__file__).resolve().parent
WORKER_SCRIPT = RUNTIME / "worker.py"
WORKER_FILES = ("worker.py", "protocol.py")
LEVELS = ("sandbox", "uid", "process")
DESCRIPTIONS = {
    "sandbox": "bubblewrap sandbox: only the Python install and the submission's four modules are visible; "
               "new user, PID, network, IPC, UTS and cgroup namespaces; no capabilities",
    "uid": "a uid of its own with file permissions only (no namespaces): the grader's files are unreadable "
           "to it, but the network and the machine's shared folders are not closed",
    "process": "a plain child process (no sandbox): limits apply, but files are not hidden",
}
#: First uid given to workers when the grader is root (far above any system or login user).
UID_BASE = 100_000_000


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission. Times are wall-clock seconds."""

    call_seconds: float = 5.0
    import_seconds: float = 10.0
    startup_seconds: float = 30.0
    submission_seconds: float = 240.0
    memory_bytes: int = 2 * 1024**3
    processes: int = 64
    file_bytes: int = 16 * 1024**2
    tmp_bytes: int = 64 * 1024**2
    output_bytes: int = 8 * 1024
    reply_bytes: int = 256 * 1024**2


class WorkerFailure(Exception):
    """The worker did not answer: ``kind`` is ``timeout``, ``died``, ``protocol``, ``flood``,
    ``budget`` or ``sandbox``."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class IsolationError(Exception):
    """The isolation a run asked for is not available; the message says why and what to do."""


@dataclass(frozen=True)
class Isolation:
    """The isolation of a run: its level, and which bounds the machine let it enforce."""

    level: str
    cgroup: bool = False

    def describe(self) -> str:
        """A sentence for summaries and every ``results.json``."""
        memory = ("memory and process count bounded per submission (cgroup)" if self.cgroup else
                  "memory bounded per process, process count per sandbox user (no cgroup available)")
        return f"{self.level}: {DESCRIPTIONS[self.level]}; {memory}; wall time bounded per call and per submission"


def describe_signal(returncode: int) -> str:
    number = -returncode if returncode < 0 else returncode - 128
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# --- choosing the level, once per run --------------------------------------------------------

def probe(level: str, secrets: tuple[str, ...] = ()) -> str | None:
    """Why ``level`` cannot run workers on this machine, or None when it can. A clean worker
    (no submission) is started and asked to import numpy; at the ``uid`` level, ``secrets``
    (the grader's own files) must also be unreadable to the worker's uid."""
    if level == "uid" and os.geteuid() != 0:
        return "the uid level needs the grader to run as root"
    if level == "sandbox":
        try:
            bwrap.find_bwrap()
        except bwrap.BwrapUnavailable as error:
            return str(error)
    if level == "uid":
        readable = [s for s in secrets if _readable_by_others(s)]
        if readable:
            return (f"{readable[0]} is readable by other users, so a worker with its own uid could read it; "
                    f"make it private first (chmod -R go-rwx {readable[0]})")
    worker = Worker({}, Limits(startup_seconds=30.0), Isolation(level))
    try:
        worker.start()
        worker.request({"op": "import", "module": "numpy"}, 30.0, "the probe")
    except WorkerFailure as failure:
        return failure.message + (f": {worker.output().strip()}" if worker.output().strip() else "")
    finally:
        worker.close()
    return None


@lru_cache(maxsize=None)
def probe_cached(level: str, secrets: tuple[str, ...] = ()) -> str | None:
    """``probe``, once per process (before any student code runs, so none can influence it)."""
    return probe(level, secrets)


def choose_isolation(requested: str | None = None, secrets: tuple[str, ...] = (),
                     floor: str = "sandbox") -> Isolation:
    """The level a run uses, decided before any student code runs.

    ``requested``: a level the instructor named, used as is or refused. Otherwise the strongest
    level that works, but never weaker than ``floor`` (``grade``: ``sandbox``; the Gradescope
    package: ``uid``; the student's self-check: ``process``). Raises ``IsolationError``.
    """
    if requested is not None:
        if requested not in LEVELS:
            raise IsolationError(f"unknown isolation level {requested!r}; choose one of {', '.join(LEVELS)}")
        candidates = [requested]
    else:
        candidates = list(LEVELS[: LEVELS.index(floor) + 1])
    reasons = []
    for level in candidates:
        reason = probe_cached(level, tuple(secrets))
        if reason is None:
            return Isolation(level, cgroup=_cgroups_work())
        reasons.append(f"{level}: {reason}")
    weaker = [level for level in LEVELS if LEVELS.index(level) > LEVELS.index(candidates[-1])]
    advice = f"; to grade with weaker isolation anyway, pass --isolation {weaker[0]}" if weaker else ""
    raise IsolationError("no isolation level at least as strong as " f"{candidates[-1]!r} works here ("
                         + "; ".join(reasons) + ")" + advice)


@lru_cache(maxsize=1)
def _cgroups_work() -> bool:
    group = cgroups.create(cgroups.group_name(0), 64 * 1024**2, 8)
    if group is None:
        return False
    group.remove()
    return True


def _readable_by_others(path: str) -> bool:
    """Whether a process of another uid, in no group, could read the file ``path``, or reach
    into the folder ``path`` (whose entries it could then open by name)."""
    target = Path(path).resolve()
    try:
        if any(not ancestor.stat().st_mode & 0o001 for ancestor in target.parents):
            return False
        return bool(target.stat().st_mode & (0o001 if target.is_dir() else 0o004))
    except FileNotFoundError:
        return False


# --- one worker -------------------------------------------------------------------------------

_uids = iter(range(1_000_000))


def fresh_uid() -> int:
    """A uid no other worker of this run has: one per grader process and per call."""
    return UID_BASE + (os.getpid() % 4_000_000) * 1000 + next(_uids) % 1000


@dataclass
class Worker:
    """One worker for one submission's ``files`` (``{"clipping.py": text}``).

    Use as a context manager, or ``start()`` and ``close()``. ``uid`` is the submission's own
    uid (given to every restart of its worker); by default a fresh one.
    """

    files: dict[str, str]
    limits: Limits
    isolation: Isolation
    uid: int = field(default_factory=fresh_uid)
    _process: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _group: cgroups.Group | None = field(default=None, init=False, repr=False)
    _private: Path | None = field(default=None, init=False, repr=False)
    _output: "_OutputTail | None" = field(default=None, init=False, repr=False)
    received: int = field(default=0, init=False)
    _seq: int = field(default=0, init=False, repr=False)
    _fds: list[int] = field(default_factory=list, init=False, repr=False)
    _lifeline: int | None = field(default=None, init=False, repr=False)
    peak_memory: int | None = field(default=None, init=False)

    def __enter__(self) -> "Worker":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # starting

    def start(self) -> dict:
        """Start the worker, install the submission's modules, and return its hello."""
        self.close()
        level, limits = self.isolation.level, self.limits
        self._output = _OutputTail(limits.output_bytes)
        if self.isolation.cgroup:
            self._group = cgroups.create(cgroups.group_name(self.uid), limits.memory_bytes, limits.processes)
            if self._group is None:  # the run promised per-submission bounds: no silent weakening
                raise WorkerFailure("sandbox", "the submission's cgroup could not be created")
        lifeline_read, self._lifeline = os.pipe()  # the worker's end-of-file: the grader died
        os.set_inheritable(lifeline_read, True)
        self._fds.append(lifeline_read)
        command, env, preexec = self._command(level, lifeline_read)
        try:
            self._process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                cwd="/", preexec_fn=preexec, start_new_session=True, close_fds=True, pass_fds=self._fds)
        except OSError as error:
            self.close()
            raise WorkerFailure("sandbox", f"the worker could not start: {error}") from None
        finally:
            for fd in self._fds:
                os.close(fd)
            self._fds = []
        self._output.drain(self._process.stderr)
        _widen(self._process.stdout.fileno())  # arrays of 100,000 draws cross in a few reads
        os.set_blocking(self._process.stdin.fileno(), False)
        hello = self._receive(limits.startup_seconds, "start")
        if not hello.get("ok"):
            self.kill()
            raise WorkerFailure("sandbox", f"the worker could not start: {hello.get('message')}")
        installed = self.request({"op": "install", "files": self.files}, limits.startup_seconds,
                                 "the installation of the submission")
        if not installed.get("ok"):
            self.kill()
            raise WorkerFailure("sandbox", f"the submission could not be installed: {installed.get('message')}")
        return hello

    def _command(self, level: str, lifeline: int) -> tuple[list[str], dict[str, str], Callable[[], None] | None]:
        limits = self.limits
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if name in os.environ:
                env[name] = os.environ[name]
        root = os.geteuid() == 0
        group = self._group
        if level == "sandbox":
            workdir = "/tmp/work"
            env["HOME"] = workdir
            config = {"workdir": workdir, "memory_bytes": limits.memory_bytes, "processes": limits.processes,
                      "file_bytes": limits.file_bytes, "lifeline": lifeline, "kill_everything": True}
            runner = bwrap.find_bwrap()
            code = [_memfd(RUNTIME / name) for name in WORKER_FILES]
            self._fds += code
            files = {fd: f"{bwrap.WORKER_DIR}/{name}" for fd, name in zip(code, WORKER_FILES)}
            python = [sys.executable, "-I", "-B", f"{bwrap.WORKER_DIR}/worker.py", json.dumps(config)]
            read_only = bwrap.python_paths()
            inner = bwrap.sandbox_command(runner, read_only, files, python, tmp_bytes=limits.tmp_bytes,
                                          sandbox_uid=self.uid, env=env)
            if root:
                needed = [*read_only, os.path.dirname(runner), os.path.dirname(sys.executable)]
                inner = [*bwrap.reexpose_prefix(runner, needed, self.uid), *inner]
            return inner, {"PATH": env["PATH"]}, teardown.with_parent(group)
        # uid and process levels: a private folder of the worker's own holds its code and the modules
        teardown.remove_orphan_folders()
        self._private = Path(tempfile.mkdtemp(prefix=f"{teardown.PRIVATE_PREFIX}{os.getpid()}-"))
        for name in WORKER_FILES:
            shutil.copyfile(RUNTIME / name, self._private / name)
        workdir = str(self._private / "work")
        env["HOME"] = workdir
        config = {"workdir": workdir, "memory_bytes": limits.memory_bytes, "processes": limits.processes,
                  "file_bytes": limits.file_bytes, "lifeline": lifeline, "kill_everything": level == "uid"}
        command = [sys.executable, "-I", "-B", str(self._private / "worker.py"), json.dumps(config)]
        if level == "uid":
            for path in (self._private, *self._private.iterdir()):
                os.chown(path, self.uid, self.uid)
            os.chmod(self._private, 0o700)
            return command, env, teardown.drop_to(self.uid, group)
        return command, env, teardown.with_parent(group)

    # talking

    def request(self, message: dict, seconds: float, what: str) -> dict:
        """Send one request and wait at most ``seconds`` for the reply.

        ``what`` names the work in failure messages ("clip_by_norm"). On a timeout, death,
        garbled reply or reply flood the worker is killed and ``WorkerFailure`` is raised.
        """
        if self._process is None:
            raise WorkerFailure("died", "the worker is not running")
        deadline = time.monotonic() + seconds
        fd = self._process.stdin.fileno()
        self._seq += 1
        try:
            view = memoryview(_encode({**message, "seq": self._seq}))
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                    self.kill()
                    raise WorkerFailure("timeout", f"{what} did not return within {seconds:g} s")
                view = view[os.write(fd, view):]
        except (BrokenPipeError, ConnectionResetError):
            raise self._died(what) from None
        while True:  # a reply left over from an earlier request (a forged extra one) is skipped
            reply = self._receive(deadline - time.monotonic(), what, seconds)
            if reply.get("seq") == self._seq:
                return reply

    def _receive(self, seconds: float, what: str, limit: float | None = None) -> dict:
        reader = _DeadlineReader(self._process.stdout.fileno(), time.monotonic() + max(seconds, 0.0),
                                 self.limits.reply_bytes - self.received)
        try:
            reply = protocol.read_message(reader)
            self.received += _widening(reply)
        except TimeoutError:
            self.kill()
            raise WorkerFailure("timeout", f"{what} did not return within {limit or seconds:g} s") from None
        except EOFError:
            raise self._died(what) from None
        except _Flood:
            self.kill()
            raise WorkerFailure("flood", f"the submission's answers passed {self.limits.reply_bytes // 1024**2} MiB "
                                         f"in all while running {what}") from None
        except protocol.ProtocolError as error:
            self.kill()
            raise WorkerFailure("protocol", f"the worker sent an unreadable answer while running {what} ({error})") \
                from None
        except Exception as error:  # noqa: BLE001 - whatever a forged reply makes the decoder raise
            self.kill()
            raise WorkerFailure("protocol", f"the worker sent an unreadable answer while running {what} "
                                            f"({type(error).__name__})") from None
        finally:
            self.received += reader.count
        if not isinstance(reply, dict):
            self.kill()
            raise WorkerFailure("protocol", f"the worker sent an unreadable answer while running {what}")
        return _cap_text(reply)

    def _died(self, what: str) -> WorkerFailure:
        process = self._process
        self.kill()
        code = process.returncode if process is not None else None
        if code is None or code == 0:
            how = "the process exited early (status 0)"
        elif code < 0 or code > 128:
            how = f"the process died with {describe_signal(code)}"
        else:
            how = f"the process exited with status {code}"
        if self.peak_memory and self.peak_memory >= self.limits.memory_bytes * 0.95:
            how += f" (the submission reached its memory limit of {self.limits.memory_bytes // 1024**2} MiB)"
        return WorkerFailure("died", f"{how} while running {what}")

    def output(self) -> str:
        """What the worker printed outside any call, cut to ``limits.output_bytes``."""
        return self._output.text() if self._output is not None else ""

    # stopping

    def kill(self) -> None:
        """SIGKILL every process of the submission: its cgroup, its uid, or its process group
        (whose death takes the sandbox's PID namespace with it)."""
        if self._lifeline is not None:
            os.close(self._lifeline)  # the worker's lifeline thread ends everything it can reach
            self._lifeline = None
        process, self._process = self._process, None
        if process is None:
            return
        group, self._group = self._group, None
        if group is not None:
            self.peak_memory = group.peak_memory()
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if group is not None:
            group.kill_all()  # and removes it
        if self.isolation.level == "uid":
            teardown.kill_uid(self.uid)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if self._output is not None:
            self._output.join()
        for stream in (process.stdin, process.stdout, process.stderr):
            try:
                stream.close()
            except OSError:
                pass

        if self.isolation.level == "uid":
            teardown.sweep_uid(self.uid)

    def close(self) -> None:
        """Kill the worker and remove its cgroup, private folder and captured output."""
        self.kill()
        if self._group is not None:  # created, but the worker never started
            self._group.remove()
            self._group = None
        if self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None
        self._output = None


def _memfd(path: Path) -> int:
    """An anonymous in-memory file holding ``path``'s bytes, positioned at its start."""
    fd = os.memfd_create(path.name, 0)  # not close-on-exec: bwrap reads it
    os.write(fd, path.read_bytes())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _widening(value: Any) -> int:
    """Bytes that the judge's float64 copies of a reply's narrow arrays will add, charged to
    the reply budget so that a flood of booleans costs what it will cost."""
    if isinstance(value, np.ndarray):
        return max(0, value.size * 8 - value.nbytes)
    if isinstance(value, dict):
        return sum(_widening(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_widening(item) for item in value)
    return 0


class _OutputTail:
    """The worker's standard error (its printed output), drained by a thread as it comes so
    that a flood never blocks the worker or fills a disk: the first ``limit`` bytes are kept,
    the rest are counted and dropped."""

    def __init__(self, limit: int):
        self.limit, self.kept, self.dropped = limit, bytearray(), 0
        self._thread: threading.Thread | None = None

    def drain(self, stream) -> None:
        def run() -> None:
            fd = stream.fileno()
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                room = self.limit - len(self.kept)
                self.kept += chunk[:max(room, 0)]
                self.dropped += max(0, len(chunk) - max(room, 0))

        self._thread = threading.Thread(target=run, name="worker-output", daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=5)

    def text(self) -> str:
        text = bytes(self.kept).decode("utf-8", "replace")
        return text + ("\n[output truncated]" if self.dropped else "")


#: Longest text kept from a reply (messages, printed output, returned strings): whatever the
#: worker sends, no report or results file grows from it by more than this per answer.
MAX_REPLY_TEXT = 2000


def _cap_text(value: Any) -> Any:
    """``value`` with every string cut to ``MAX_REPLY_TEXT`` characters."""
    if isinstance(value, str):
        return value if len(value) <= MAX_REPLY_TEXT else value[:MAX_REPLY_TEXT] + " [truncated]"
    if isinstance(value, dict):
        return {key: _cap_text(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cap_text(item) for item in value)
    return value


F_SETPIPE_SZ = 1031


def _widen(fd: int, size: int = 1 << 20) -> None:
    """Ask Linux for a larger pipe buffer (best effort: the limit is a system setting)."""
    try:
        import fcntl

        fcntl.fcntl(fd, F_SETPIPE_SZ, size)
    except (OSError, ImportError, AttributeError):
        pass


def _encode(message: Any) -> bytes:
    import io

    buffer = io.BytesIO()
    protocol.write_message(buffer, message)
    return buffer.getvalue()


class _Flood(protocol.ProtocolError):
    """The submission's replies passed their byte budget."""


class _DeadlineReader:
    """A file-like ``read(n)`` on a pipe that raises ``TimeoutError`` at the deadline and
    ``_Flood`` past ``budget`` bytes."""

    def __init__(self, fd: int, deadline: float, budget: int):
        self.fd, self.deadline, self.budget, self.count = fd, deadline, budget, 0

    def read(self, size: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
            raise TimeoutError
        data = os.read(self.fd, min(size, 1 << 20))
        self.count += len(data)
        if self.count > self.budget:
            raise _Flood
        return data
