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


def drop_to(uid: int, group: cgroups.Group | None) -> Callable[[], None]:
    """The child's last steps before exec at the ``uid`` level: join the cgroup, become ``uid``,
    and die with the grader (set after the uid change, which clears it)."""
    def preexec() -> None:
        import ctypes

        if group is not None:
            group.join()
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return preexec


def kill_uid(uid: int) -> None:
    """SIGKILL every process owned by ``uid``, wherever it went (``setsid`` included): a child
    that becomes ``uid`` and signals -1 reaches exactly those."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for _ in range(3):
                os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")


def sweep_uid(uid: int) -> None:
    """Remove what ``uid`` left in the machine's shared folders and System V IPC (the ``uid``
    level has no private ``/tmp`` or IPC namespace)."""
    for folder in SHARED_FOLDERS:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass
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
