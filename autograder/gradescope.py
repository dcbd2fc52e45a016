"""Gradescope: build the autograder zip, and grade one submission inside its container.

``python -m autograder gradescope OUT.zip`` writes a zip whose root holds ``setup.sh``,
``run_autograder``, ``requirements.txt``, the ``autograder`` package and the reference
``solutions``. Gradescope unpacks it into ``/autograder/source``, runs ``setup.sh`` once
when it builds the image, and ``run_autograder`` for each submission; that script calls
``python -m autograder gradescope-run``, which grades ``/autograder/submission`` with the
same isolated worker (student code as an unprivileged uid that cannot see
``/autograder/source``) and writes ``/autograder/results/results.json``.
``AUTOGRADER_ROOT`` replaces ``/autograder``, so all of this runs away from a container too.
"""
from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

from . import paths
from .atomic import write_atomic

GRADER_REQUIREMENTS = "numpy>=1.26\nmatplotlib>=3.8\nbubblewrap-bin>=0.11.0\n"

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip util-linux
python3 -m pip install -r /autograder/source/requirements.txt \\
  || python3 -m pip install --break-system-packages -r /autograder/source/requirements.txt
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT (default /autograder) and
# PYTHON (default python3) make it runnable outside a container.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
# Where bubblewrap cannot run (most containers), student code runs as a uid of its own: keep
# the reference and the hidden checks unreadable to it.
if [ "$(id -u)" = 0 ]; then chmod -R go-rwx "$HERE"; fi
exec "${PYTHON:-python3}" -m autograder gradescope-run --root "$ROOT"
"""


def build_package(zip_path: Path) -> list[str]:
    """Write the autograder zip; returns the names it holds."""
    entries: dict[str, bytes] = {
        "setup.sh": SETUP_SH.encode(),
        "run_autograder": RUN_AUTOGRADER.encode(),
        "requirements.txt": GRADER_REQUIREMENTS.encode(),
    }
    package = paths.REPO / "autograder"
    for path in sorted(package.rglob("*.py")):
        entries[f"autograder/{path.relative_to(package).as_posix()}"] = path.read_bytes()
    for module in paths.MODULES:
        entries[f"solutions/{module}.py"] = (paths.SOLUTIONS / f"{module}.py").read_bytes()
    zip_path = Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_name(f".{zip_path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    os.replace(tmp, zip_path)
    return list(entries)


def find_modules(submission: Path) -> dict[str, Path]:
    """The exercise modules in an upload: at its top level or in any folder (the shallowest
    wins), so uploading the files or the whole ``exercises/`` folder both work."""
    found: dict[str, Path] = {}
    for module in paths.MODULES:
        candidates = sorted((p for p in submission.rglob(f"{module}.py") if p.is_file() and not p.is_symlink()),
                            key=lambda p: (len(p.parts), str(p)))
        if candidates:
            found[module] = candidates[0]
    return found


def submission_name(root: Path) -> str:
    """A stable name for the seed: the submitters' ids from Gradescope's metadata."""
    try:
        metadata = json.loads((root / "submission_metadata.json").read_text())
        users = metadata.get("users") or []
        ids = sorted(str(u.get("id") or u.get("email") or "") for u in users)
        if any(ids):
            return "gradescope-" + "-".join(ids)
    except (OSError, ValueError, AttributeError):
        pass
    return "gradescope-submission"


def run_in_container(root: Path, isolation: str | None = None) -> Path:
    """Grade ``root/submission`` and write ``root/results/results.json``.

    The isolation is the sandbox where bubblewrap runs, else (a container that cannot make
    namespaces) a uid of its own with file permissions only, which ``run_autograder`` sets up
    by making the source folder private; ``isolation`` names a level instead. The level is in
    ``results.json``."""
    from .engine import grade_submission
    from .feedback.report import feedback_html
    from .results import results_json
    from .runtime.sandbox import choose_isolation
    from .runtime.sources import read_paths

    root = Path(root).resolve()
    results_dir = root / "results"
    chosen = choose_isolation(isolation, secrets=paths.secret_files(), floor="uid")
    sources = read_paths(find_modules(root / "submission"), paths.MODULES)
    grade = grade_submission(sources, submission_name(root), isolation=chosen)
    write_atomic(results_dir / "feedback.html", feedback_html(grade))
    target = results_dir / "results.json"
    write_atomic(target, results_json(grade))
    return target
