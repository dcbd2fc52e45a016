"""Execute the lessons and write each one as HTML, with its figures and printed numbers.

    python lessons/render.py              # your code (exercises/) -> build/lessons/*.html
    python lessons/render.py --reference  # (instructors) the reference -> lessons/rendered/*.html

The rendered copies in ``lessons/rendered/`` are what students read before they write any
code. Each records a digest of what it was made from (the notebooks, the lessons' modules and
the reference solutions); ``tests/test_lessons.py`` fails when a copy is stale.

Why committed rather than built by ``python -m autograder release``: the release holds no
solutions, so its copies must be made in the repository anyway; committing them (about half a
megabyte: figures as 72-dpi, 64-colour PNG) keeps ``release`` fast and lets the freshness test
compare digests instead of executing every lesson once more.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RENDERED = HERE / "rendered"
DIGEST_PATTERN = re.compile(r'<meta name="lesson-digest" content="([0-9a-f]{64})">')


def lessons() -> list[Path]:
    """The lesson notebooks, in order."""
    return sorted(HERE.glob("[0-9][0-9]_*.ipynb"))


def source_digest(notebook: Path) -> str:
    """A digest of what the rendered copy of ``notebook`` shows: its cells' sources, and the
    code (not the comments or docstrings) of the lessons' modules and of the reference
    solutions whose outputs it holds."""
    import nbformat

    digest = hashlib.sha256()
    book = nbformat.read(notebook, as_version=4)
    for cell in book.cells:
        digest.update(f"{cell.cell_type}\0{cell.source}\0".encode())
    for path in sorted(HERE.glob("*.py")) + sorted((ROOT / "solutions").glob("*.py")):
        if path.name != "render.py":
            digest.update(path.name.encode() + b"\0" + code_of(path).encode())
    return digest.hexdigest()


def code_of(path: Path) -> str:
    """A module's code without its comments and docstrings, which change no output."""
    import ast

    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def recorded_digest(html: Path) -> str | None:
    """The digest written into a rendered copy, or None."""
    found = DIGEST_PATTERN.search(html.read_text(errors="replace")) if html.is_file() else None
    return found.group(1) if found else None


def execute(notebook: Path, implementation: str | None, timeout: int = 600):
    """Run ``notebook`` (in ``lessons/``) on ``implementation`` (a folder name; None: exercises/)."""
    import nbclient
    import nbformat

    book = nbformat.read(notebook, as_version=4)
    saved = os.environ.get("STABILITY_IMPL")
    if implementation:
        os.environ["STABILITY_IMPL"] = implementation
    try:
        nbclient.NotebookClient(book, timeout=timeout, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(HERE)}}).execute()
    finally:
        os.environ.pop("STABILITY_IMPL", None)
        if saved is not None:
            os.environ["STABILITY_IMPL"] = saved
    return book


def shrink_figures(book) -> None:
    """Re-encode every PNG figure with a 64-colour palette: a third of the size, same look."""
    import base64
    import io

    from PIL import Image

    for cell in book.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                image = Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB")
                buffer = io.BytesIO()
                image.quantize(colors=64).save(buffer, format="PNG", optimize=True)
                data["image/png"] = base64.b64encode(buffer.getvalue()).decode()


def to_html(book, title: str, note: str, digest: str | None) -> str:
    """The executed notebook as one self-contained HTML page (figures inlined as PNG)."""
    from nbconvert import HTMLExporter

    shrink_figures(book)

    # no "In [n]:" prompts: the basic template writes them as "prompt input_prompt", not jp-InputPrompt
    exporter = HTMLExporter(template_name="basic", exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(book)
    meta = f'<meta name="lesson-digest" content="{digest}">' if digest else ""
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">{meta}<title>{title}</title>\n'
            "<style>body{max-width:62rem;margin:auto;font-family:sans-serif;line-height:1.45}"
            "pre{background:#f6f6f6;padding:.5em;overflow-x:auto}img{max-width:100%}"
            ".jp-InputPrompt,.jp-OutputPrompt{display:none}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>\n"
            f'<p style="background:#fff4d6;padding:.5em"><b>{note}</b></p>\n{body}\n</body></html>\n')


def render(reference: bool, out: Path, names: list[str]) -> list[Path]:
    """Execute the lessons (all, or those whose name contains one of ``names``) on the
    reference or on exercises/, and write them as HTML into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for notebook in lessons():
        if names and not any(name in notebook.name for name in names):
            continue
        note = ("Rendered with the reference solutions: these are the figures and numbers to expect. "
                "The notebook itself runs your code." if reference else
                "Rendered with your code from exercises/.")
        book = execute(notebook, "solutions" if reference else None)
        digest = source_digest(notebook) if reference else None
        target = out / f"{notebook.stem}.html"
        target.write_text(to_html(book, notebook.stem, note, digest))
        errors = [o for c in book.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        print(f"wrote {target.relative_to(ROOT)}" + (f" ({len(errors)} cells stopped with an error)" if errors else ""))
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", action="store_true",
                        help="run on solutions/ and refresh lessons/rendered/ (instructors)")
    parser.add_argument("--out", type=Path, help="output folder (default: lessons/rendered or build/lessons)")
    parser.add_argument("names", nargs="*", help="only the lessons whose file name contains one of these")
    args = parser.parse_args(argv)
    if args.reference and not (ROOT / "solutions").is_dir():
        parser.error("--reference needs solutions/, which the student release does not have")
    out = args.out or (RENDERED if args.reference else ROOT / "build" / "lessons")
    render(args.reference, out, args.names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
