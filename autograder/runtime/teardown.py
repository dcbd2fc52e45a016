"""Ending a worker and everything it started, and cleaning up after it.

The pieces that run between ``fork`` and ``exec`` (join the cgroup, drop to the worker's uid,
die with the grader), and the sweeps that the ``uid`` and ``process`` levels need because they
have no namespaces of their own: kill every process of a uid, remove what a uid left in the
machine's shared folders and System V IPC, and remove the private folders of graders that
were killed before they could.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from . import cgroups

PRIVATE_PREFIX = "stability-worker-"


def remove_orphan_folders() -> None:
    """Remove the private folders of graders that were killed before they could clean up
    (each folder is named after the pid of the grader process that made it)."""
    for entry in Path(tempfile.gettempdir()).glob(f"{PRIVATE_PREFIX}*-*"):
        try:
            pid = int(entry.name[len(PRIVATE_PREFIX):].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except (ValueError, PermissionError, OSError):
            continue


PR_SET_PDEATHSIG = 1


def with_parent(group: cgroups.Group | None) -> Callable[[], None]:
    """The child's last steps before exec: join the cgroup, and die with the grader."""
    def preexec() -> None:
        import ctypes

        if group is not None:
            group.join()
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return preexec


CLONE_NEWIPC = 0x08000000


def drop_to(uid: int, group: cgroups.Group | None) -> Callable[[], None]:
    """The child's last steps before exec at the ``uid`` level: join the cgroup, take a private
    System V and POSIX IPC namespace where the machine allows it (so queues and segments die
    with the worker), become ``uid``, and die with the grader (set after the uid change, which
    clears it)."""
    def preexec() -> None:
        import ctypes

        libc = ctypes.CDLL(None)
        if group is not None:
            group.join()
        libc.unshare(CLONE_NEWIPC)  # best effort: sweep_uid removes System V objects otherwise
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return preexec


#: ``keyctl`` system call numbers (libc has no wrapper) by machine, and its operation.
KEYCTL_SYSCALL = {"x86_64": 250, "aarch64": 219}
KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = 7, -4, -5


def kill_uid(uid: int) -> None:
    """SIGKILL every process owned by ``uid``, wherever it went (``setsid`` included): a child
    that becomes ``uid`` and signals -1 reaches exactly those. The same child then empties the
    uid's kernel keyrings."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for _ in range(3):
                os.kill(-1, signal.SIGKILL)
            number = KEYCTL_SYSCALL.get(os.uname().machine)
            if number is not None:
                import ctypes

                libc = ctypes.CDLL(None)
                for keyring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
                    libc.syscall(number, KEYCTL_CLEAR, keyring)
        except OSError:
            pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


#: World-writable folders where a uid can leave files: searched to this depth.
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
SWEEP_DEPTH = 4


def _sweep_folder(folder: str, uid: int, depth: int) -> None:
    """Remove every entry owned by ``uid`` in ``folder``, and look inside the other folders."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            owner = entry.stat(follow_symlinks=False).st_uid
            is_dir = entry.is_dir(follow_symlinks=False)
            if owner == uid:
                if is_dir:
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            elif is_dir and depth > 1:
                _sweep_folder(entry.path, uid, depth - 1)
        except OSError:
            pass


def sweep_uid(uid: int) -> None:
    """Remove what ``uid`` left in the machine's shared folders (files, POSIX message queues)
    and System V IPC: the ``uid`` level has no private ``/tmp`` or IPC namespace."""
    for folder in SHARED_FOLDERS:
        _sweep_folder(folder, uid, SWEEP_DEPTH)
    for kind, flag in (("shm", "-m"), ("sem", "-s"), ("msg", "-q")):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        columns = lines[0].split() if lines else []
        for line in lines[1:]:
            row = dict(zip(columns, line.split()))
            if row.get("uid") == str(uid) and shutil.which("ipcrm"):
                subprocess.run(["ipcrm", flag, row["shmid" if kind == "shm" else "semid" if kind == "sem" else "msqid"]],
                               capture_output=True)
