"""Find the ``# BEGIN SOLUTION`` / ``# END SOLUTION`` regions of a reference solution.

A region is a run of lines that a student must write. Regions may not nest, every BEGIN needs
an END, and each region sits inside a function, whose qualified name (``BatchNorm.__call__``)
names the exercise.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION[ \t]*$")
END = re.compile(r"^[ \t]*# END SOLUTION[ \t]*$")


class MarkerError(ValueError):
    """A solution file whose markers are unbalanced, nested or outside a function."""


@dataclass(frozen=True)
class Region:
    """Lines ``begin`` .. ``end`` (0-based, inclusive, the marker lines themselves)."""

    begin: int
    end: int
    indent: str
    exercise: str


def _function_spans(source: str) -> list[tuple[int, int, str]]:
    """``(first_line, last_line, qualified_name)`` (0-based) of every function in ``source``."""
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                spans.append((child.lineno - 1, child.end_lineno - 1, name))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")

    visit(ast.parse(source), "")
    return spans


def find_regions(source: str, filename: str = "<source>") -> list[Region]:
    """The solution regions of ``source``, in order.

    Raises ``MarkerError`` naming the file and line of an unbalanced, nested or stray marker.

    >>> src = "def f():\\n    # BEGIN SOLUTION\\n    return 1\\n    # END SOLUTION\\n"
    >>> find_regions(src)
    [Region(begin=1, end=3, indent='    ', exercise='f')]
    """
    lines = source.splitlines()
    regions: list[Region] = []
    open_at: int | None = None
    indent = ""
    for number, line in enumerate(lines):
        begin = BEGIN.match(line)
        if begin:
            if open_at is not None:
                raise MarkerError(f"{filename}:{number + 1}: nested '# BEGIN SOLUTION' "
                                  f"(the region opened at line {open_at + 1} is not closed)")
            open_at, indent = number, begin.group("indent")
        elif END.match(line):
            if open_at is None:
                raise MarkerError(f"{filename}:{number + 1}: '# END SOLUTION' without a "
                                  "matching '# BEGIN SOLUTION'")
            regions.append(Region(open_at, number, indent, ""))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{filename}:{open_at + 1}: '# BEGIN SOLUTION' is never closed "
                          "by '# END SOLUTION'")
    spans = _function_spans(source)
    named = []
    for region in regions:
        enclosing = [s for s in spans if s[0] < region.begin <= s[1]]
        if not enclosing:
            raise MarkerError(f"{filename}:{region.begin + 1}: a solution region must sit "
                              "inside a function")
        innermost = max(enclosing, key=lambda s: s[0])
        named.append(Region(region.begin, region.end, region.indent, innermost[2]))
    return named
