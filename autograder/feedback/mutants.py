"""Mutants: the reference solutions with one catalogued mistake patched in.

A mutant is both a detector (the student's output matches the mutant's on the same inputs)
and a test submission (every mutant must lose points on its function and no other).
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path
from types import ModuleType

from .. import paths
from .catalogue import Mistake, by_name
from ..suite.weights import module_of


class PatchError(ValueError):
    """A catalogue patch that does not apply to the reference solution."""


def _block(source: str, name: str) -> tuple[int, int]:
    """Character offsets of the top-level def or class ``name`` in ``source``."""
    lines = source.splitlines(keepends=True)
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            start = sum(len(line) for line in lines[: node.lineno - 1])
            end = sum(len(line) for line in lines[: node.end_lineno])
            return start, end
    raise PatchError(f"no top-level {name} in the reference")


def mutated_source(mistake: Mistake, source: str | None = None) -> str:
    """The reference module's source with ``mistake``'s replacements made inside its function."""
    module = module_of(mistake.function)
    source = source if source is not None else (paths.SOLUTIONS / f"{module}.py").read_text()
    start, end = _block(source, mistake.function)
    block = source[start:end]
    for old, new in mistake.patch:
        count = block.count(old)
        if count == 0:
            raise PatchError(f"{mistake.name}: {old!r} is not in {mistake.function}")
        block = block.replace(old, new)
    return source[:start] + block + source[end:]


@functools.lru_cache(maxsize=None)
def load_mutant(name: str) -> ModuleType:
    """The mutated module for the mistake called ``name`` (imported once, trusted code)."""
    mistake = by_name(name)
    module = ModuleType(f"_mutant_{name}")
    module.__file__ = f"<mutant {name}>"
    exec(compile(mutated_source(mistake), module.__file__, "exec"), module.__dict__)  # noqa: S102 - our own code
    return module


def write_mutant_submission(folder: Path, mistake: Mistake) -> Path:
    """A submission folder: every reference module, with ``mistake`` patched into its own."""
    folder.mkdir(parents=True, exist_ok=True)
    for module in paths.MODULES:
        source = (paths.SOLUTIONS / f"{module}.py").read_text()
        if module == module_of(mistake.function):
            source = mutated_source(mistake, source)
        (folder / f"{module}.py").write_text(source)
    return folder
