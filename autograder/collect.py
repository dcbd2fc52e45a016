"""Find the submissions in a folder, and the exercise modules in a submission.

One rule, used by ``grade``, ``gradescope-run`` and the nbgrader path alike:

* A class folder holds one sub-folder per student. Files and dot-entries at its top are
  ignored; sub-folders that are symbolic links, or whose names are not UTF-8, are *reported*
  (never graded, never silently dropped).
* A submission is a folder whose modules (``normalization``, ``initialization``, ``clipping``,
  ``schedules``) sit at its top or in a nested folder (``exercises/``, a repository clone, an
  upload folder). Each module is a ``.py`` file, or a notebook read from its code cells: one
  named after the module (the generated nbgrader notebooks), or any ``.ipynb`` that defines
  the module's functions. Names are matched case-insensitively, with a note. The shallowest
  copy wins; two copies at the same depth are an error naming both.

Everything here reads text only: no student code is imported or executed in this process.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .runtime.sources import Sources, encodes_utf8

#: How deep below a submission folder modules are looked for (``upload/repo/exercises`` is 3).
MAX_DEPTH = 3
#: Folders never searched: tool caches and checkpoints hold stale copies of the modules.
SKIPPED_FOLDERS = {"__pycache__", "node_modules", "site-packages", "venv"}
#: A notebook file (with its outputs and images) may be at most this long; the code read from
#: it obeys the runtime's limit on a module's size.
MAX_NOTEBOOK_BYTES = 16 << 20
SUFFIXES = (".py", ".ipynb")
EXPECTED = ("one folder per student holding " + ", ".join(f"{m}.py" for m in paths.MODULES)
            + " (or notebooks), at its top or in one nested folder such as exercises/")


class SubmissionsError(Exception):
    """The submissions folder itself cannot be used (missing, not a folder, unreadable, empty)."""


@dataclass
class ClassListing:
    """The sub-folders of a class folder: those to grade, and those reported instead."""

    folders: list[Path] = field(default_factory=list)
    #: Entries that look like submissions but cannot be graded: display name -> reason.
    reported: dict[str, str] = field(default_factory=dict)
    #: Names of the files at the top (for saying what was seen when nothing was found).
    files: list[str] = field(default_factory=list)


@dataclass
class Layout:
    """Where a submission's modules are, and what the grader should say about them."""

    #: module -> the file it is read from (a ``.py`` or an ``.ipynb``).
    sources: dict[str, Path] = field(default_factory=dict)
    #: module -> why it cannot be read (two candidates, too large, not UTF-8, ...).
    problems: dict[str, str] = field(default_factory=dict)
    #: Notes for the student and the summary ("found Clipping.py: ...").
    notes: list[str] = field(default_factory=list)


def display_name(raw: str) -> str:
    """A printable form of a file name that may hold undecodable bytes."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def check_folder(folder: Path) -> None:
    """Raise ``SubmissionsError`` unless ``folder`` is an existing, readable folder."""
    if not folder.exists():
        raise SubmissionsError(f"{folder} does not exist")
    if not folder.is_dir():
        raise SubmissionsError(f"{folder} is not a folder")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise SubmissionsError(f"{folder} cannot be read (permission denied)")


def list_class(folder: Path, exclude: tuple[Path, ...] = ()) -> ClassListing:
    """The student folders of a class folder, in name order, without dot-entries and
    ``exclude`` (and anything inside an excluded folder); links and bad names are reported."""
    folder = Path(folder)
    check_folder(folder)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as error:
        raise SubmissionsError(f"{folder} cannot be read ({error.strerror})") from None
    excluded = [p.resolve() for p in exclude]
    listing = ClassListing()
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith(".") or any(_within(path, e) for e in excluded):
            continue
        if not encodes_utf8(entry.name):
            if entry.is_dir(follow_symlinks=False):
                listing.reported[display_name(entry.name)] = "the folder name is not valid UTF-8; rename it"
        elif entry.is_symlink():
            if not os.path.isfile(path):  # a link to a folder, or to nothing
                listing.reported[entry.name] = "a symbolic link, not a folder: copy the submission in instead"
        elif entry.is_dir(follow_symlinks=False):
            listing.folders.append(path)
        else:
            listing.files.append(entry.name)
    return listing


def _within(path: Path, folder: Path) -> bool:
    resolved = path.resolve()
    return resolved == folder or folder in resolved.parents


# --- the files of one submission -------------------------------------------------------------

@dataclass
class _Candidate:
    path: Path
    depth: int


def _walk(folder: Path) -> list[_Candidate]:
    """Every ``.py`` and ``.ipynb`` file up to ``MAX_DEPTH`` below ``folder``, without
    following links or entering dot-folders and caches."""
    found: list[_Candidate] = []
    stack = [(folder, 0)]
    while stack:
        current, depth = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or not encodes_utf8(entry.name):
                continue
            named = bool(module_of_name(Path(entry.name))) and entry.name.lower().endswith(SUFFIXES)
            if entry.is_symlink() or (named and not entry.is_file(follow_symlinks=False)):
                if named:  # never followed or entered: kept, to be refused by name ("a link", "not a file")
                    found.append(_Candidate(Path(entry.path), depth))
                continue
            if entry.is_dir(follow_symlinks=False):
                if depth < MAX_DEPTH and entry.name not in SKIPPED_FOLDERS:
                    stack.append((Path(entry.path), depth + 1))
            elif entry.is_file(follow_symlinks=False) and entry.name.lower().endswith(SUFFIXES):
                found.append(_Candidate(Path(entry.path), depth))
    return found


def module_of_name(path: Path) -> str | None:
    """The module a file is named after (any case, ``.py`` or ``.ipynb``), or None."""
    stem = path.name.rsplit(".", 1)[0].lower()
    return stem if stem in paths.MODULES else None


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def find_layout(folder: Path) -> Layout:
    """Where each module of the submission in ``folder`` is (see the module docstring)."""
    folder = Path(folder)
    layout = Layout()
    candidates = _walk(folder)
    by_name: dict[str, list[_Candidate]] = {}
    notebooks = []
    for candidate in candidates:
        module = module_of_name(candidate.path)
        if module:
            by_name.setdefault(module, []).append(candidate)
        elif candidate.path.name.lower().endswith(".ipynb"):
            notebooks.append(candidate)
    for module in paths.MODULES:
        if module in by_name:
            _choose(layout, folder, module, by_name[module])
    missing = [m for m in paths.MODULES if m not in by_name]
    if missing and notebooks:
        _match_notebooks(layout, folder, missing, notebooks)
    return layout


def _choose(layout: Layout, folder: Path, module: str, candidates: list[_Candidate]) -> None:
    """Pick the shallowest candidate; two at that depth are an error naming both."""
    shallowest = min(c.depth for c in candidates)
    top = sorted((c for c in candidates if c.depth == shallowest), key=lambda c: str(c.path))
    if len(top) > 1:
        names = " and ".join(f"`{_relative(c.path, folder)}`" for c in top)
        layout.problems[module] = f"two candidates for {module}.py: {names}; keep only one"
        return
    chosen = top[0].path
    layout.sources[module] = chosen
    relative = _relative(chosen, folder)
    if chosen.name.lower().endswith(".ipynb"):
        layout.notes.append(f"found `{relative}`: read from its code cells, graded as {module}.py")
    elif chosen.name != f"{module}.py":
        layout.notes.append(f"found `{relative}`: names are case-sensitive, graded as {module}.py")


def _match_notebooks(layout: Layout, folder: Path, missing: list[str], notebooks: list[_Candidate]) -> None:
    """Modules still missing, taken from any notebook that defines their functions."""
    from .suite.weights import WEIGHTS, module_of

    defined = {c.path: _defined_names(c.path) for c in notebooks}
    for module in missing:
        functions = {f for f in WEIGHTS if module_of(f) == module}
        hits = sorted((c for c in notebooks if functions & defined[c.path]), key=lambda c: (c.depth, str(c.path)))
        if not hits:
            continue
        shallowest = [c for c in hits if c.depth == hits[0].depth]
        if len(shallowest) > 1:
            names = " and ".join(f"`{_relative(c.path, folder)}`" for c in shallowest)
            layout.problems[module] = f"two notebooks define the functions of {module}.py: {names}; keep only one"
            continue
        layout.sources[module] = shallowest[0].path
        layout.notes.append(f"found the functions of {module}.py in `{_relative(shallowest[0].path, folder)}`: "
                            f"read from its code cells")


def _defined_names(path: Path) -> set[str]:
    """The top-level functions and classes a notebook's code defines (parsed, not run). Code
    over the module size limit is not parsed: it could not be graded anyway."""
    from .runtime.sources import MAX_SOURCE_BYTES

    try:
        source = notebook_source(read_notebook(path))
        if len(source) > MAX_SOURCE_BYTES:
            return set()
        tree = ast.parse(source)
    except (OSError, ValueError, SyntaxError, RecursionError, MemoryError, SourceError, AttributeError,
            TypeError):
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


# --- turning the chosen files into module sources --------------------------------------------

class SourceError(Exception):
    """A chosen notebook cannot be turned into a module (too large, not UTF-8, not JSON)."""


def _read_limited(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of its own (no link, no hard link, no special file), opened
    the way the runtime opens modules: with the student's rights when the grader is root."""
    from .runtime.sources import open_checked  # one way to open a student's file

    try:
        fd = open_checked(path, f"`{path.name}`", limit)
    except ValueError as error:
        raise SourceError(str(error)) from None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise SourceError(f"`{path.name}` is larger than {limit:,} bytes")
    return data


def read_notebook(path: Path) -> dict:
    """A notebook file as plain JSON (nothing in it is run)."""
    data = _read_limited(path, MAX_NOTEBOOK_BYTES)
    try:
        book = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SourceError(f"`{path.name}` is not a readable notebook (JSON in UTF-8)") from None
    if not isinstance(book, dict) or not isinstance(book.get("cells"), list):
        raise SourceError(f"`{path.name}` is not a readable notebook (it has no cells)")
    return book


def _cell_text(cell) -> str:
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    return "".join(map(str, source)) if isinstance(source, list) else str(source)


def _is_graded_test(cell: dict) -> bool:
    """Whether a cell is one of nbgrader's graded test cells (whatever shape its metadata has)."""
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return isinstance(nbgrader, dict) and bool(nbgrader.get("grade"))


def notebook_source(notebook) -> str:
    """The Python module a notebook defines: every code cell but nbgrader's graded test cells,
    with IPython magics and shell escapes commented out, and ``from __future__`` imports (legal
    atop a cell) moved to the top. ``notebook`` is a dict or an ``nbformat`` node."""
    parts, futures = [], []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code" or _is_graded_test(cell):
            continue
        lines = []
        for line in _cell_text(cell).splitlines():
            if line.lstrip().startswith(("%", "!")):
                line = f"# {line}"
            elif line.startswith("from __future__ import"):
                futures.append(line)
                line = f"# {line}"
            lines.append(line)
        parts.append("\n".join(lines))
    head = "".join(f"{line}\n" for line in dict.fromkeys(futures))
    return head + "\n\n".join(parts) + "\n"


@dataclass
class Staged:
    """A submission ready to grade: its modules as ``Sources`` (``<module>.py`` -> text, and a
    reason for each module that cannot be graded), and the notes on where they were found."""

    sources: Sources
    notes: list[str]
    #: Modules that were found but refused (two candidates, unreadable, too large, ...).
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def gradable(self) -> bool:
        return bool(self.sources.files)

    def digest(self) -> str:
        """A digest of exactly what is graded (and of the reasons given instead)."""
        digest = hashlib.sha256()
        for module in paths.MODULES:
            text = self.sources.files.get(f"{module}.py")
            if text is not None:
                data = text.encode("utf-8", "surrogatepass")
                digest.update(f"{module}.py\0{len(data)}\0".encode() + data)
            else:
                digest.update(f"{module}!\0{self.sources.problems.get(module, '')}\0".encode())
        return digest.hexdigest()


def stage_layout(layout: Layout) -> Staged:
    """Read the files ``layout`` chose as module sources (text only, never run): ``.py`` files
    by the runtime's safe reader, notebooks from their code cells."""
    from .runtime.sources import from_texts, read_paths

    python = {m: p for m, p in layout.sources.items() if not p.name.lower().endswith(".ipynb")}
    sources = read_paths(python, [m for m in paths.MODULES if m in python])
    texts, problems = {}, {}
    for module, path in layout.sources.items():
        if module not in python:
            try:
                texts[module] = notebook_source(read_notebook(path))
            except SourceError as error:
                problems[module] = str(error)
    from_notebooks = from_texts(texts, list(texts))
    sources.files.update(from_notebooks.files)
    sources.problems.update(from_notebooks.problems)
    sources.problems.update(problems)
    sources.problems.update(layout.problems)
    refused = {m: sources.problems[m] for m in paths.MODULES if m in sources.problems}
    for module in paths.MODULES:
        if f"{module}.py" not in sources.files and module not in sources.problems:
            sources.problems[module] = f"{module}.py is missing from the submission"
    return Staged(sources, list(layout.notes), refused)


def read_submission(folder: Path) -> Staged:
    """Find and read the modules of the submission in ``folder``. Whatever its files make the
    reading raise costs this submission only, with a plain reason: never the class's run."""
    try:
        return stage_layout(find_layout(folder))
    except Exception as error:  # noqa: BLE001 - a crafted file must not stop the class
        reason = f"the submission's files could not be read ({type(error).__name__}: {str(error)[:200]})"
        problems = {module: reason for module in paths.MODULES}
        return Staged(Sources(problems=dict(problems)), [], problems)


def no_module_reason(folder: Path, staged: Staged) -> str:
    """Why nothing could be graded in ``folder``: its refusals, or what it holds instead."""
    if staged.refused:
        return "; ".join(staged.refused.values())
    return f"no exercise module found; {describe_contents(folder)}"


def describe_contents(folder: Path, limit: int = 6) -> str:
    """A short account of what a folder holds, for error messages."""
    try:
        names = sorted(display_name(n) + ("/" if os.path.isdir(os.path.join(folder, n)) else "")
                       for n in os.listdir(folder))
    except OSError as error:
        return f"it could not be read ({error.strerror})"
    if not names:
        return "it is empty"
    shown = ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
    return f"it holds {shown}"
