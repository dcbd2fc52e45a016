"""``python -m autograder release OUT_DIR``: the repository students get.

It holds the generated stubs, the visible checks and their runtime (worker, probes,
tolerances, plots, report), the lessons, the contract (``docs/contract.md``), a student
README, ``requirements.txt``, a ``Makefile`` with ``make check`` and a GitHub Classroom
workflow (``.github/workflows/classroom.yml``, see :mod:`autograder.classroom`). It holds no solutions, no hidden checks, no mistake
catalogue and no reference values: ``tests/test_release.py`` searches it for them.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from . import paths
from .classroom import write_workflow
from .runtime.selfcheck import VISIBLE_FILE
from .stubgen import student_files

#: The self-check runtime: every file here imports only these files (and numpy, matplotlib).
RUNTIME_FILES = ("__init__.py", "__main__.py", "cli.py", "paths.py", "atomic.py", "selfcheck_report.py")
RUNTIME_PACKAGES = ("runtime", "report")
EXERCISE_EXTRAS = ("test_selfcheck.py", "conftest.py")
#: The lessons' own modules: the status lines, the training harness, and `make lessons`.
LESSON_MODULES = ("lessonkit.py", "harness.py", "render.py")

STUDENT_REQUIREMENTS = """\
numpy>=1.26
pytest>=8.0
matplotlib>=3.8
scikit-learn>=1.4       # the capstone lesson's digits dataset (bundled, no download)
jupyterlab>=4.0         # open the lessons: jupyter lab lessons/
ipykernel>=6.0          # the kernel that runs them
nbclient>=0.10          # run them from the command line: make lessons
nbconvert>=7.0          # ... and write them as HTML (build/lessons/)
"""

STUDENT_MAKEFILE = """\
# `make check` sets up .venv from requirements.txt (and refreshes it when that file changes),
# then runs the self-check on exercises/.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: check test lessons

$(STAMP): requirements.txt
\ttest -x $(PY) || $(PYTHON) -m venv $(VENV)
\t$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
\ttouch $(STAMP)

check: $(STAMP)
\t$(PY) -m autograder check exercises

test: $(STAMP)
\t$(PY) -m pytest exercises

lessons: $(STAMP)
\t$(PY) lessons/render.py
"""

STUDENT_PYPROJECT = """\
[tool.pytest.ini_options]
pythonpath = ["."]
addopts = "-ra"
"""

STUDENT_README = """\
# Stability Lab: exercises

```bash
make check   # set up .venv and run the self-check on your exercises
```

Without make (Windows):

```bash
python -m venv .venv
.venv\\Scripts\\python -m pip install -r requirements.txt
.venv\\Scripts\\python -m autograder check exercises
```

## The lessons

`lessons/rendered/*.html` are the five lessons with every figure and number as the reference
implementation draws them: open them in a browser and read them first, before any code.

The notebooks `lessons/*.ipynb` run *your* functions. Open them with

```bash
make check                      # once, to set up .venv
.venv/bin/jupyter lab lessons/  # Windows: .venv\\Scripts\\jupyter lab lessons/
```

Each lesson starts with one line per function it uses: passes the visible checks, FAILS
them, or not written yet. A demo whose function is not written yet is skipped, and a figure
drawn from a function that fails its checks carries a red warning: compare your figures with
the rendered copies. `make lessons` runs every lesson on your code and writes
`build/lessons/*.html`.

## What to do

1. Read the lessons (above).
2. Open `exercises/<module>.py`: each function's docstring gives the shapes, the formula, the
   convention and a worked example; its body is `raise NotImplementedError(...)`. Replace it.
3. Run `make check`. The table shows your points on the visible checks and the first failure
   of each function: what was called, what was expected, what came back, and the likely
   mistake with a hint. `build/feedback.html` shows the same with plots of your answer over
   the target. `pytest exercises` runs the same checks as tests
   (`pytest exercises -m clip_by_norm` for one function).

Your code runs in a separate process, so an infinite loop or a crash fails only that check.
Your grade comes from hidden checks on other, random inputs: passing the visible checks is
necessary, not enough. Submit the four files of `exercises/`: `normalization.py`,
`initialization.py`, `clipping.py` and `schedules.py`.

`docs/contract.md` is the contract: every function's name, parameters, defaults,
conventions, errors and worked values. Keep the names and signatures exactly as they are.

## GitHub Classroom

If you received this repository from GitHub Classroom, every push runs
`.github/workflows/classroom.yml`: one step per function, each running that function's
visible checks (`python -m pytest exercises -m <function>`) and worth its visible points,
rounded to whole points. The Actions tab shows the score and the failing checks. **That
score is only the visible-check estimate**, not your grade: your grade comes from the hidden
checks, run by your instructor on the code you pushed.
"""

# How points work: the grader's rule, stated once (``runtime/rule.py``).
from .runtime.rule import RULE_TEXT  # noqa: E402

STUDENT_README += "\n## How points work\n\n" + RULE_TEXT + "\n"


def _copy_python(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.py")):
        shutil.copy2(path, target / path.name)


def _copy_lesson_extras(lessons: Path) -> None:
    """The lessons' modules and their rendered copies (``lessons/rendered/*.html``)."""
    if not lessons.is_dir():
        return
    for name in LESSON_MODULES:
        shutil.copy2(paths.LESSONS / name, lessons / name)
    rendered = paths.LESSONS / "rendered"
    if rendered.is_dir():
        shutil.copytree(rendered, lessons / "rendered")


def build_release(out_dir: Path) -> list[Path]:
    """Write the student repository into ``out_dir`` (which must not exist or be empty)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} exists and is not empty")
    exercises = out_dir / "exercises"
    exercises.mkdir(parents=True)
    for name, text in student_files().items():
        (exercises / name).write_text(text)
    for name in EXERCISE_EXTRAS:
        shutil.copy2(paths.EXERCISES / name, exercises / name)
    package = out_dir / "autograder"
    package.mkdir()
    for name in RUNTIME_FILES:
        shutil.copy2(paths.REPO / "autograder" / name, package / name)
    for name in RUNTIME_PACKAGES:
        _copy_python(paths.REPO / "autograder" / name, package / name)
    if paths.LESSONS.is_dir():
        lessons = out_dir / "lessons"
        lessons.mkdir()
        for path in sorted(paths.LESSONS.iterdir()):
            if path.suffix in (".ipynb", ".md") or path.name == "lessonkit.py":
                shutil.copy2(path, lessons / path.name)
    docs = out_dir / "docs"
    docs.mkdir()
    shutil.copy2(paths.REPO / "docs" / "contract.md", docs / "contract.md")
    write_workflow(out_dir, (exercises / VISIBLE_FILE).read_text())
    (out_dir / "README.md").write_text(STUDENT_README)
    (out_dir / "requirements.txt").write_text(STUDENT_REQUIREMENTS)
    (out_dir / "Makefile").write_text(STUDENT_MAKEFILE)
    (out_dir / "pyproject.toml").write_text(STUDENT_PYPROJECT)
    (out_dir / ".gitignore").write_text(".venv/\n__pycache__/\nbuild/\n.pytest_cache/\n")
    _copy_lesson_extras(out_dir / "lessons")
    return sorted(p for p in out_dir.rglob("*") if p.is_file())
