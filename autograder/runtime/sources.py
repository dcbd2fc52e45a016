"""Read a submission's modules as plain text, safely, before any of its code runs.

Only the contract modules are read; nothing else of a submission folder ever reaches the
worker. Each file must be a regular file (not a link, a hard link, a pipe or a device), at most
``MAX_SOURCE_BYTES``, and strict UTF-8 (a coding declaration for anything else is refused).
Each refusal is a plain message that costs the student that module, and nothing is truncated.

When the grader runs as root, the files are opened with an unprivileged effective uid, so a
submission cannot make the grader read a file that its author could not.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "clipping.py").write_text("x = 1\\n")
>>> found = read_folder(folder, ["clipping", "schedules"])
>>> found.files, found.problems["schedules"]
({'clipping.py': 'x = 1\\n'}, 'schedules.py is missing from the submission')
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

#: Largest module accepted, in bytes. The reference modules are under 20 KB.
MAX_SOURCE_BYTES = 256 * 1024
#: The uid (and gid) that reads submissions when the grader is root: the kernel's overflow
#: user, which owns nothing and is in no group.
READER_UID = 65534
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


@dataclass
class Sources:
    """A submission's modules: ``files`` maps ``<module>.py`` to its text; ``problems`` maps
    a module that cannot be graded to the reason."""

    files: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def check_text(name: str, data: bytes) -> str:
    """``data`` as text, or ``ValueError`` with a message for the student."""
    for line in data.splitlines()[:2]:
        match = _CODING.match(line)
        if match and match.group(1).decode("ascii", "replace").lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise ValueError(f"{name} declares the encoding {match.group(1).decode('ascii', 'replace')}; "
                             "save it as UTF-8 and remove the coding line")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{name} is not valid UTF-8 (byte {error.start}); save it as UTF-8") from None


def open_checked(path: Path, name: str, limit: int = MAX_SOURCE_BYTES) -> int:
    """A descriptor to read ``path`` from, after refusing links, special files and size
    (``limit`` bytes: a notebook, with its outputs, may be larger than its code).

    As root, the file is found with a path handle (nothing read yet), checked, and only then
    opened for reading through that handle with an unprivileged user's effective ids. Elsewhere
    the grader's rights are the student's, and the file is opened without following a link
    and without waiting on a pipe."""
    as_root = os.geteuid() == 0 and hasattr(os, "O_PATH")
    flags = os.O_PATH | os.O_NOFOLLOW if as_root else os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if os.path.islink(path):
            raise ValueError(f"{name} is a symbolic link; submit the file itself") from None
        raise ValueError(f"{name} cannot be read ({error.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISLNK(info.st_mode):
            raise ValueError(f"{name} is a symbolic link; submit the file itself")
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{name} is not a regular file")
        if info.st_nlink > 1:
            raise ValueError(f"{name} is a hard link to another file; submit a copy of the file itself")
        if info.st_size > limit:
            raise ValueError(f"{name} is {info.st_size:,} bytes; the limit is {limit:,}")
        if not as_root:
            return fd
        os.setegid(READER_UID)
        os.seteuid(READER_UID)
        try:
            return os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError as error:
            raise ValueError(f"{name} cannot be read ({error.strerror})") from None
        finally:
            os.seteuid(0)
            os.setegid(0)
    except BaseException:
        if not as_root:
            os.close(fd)
        raise
    finally:
        if as_root:
            os.close(fd)  # the path handle; the descriptor returned is another one


def read_file(path: Path, name: str) -> str:
    """One module's text; ``ValueError`` with a plain message when it cannot be accepted."""
    with os.fdopen(open_checked(Path(path), name), "rb") as handle:
        data = handle.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise ValueError(f"{name} is larger than the limit of {MAX_SOURCE_BYTES:,} bytes")
    return check_text(name, data)


def read_paths(found: Mapping[str, Path], modules: Sequence[str]) -> Sources:
    """Read ``found`` (module -> file); every module of ``modules`` not in it is missing."""
    sources = Sources()
    for module in modules:
        name = f"{module}.py"
        if module not in found:
            sources.problems[module] = f"{name} is missing from the submission"
            continue
        try:
            sources.files[name] = read_file(Path(found[module]), name)
        except ValueError as error:
            sources.problems[module] = str(error)
    return sources


def read_folder(folder: Path, modules: Sequence[str]) -> Sources:
    """Read ``<module>.py`` for each module at the top of ``folder``."""
    folder = Path(folder)
    found = {m: folder / f"{m}.py" for m in modules if os.path.lexists(folder / f"{m}.py")}
    return read_paths(found, modules)


def encodes_utf8(text: str) -> bool:
    """Whether ``text`` is valid UTF-8 text (no lone surrogates, e.g. from a file name)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def from_texts(texts: Mapping[str, str], modules: Sequence[str]) -> Sources:
    """Sources that are already text (a notebook's code cells), with the same size rule."""
    sources = Sources()
    for module in modules:
        name = f"{module}.py"
        if module not in texts:
            sources.problems[module] = f"{name} is missing from the submission"
        elif not encodes_utf8(texts[module]):
            sources.problems[module] = f"{name} holds text that is not valid UTF-8 (a lone surrogate)"
        elif len(texts[module].encode("utf-8")) > MAX_SOURCE_BYTES:
            sources.problems[module] = f"{name} is larger than the limit of {MAX_SOURCE_BYTES:,} bytes"
        else:
            sources.files[name] = texts[module]
    return sources
