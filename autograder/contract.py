"""Read ``docs/contract.md`` and compare a folder of exercise modules with it.

The contract's signature headings (``### `name(params)` `` and ``### `class Name(params)` ``,
with ``- method `name(params)` `` lines for a class's methods) are parsed with :mod:`ast`, and
so are the modules: nothing is imported, so a folder of untrusted code can be checked too.
Its ``pycon`` blocks are doctests (:func:`contract_examples`).
"""
from __future__ import annotations

import ast
import doctest
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import paths

CONTRACT = paths.REPO / "docs" / "contract.md"

_MODULE = re.compile(r"^## `(\w+)\.py`\s*$")
_ENTRY = re.compile(r"^### `(class )?(\w+)\((.*)\)`\s*$")
_METHOD = re.compile(r"^- method `(\w+)\((.*?)\)`")
_EXAMPLES = re.compile(r"^```pycon\n(.*?)^```", re.S | re.M)

#: A parameter: (name, kind, default) with kind "positional" or "keyword", and default the
#: literal value, or ``REQUIRED``.
REQUIRED = object()


class ContractError(ValueError):
    """The contract document itself cannot be read (a heading that is not a signature)."""


@dataclass
class Entry:
    """One graded function or class of the contract."""

    module: str
    name: str
    params: list[tuple[str, str, object]]
    is_class: bool = False
    methods: dict[str, list[tuple[str, str, object]]] = field(default_factory=dict)


def _params(arguments: ast.arguments, skip_self: bool = False) -> list[tuple[str, str, object]]:
    """The parameters of a parsed signature, defaults as literal values."""
    positional = arguments.posonlyargs + arguments.args
    defaults: list[object] = [REQUIRED] * (len(positional) - len(arguments.defaults))
    defaults += [ast.literal_eval(d) for d in arguments.defaults]
    out = [(a.arg, "positional", d) for a, d in zip(positional, defaults)]
    out += [(a.arg, "keyword", REQUIRED if d is None else ast.literal_eval(d))
            for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults)]
    if arguments.vararg:
        out.append(("*" + arguments.vararg.arg, "var", REQUIRED))
    if arguments.kwarg:
        out.append(("**" + arguments.kwarg.arg, "var", REQUIRED))
    return out[1:] if skip_self else out


def _parse_signature(name: str, text: str, where: str) -> list[tuple[str, str, object]]:
    try:
        tree = ast.parse(f"def {name}({text}): pass").body[0]
        return _params(tree.args)
    except (SyntaxError, ValueError) as error:
        raise ContractError(f"{where}: `{name}({text})` is not a Python signature ({error})") from None


def read_contract(path: Path = CONTRACT) -> list[Entry]:
    """Every graded entry of the contract document, in the document's order."""
    entries: list[Entry] = []
    module = None
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        where = f"{path}:{number}"
        if match := _MODULE.match(line):
            module = match.group(1)
        elif line.startswith("### "):
            match = _ENTRY.match(line)
            if not match or module is None:
                raise ContractError(f"{where}: a ### heading must be a signature under a ## module heading")
            is_class, name, text = match.groups()
            entries.append(Entry(module, name, _parse_signature(name, text, where), bool(is_class)))
        elif line.startswith("## "):
            module = None
        elif (match := _METHOD.match(line)) and entries and entries[-1].is_class:
            name, text = match.groups()
            entries[-1].methods[name] = _parse_signature(name, text, where)
    return entries


def _describe(params: list[tuple[str, str, object]]) -> str:
    parts = []
    for name, kind, default in params:
        prefix = "*, " if kind == "keyword" and not any(p.startswith("*, ") for p in parts) else ""
        parts.append(prefix + (name if default is REQUIRED else f"{name}={default!r}"))
    return ", ".join(parts)


def _same(want: list, got: list) -> bool:
    """Same names, kinds and defaults; a default must also have the same type (1 is not 1.0)."""
    return len(want) == len(got) and all(
        w[:2] == g[:2] and (w[2] is g[2] or (type(w[2]) is type(g[2]) and w[2] == g[2]))
        for w, g in zip(want, got))


def _signature_of(node: ast.FunctionDef, where: str, problems: list[str]) -> list | None:
    try:
        return _params(node.args)
    except ValueError:
        problems.append(f"{where}: a default of {node.name} is not a literal")
        return None


def check_module_source(source: str, entries: list[Entry], where: str) -> list[str]:
    """The mismatches between one module's source text and its contract entries."""
    problems: list[str] = []
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [f"{where}: does not parse ({error.msg}, line {error.lineno})"]
    defined = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    for entry in entries:
        node = defined.get(entry.name)
        if node is None:
            problems.append(f"{where}: {entry.name} is missing")
            continue
        if entry.is_class != isinstance(node, ast.ClassDef):
            problems.append(f"{where}: {entry.name} should be a {'class' if entry.is_class else 'function'}")
            continue
        wanted = {"__init__": entry.params, **entry.methods} if entry.is_class else {entry.name: entry.params}
        members = ({n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}
                   if entry.is_class else {entry.name: node})
        for member, params in wanted.items():
            label = f"{entry.name}.{member}" if entry.is_class else entry.name
            found = members.get(member)
            if found is None:
                problems.append(f"{where}: {label} is missing")
                continue
            got = _signature_of(found, where, problems)
            if got is None:
                continue
            if entry.is_class:
                got = got[1:]  # self
            if not _same(params, got):
                problems.append(f"{where}: {label}({_describe(got)}) differs from the contract's "
                                f"{label}({_describe(params)})")
    return problems


def check_folder(folder: Path, entries: list[Entry] | None = None) -> list[str]:
    """Every mismatch between the modules in ``folder`` and the contract, one line each
    (an empty list when the folder keeps the contract)."""
    entries = read_contract() if entries is None else entries
    problems: list[str] = []
    for module in dict.fromkeys(e.module for e in entries):
        path = Path(folder) / f"{module}.py"
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        problems += check_module_source(path.read_text(), [e for e in entries if e.module == module], str(path))
    return problems


def contract_examples(path: Path = CONTRACT) -> list[doctest.Example]:
    """The examples of every ``pycon`` block of the contract, in order."""
    parser = doctest.DocTestParser()
    text = Path(path).read_text()
    examples = []
    for match in _EXAMPLES.finditer(text):
        first_line = text.count("\n", 0, match.start(1))  # 0-based line of the block's first example
        for example in parser.get_examples(match.group(1)):
            example.lineno += first_line  # so a failure names the document's own line
            examples.append(example)
    return examples


def run_contract_examples(namespace: dict, path: Path = CONTRACT) -> doctest.TestResults:
    """Run the contract's examples as one doctest with ``namespace`` as globals (the graded
    names and ``np``); returns doctest's (failed, attempted) counts."""
    test = doctest.DocTest(contract_examples(path), dict(namespace), "contract", str(path), 0, None)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
                                   | doctest.IGNORE_EXCEPTION_DETAIL)
    runner.run(test)
    return runner.summarize(verbose=False)
