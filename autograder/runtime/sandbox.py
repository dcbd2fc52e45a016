"""Start, talk to and kill the worker process that runs a submission's code.

The grader never imports student code. ``Worker`` starts ``worker.py`` in a child process
with the best isolation the machine allows and exchanges plain-data messages with it:

- ``"root"``: fresh mount and PID namespaces (``unshare``); the grader's files are covered by
  empty mounts, and the worker drops to a uid of its own before any student code runs;
- ``"userns"``: the same namespaces inside an unprivileged user namespace, mounts locked;
- ``"process"``: a plain child process (other machines, a student's laptop).

Every level has a wall-clock limit per request, enforced with SIGKILL on the worker's whole
process group (and namespace), and caps on memory, processes and output size.
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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from . import protocol

WORKER_SCRIPT = Path(__file__).resolve().parent / "worker.py"
LEVELS = ("root", "userns", "process")
NAMESPACE_FLAGS = ["--mount", "--pid", "--fork", "--kill-child", "--mount-proc", "--propagation", "private"]
DESCRIPTIONS = {
    "root": "mount and PID namespaces, grader files hidden, unprivileged uid",
    "userns": "user, mount and PID namespaces, grader files hidden",
    "process": "separate process only (no namespaces available): limits apply, files are not hidden",
}


@dataclass(frozen=True)
class Limits:
    """Resource limits for one worker. Times are wall-clock seconds."""

    call_seconds: float = 5.0
    import_seconds: float = 10.0
    startup_seconds: float = 30.0
    memory_bytes: int = 2 * 1024**3
    processes: int = 64
    file_bytes: int = 16 * 1024**2
    output_bytes: int = 8 * 1024


class WorkerFailure(Exception):
    """The worker did not answer: ``kind`` is ``timeout``, ``died``, ``protocol`` or ``sandbox``."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


_probed: dict[str, bool] = {}


def _prefix(level: str) -> list[str]:
    if level == "root":
        return ["unshare", *NAMESPACE_FLAGS]
    if level == "userns":
        return ["unshare", "--user", "--map-root-user", *NAMESPACE_FLAGS]
    return []


def level_works(level: str) -> bool:
    """Whether this machine can start a process at ``level`` (probed once per process)."""
    if level not in _probed:
        if level == "process":
            _probed[level] = True
        elif shutil.which("unshare") is None or (level == "root" and os.geteuid() != 0):
            _probed[level] = False
        else:
            try:
                done = subprocess.run([*_prefix(level), "true"], capture_output=True, timeout=10)
                _probed[level] = done.returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                _probed[level] = False
    return _probed[level]


def best_level() -> str:
    """The strongest isolation level this machine offers."""
    return next(level for level in LEVELS if level_works(level))


def describe_signal(returncode: int) -> str:
    number = -returncode if returncode < 0 else returncode - 128
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass
class Worker:
    """One isolated worker for one submission folder. Use as a context manager.

    ``hide`` lists the paths the worker must not see (the reference solutions, the hidden
    checks, other submissions, the output folder); they are covered at the ``root`` and
    ``userns`` levels.
    """

    submission: Path
    hide: Sequence[Path] = ()
    limits: Limits = field(default_factory=Limits)
    level: str = "auto"
    _process: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _tmp: Path | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> "Worker":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def isolation(self) -> str:
        """A sentence naming the isolation in force."""
        return DESCRIPTIONS[self.level]

    def _fresh_uid(self) -> int:
        """A uid no other live worker has: per grader process and per start, so that the
        process limit of a worker being torn down never counts against its successor."""
        self._starts = getattr(self, "_starts", 0) + 1
        return 2_000_000 + (os.getpid() % 100_000) * 1_000 + self._starts % 1_000

    def start(self) -> dict:
        """Start the worker and wait until it has confined itself; returns its hello.

        With ``level="auto"`` a level that fails to confine on this machine (a mount refused,
        say) is marked unusable and the next one is tried: a broken sandbox must not zero a
        class. Student code has not run at that point, so it cannot cause the fallback.
        """
        chosen = self.level
        candidates = [level for level in LEVELS if level_works(level)] if chosen == "auto" else [chosen]
        for index, level in enumerate(candidates):
            self.level = level
            try:
                return self._start_at_level()
            except WorkerFailure as failure:
                if failure.kind != "sandbox" or chosen != "auto" or index == len(candidates) - 1:
                    raise
                _probed[level] = False
                self.close()
        raise WorkerFailure("sandbox", "no isolation level could start a worker")

    def _start_at_level(self) -> dict:
        self._tmp = Path(tempfile.mkdtemp(prefix="stability-grader-"))
        os.chmod(self._tmp, 0o700)
        namespaced = self.level in ("root", "userns")
        workdir = "/tmp/submission" if namespaced else str(self._tmp / "submission")
        hide = sorted({str(Path(p).resolve()) for p in self.hide} | ({tempfile.gettempdir(), "/root", "/home"} if namespaced else set()))
        request_read, self._request_write = os.pipe()
        self._reply_read, reply_write = os.pipe()
        _widen(self._reply_read)  # arrays of 100,000 draws cross in a few reads, not dozens
        config = {
            "submission": str(Path(self.submission).resolve()),
            "workdir": workdir,
            "hide": hide if namespaced else [],
            "uid": self._fresh_uid() if self.level == "root" else None,
            "in_fd": request_read,
            "out_fd": reply_write,
            "limits": {"memory_bytes": self.limits.memory_bytes, "processes": self.limits.processes,
                       "file_bytes": self.limits.file_bytes},
        }
        self._output = open(self._tmp / "output.txt", "w+b")
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir,
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if name in os.environ:
                env[name] = os.environ[name]
        self._process = subprocess.Popen(
            [*_prefix(self.level), sys.executable, "-I", "-B", str(WORKER_SCRIPT), json.dumps(config)],
            stdin=subprocess.DEVNULL, stdout=self._output, stderr=subprocess.STDOUT,
            pass_fds=(request_read, reply_write), env=env, cwd=self._tmp, start_new_session=True)
        os.close(request_read)
        os.close(reply_write)
        os.set_blocking(self._request_write, False)
        hello = self._receive(self.limits.startup_seconds, "start")
        if not hello.get("ok"):
            self.kill()
            raise WorkerFailure("sandbox", f"the worker could not start: {hello.get('message')}")
        return hello

    def request(self, message: dict, seconds: float, what: str) -> dict:
        """Send one request and wait at most ``seconds`` for the reply.

        ``what`` names the work in failure messages ("clip_by_norm"). On a timeout, death or
        garbled reply the worker is killed and ``WorkerFailure`` is raised; ``start()`` again.
        """
        if self._process is None:
            raise WorkerFailure("died", "the worker is not running")
        deadline = time.monotonic() + seconds
        try:
            payload = _encode(message)
            view = memoryview(payload)
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([], [self._request_write], [], remaining)[1]:
                    self.kill()
                    raise WorkerFailure("timeout", f"{what} did not return within {seconds:g} s")
                written = os.write(self._request_write, view)
                view = view[written:]
        except (BrokenPipeError, ConnectionResetError):
            raise self._died(what) from None
        return self._receive(deadline - time.monotonic(), what, seconds)

    def _receive(self, seconds: float, what: str, limit: float | None = None) -> dict:
        reader = _DeadlineReader(self._reply_read, time.monotonic() + max(seconds, 0.0))
        try:
            reply = protocol.read_message(reader)
        except TimeoutError:
            self.kill()
            raise WorkerFailure("timeout", f"{what} did not return within {limit or seconds:g} s") from None
        except EOFError:
            raise self._died(what) from None
        except protocol.ProtocolError as error:
            self.kill()
            raise WorkerFailure("protocol", f"the worker sent a garbled answer while running {what} ({error})") from None
        if not isinstance(reply, dict):
            self.kill()
            raise WorkerFailure("protocol", f"the worker sent a garbled answer while running {what}")
        return reply

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
        return WorkerFailure("died", f"{how} while running {what}")

    def output(self) -> str:
        """What the worker printed, cut to ``limits.output_bytes``."""
        if not hasattr(self, "_output") or self._output.closed:
            return ""
        self._output.seek(0)
        data = self._output.read(self.limits.output_bytes + 1)
        text = data[: self.limits.output_bytes].decode("utf-8", "replace")
        return text + ("\n[output truncated]" if len(data) > self.limits.output_bytes else "")

    def kill(self) -> None:
        """SIGKILL the worker's process group; its namespace, if any, dies with it."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for fd_name in ("_request_write", "_reply_read"):
            fd = getattr(self, fd_name, None)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, fd_name, None)

    def close(self) -> None:
        """Kill the worker and remove its temporary files."""
        self.kill()
        if hasattr(self, "_output") and not self._output.closed:
            self._output.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


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


class _DeadlineReader:
    """A file-like ``read(n)`` on a pipe that raises ``TimeoutError`` at the deadline."""

    def __init__(self, fd: int, deadline: float):
        self.fd, self.deadline = fd, deadline

    def read(self, size: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
            raise TimeoutError
        return os.read(self.fd, min(size, 1 << 20))
