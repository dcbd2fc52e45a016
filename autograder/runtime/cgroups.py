"""A cgroup per submission: memory and process count bounded for all its processes together.

Works where the grader may create cgroups (root, on cgroup v1 or v2); elsewhere ``create``
returns None and the caller reports that only per-process limits were in force. The worker is
placed in the group before it executes anything (``join`` runs in the child between fork and
exec), so every process the submission ever starts is counted.

v1 (``/sys/fs/cgroup/memory``, ``/sys/fs/cgroup/pids``): a child of the grader's own groups.
v2 (``/sys/fs/cgroup`` unified): a child of ``/sys/fs/cgroup/stability-lab``, a group of its
own at the top level, since a v2 group with processes cannot hand controllers to children.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


@dataclass
class Group:
    """One submission's cgroup: the folders to write a pid into, and how to read its usage."""

    folders: list[Path]
    version: int

    def join(self) -> None:
        """Move the calling process into the group (call in the child, before exec)."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text("0")

    def pids(self) -> set[int]:
        found: set[int] = set()
        for folder in self.folders:
            try:
                found |= {int(line) for line in (folder / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                pass
        return found

    def peak_memory(self) -> int | None:
        """The most memory the group held at once, in bytes, where the kernel reports it."""
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        for folder in self.folders:
            try:
                return int((folder / name).read_text())
            except (OSError, ValueError):
                continue
        return None

    def kill_all(self, seconds: float = 5.0) -> None:
        """SIGKILL every process in the group until it is empty (a fork racing the kill is
        caught on the next pass), then remove the group."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.005)
        self.remove()

    def remove(self) -> None:
        for folder in self.folders:
            for _ in range(200):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.005)  # the last processes are still being reaped


def _own_v1_group(controller: str) -> Path | None:
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return ROOT / controller / path.lstrip("/")
    except OSError:
        pass
    return None


def _write(path: Path, value: str) -> None:
    path.write_text(value)


PREFIX = "stability-"


def group_name(uid: int) -> str:
    """A new group's name: it carries the grader's pid, so orphans can be recognised."""
    return f"{PREFIX}{os.getpid()}-{uid}-{time.monotonic_ns()}"


def _remove_orphans(parent: Path, version: int) -> None:
    """Kill what is left in the groups of graders that were killed before cleaning up, and
    remove those groups."""
    for folder in parent.glob(f"{PREFIX}*-*-*"):
        try:
            os.kill(int(folder.name[len(PREFIX):].split("-")[0]), 0)
        except ProcessLookupError:
            Group([folder], version).kill_all(seconds=1.0)
        except (ValueError, OSError):
            continue


def create(name: str, memory_bytes: int, processes: int) -> Group | None:
    """A new group bounding memory (swap included where the kernel accounts it) and process
    count, or None where this machine does not let the grader make one."""
    if os.geteuid() != 0 or not ROOT.is_dir():
        return None
    try:
        if (ROOT / "memory").is_dir() and (ROOT / "pids").is_dir():
            memory, pids = _own_v1_group("memory"), _own_v1_group("pids")
            if memory is None or pids is None:
                return None
            _remove_orphans(memory, 1)
            _remove_orphans(pids, 1)
            group = Group([memory / name, pids / name], 1)
            try:
                for folder in group.folders:
                    folder.mkdir()
                _write(group.folders[0] / "memory.limit_in_bytes", str(memory_bytes))
                swap = group.folders[0] / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    _write(swap, str(memory_bytes))
                _write(group.folders[1] / "pids.max", str(processes))
            except OSError:
                group.remove()
                raise
            return group
        if (ROOT / "cgroup.controllers").exists():
            parent = ROOT / "stability-lab"
            parent.mkdir(exist_ok=True)
            _write(ROOT / "cgroup.subtree_control", "+memory +pids")
            _write(parent / "cgroup.subtree_control", "+memory +pids")
            _remove_orphans(parent, 2)
            group = Group([parent / name], 2)
            try:
                group.folders[0].mkdir()
                _write(group.folders[0] / "memory.max", str(memory_bytes))
                if (group.folders[0] / "memory.swap.max").exists():
                    _write(group.folders[0] / "memory.swap.max", "0")
                _write(group.folders[0] / "pids.max", str(processes))
            except OSError:
                group.remove()
                raise
            return group
    except OSError:
        return None
    return None
