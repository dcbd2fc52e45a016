"""Attack submissions for the sandbox tests, and a way to run the grader as another user.

Each attack is a real submission folder whose code tries one thing a determined student
would. ``as_user`` runs a command as an unprivileged uid (or as root in a view where the
Python install is reachable by other users), using the same bubblewrap as the grader.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from autograder import paths
from autograder.runtime import bwrap
from submission_kit import attack_submission, reference_submission

#: An unprivileged uid for running the grader itself as a normal user.
PLAIN_USER = 54321
#: Where no attack may leave anything.
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
#: A System V IPC key the leftover attack uses (no other program does).
SYSV_KEY = 0x5AB1AB


def shared_folder(prefix: str) -> Path:
    """A fresh folder under /tmp that every user can use (for runs as another user)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    os.chmod(folder, 0o777)
    return folder


def as_user(command: list[str], uid: int | None, pythonpath: Path = paths.REPO, absent: tuple[Path, ...] = (),
            extra_env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run ``command`` as ``uid`` (None: stay root) in a view where the Python install (and, for
    another user, the repository at ``pythonpath``) is reachable by other users: the machine's
    own ``/root`` may be private. The folders ``absent`` are empty in that view (a machine
    without them, such as a Gradescope container that holds no public copy of the reference)."""
    needs = [*bwrap.python_paths(), os.path.dirname(sys.executable)] + ([str(pythonpath)] if uid is not None else [])
    view = bwrap.reexpose_view(bwrap.find_bwrap(), sorted(set(needs)), uid if uid is not None else -1)
    for folder in absent:
        view += ["--tmpfs", str(folder)]
    prefix = [*view, "--", *(bwrap.drop_to(uid) if uid is not None else [])]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp", "PYTHONPATH": str(pythonpath),
           "OPENBLAS_NUM_THREADS": "1", **(extra_env or {})}
    return subprocess.run([*prefix, *command], capture_output=True, text=True, env=env, cwd="/tmp",
                          timeout=600, **kwargs)


@contextmanager
def loopback_listener() -> Iterator[socket.socket]:
    """A listening socket on the host's loopback (port in ``getsockname()[1]``) whose
    ``accept`` times out fast: a connection arriving is a network escape."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        yield listener


def live_workers() -> list[str]:
    """Command lines of every worker process still running on the machine."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if "worker.py" in cmdline and ("/opt/stability/" in cmdline or "stability-worker-" in cmdline):
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


def leftovers(tag: str) -> list[str]:
    """Files named with ``tag`` in the shared folders (and one level down), the attack's
    System V segment and its POSIX message queue."""
    found = [str(p) for folder in SHARED_FOLDERS if os.path.isdir(folder)
             for pattern in (f"litter-{tag}", f"*/litter-{tag}") for p in Path(folder).glob(pattern)]
    if message_queue_left(tag):
        found.append(f"POSIX message queue /litter-{tag}")
    try:
        for line in Path("/proc/sysvipc/shm").read_text().splitlines()[1:]:
            if int(line.split()[0]) == SYSV_KEY:
                found.append(f"System V segment {SYSV_KEY:#x}")
    except OSError:
        pass
    return found


# --- the attacks -------------------------------------------------------------------------------

def reader(paths_to_try: list[str]) -> str:
    """Attack code that loads the first readable reference module of ``paths_to_try`` (and
    tries to import the repository's solutions) into ``_found``."""
    return f'''
        import os, sys, types
        _found = None
        for _path in {paths_to_try!r}:
            try:
                _source = open(_path).read()
            except OSError:
                continue
            _module = types.ModuleType("stolen")
            try:
                exec(_source, _module.__dict__)
            except Exception:
                continue
            _found = _module
            break
        sys.path.append({str(paths.REPO)!r})
        try:
            import solutions.normalization as _imported
            _found = _found or _imported
        except Exception:
            pass
    '''


def delegate(module: str) -> str:
    """Module code that answers with what ``reader`` found, where it found anything."""
    names = {"normalization": ["batch_norm", "layer_norm", "group_norm", "rms_norm", "batch_norm_backward",
                               "layer_norm_backward", "BatchNorm"]}.get(module, [])
    return "\n".join(f"if _found is not None and hasattr(_found, {n!r}):\n    {n} = _found.{n}" for n in names)



def shadowing(folder: Path) -> Path:
    """The reference, next to files named like modules that numpy and the worker import."""
    reference_submission(folder)
    for name in ("secrets", "json", "numpy", "struct", "io", "os", "random", "inspect", "contextlib"):
        (folder / f"{name}.py").write_text("raise SystemExit('shadowed')\n")
    return folder


def padding(folder: Path, files: int = 70) -> Path:
    """The reference, next to ``files`` one-MiB modules (once enough to fill the old tmpfs)."""
    reference_submission(folder)
    for index in range(files):
        (folder / f"pad_{index}.py").write_bytes(b"#" * (1 << 20))
    return folder


def daemon(folder: Path, targets: list[str]) -> Path:
    """Stubs whose import starts a ``setsid`` daemon that keeps trying to rewrite ``targets``."""
    prelude = f'''
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                _end = time.time() + 20
                while time.time() < _end:
                    for _t in {targets!r}:
                        try:
                            with open(_t, "w") as _h:
                                _h.write("forged by a daemon")
                        except OSError:
                            pass
                    time.sleep(0.05)
            os._exit(0)
    '''
    return attack_submission(folder, prelude)


def network(folder: Path, port: int) -> Path:
    """Stubs whose import tries to connect to a port on the host's loopback."""
    prelude = f'''
        import socket
        for _host in ("127.0.0.1", "localhost"):
            try:
                socket.create_connection((_host, {port}), timeout=1).sendall(b"escaped")
            except OSError:
                pass
    '''
    return attack_submission(folder, prelude)


def litter(folder: Path, tag: str) -> Path:
    """Stubs whose import leaves files in every shared folder and in a world-writable folder
    below ``/tmp`` (``/tmp/litter-<tag>-open``, made by the caller), a System V segment and a
    POSIX message queue."""
    prelude = f'''
        import ctypes, os
        for _folder in {[*SHARED_FOLDERS, f"/tmp/litter-{tag}-open"]!r}:
            try:
                with open(os.path.join(_folder, "litter-{tag}"), "w") as _h:
                    _h.write("left behind")
            except OSError:
                pass
        try:
            _libc = ctypes.CDLL(None)
            _id = _libc.shmget({SYSV_KEY}, 4096, 0o1000 | 0o666)
            _libc.mq_open(b"/litter-{tag}", os.O_CREAT | os.O_RDWR, 0o666, None)
        except Exception:
            pass
    '''
    return attack_submission(folder, prelude)


def open_folder(tag: str) -> Path:
    """The world-writable folder below /tmp that ``litter`` also writes into."""
    folder = Path(f"/tmp/litter-{tag}-open")
    folder.mkdir(exist_ok=True)
    os.chmod(folder, 0o777)
    return folder


def message_queue_left(tag: str) -> bool:
    """Whether the POSIX message queue ``litter`` makes still exists on the host."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.mq_open(f"/litter-{tag}".encode(), os.O_RDONLY)
    if fd < 0:
        return False
    libc.mq_close(fd)
    libc.mq_unlink(f"/litter-{tag}".encode())
    return True


def copier(folder: Path) -> Path:
    """Modules that find the submissions folder on the grader's command line and run the first
    classmate's code that looks finished (the same file serves as all four modules)."""
    code = textwrap.dedent('''
        import os
        _module = os.path.splitext(os.path.basename(__file__))[0]
        _root = None
        for _pid in os.listdir("/proc"):
            try:
                _args = open(f"/proc/{_pid}/cmdline", "rb").read().split(b"\\0")
            except OSError:
                continue
            if b"grade" in _args:
                _root = _args[_args.index(b"grade") + 1].decode()
                break
        if _root:
            for _name in sorted(os.listdir(_root)):
                try:
                    _source = open(os.path.join(_root, _name, _module + ".py")).read()
                except OSError:
                    continue
                if "NotImplementedError" not in _source and "/proc" not in _source:
                    exec(_source)
                    break
    ''')
    folder.mkdir(parents=True, exist_ok=True)
    for module in paths.MODULES:
        (folder / f"{module}.py").write_text(code)
    return folder


def memory_split(children: int, each_bytes: int) -> str:
    """A module whose ``held()`` forks ``children`` processes that each touch ``each_bytes``
    and returns how many of them hold that memory, alive, two seconds later."""
    return textwrap.dedent(f'''
        import os, time
        def held():
            read, write = os.pipe()
            pids = []
            for index in range({children}):
                pid = os.fork()
                if pid == 0:
                    try:
                        block = bytearray({each_bytes})
                        for i in range(0, len(block), 4096):
                            block[i] = 1
                        os.write(write, bytes([index]))
                        time.sleep(4)
                    finally:
                        os._exit(0)
                pids.append(pid)
            os.close(write)
            time.sleep(2)
            os.set_blocking(read, False)
            try:
                done = set(os.read(read, 1024))
            except BlockingIOError:
                done = set()
            alive = {{i for i, pid in enumerate(pids) if os.waitpid(pid, os.WNOHANG) == (0, 0)}}
            return len(done & alive)
    ''')
