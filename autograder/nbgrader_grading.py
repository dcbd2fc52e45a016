"""The trusted nbgrader preprocessor: grade the notebook's code in the isolated worker.

It runs in nbgrader's own process during ``nbgrader autograde``. The generated course runs no
student kernel at all during autograde (no ``Execute``): the notebook's code is only ever run
by the isolated worker, never with the instructor's rights. It assembles the notebook's code cells (solutions and given code,
not the test cells) into the exercise module, grades that module with the same checks, worker
and sandbox as the CLI, and then *replaces* the outputs of every test cell: the feedback text,
a plot when points were lost, and an ``execute_result`` holding the score as a plain float
clamped to ``[0, points]`` (nbgrader scores that; a string or ``np.float64(...)`` there would
silently count as full marks). Whatever the student's kernel printed or patched is discarded.
"""
from __future__ import annotations

import base64
import math
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Unicode

from . import paths
from .collect import notebook_source
from .engine import grade_submission
from .feedback.report import check_line
from .report.build import FunctionSection, choose_plot
from .report.html import plot_alt_text, plot_img
from .runtime.sandbox import Limits, choose_isolation
from .runtime.sources import from_texts
from .suite.registry import all_checks
from .suite.weights import WEIGHTS, module_of


def module_source(notebook) -> str:
    """The Python module a notebook defines: every code cell but the graded test cells, with
    IPython magics and shell escapes commented out (the same rule as ``grade`` uses)."""
    return notebook_source(notebook)


def feedback_text(function: str, tests) -> str:
    lines = []
    for test in tests:
        if test.score >= test.max_score:
            lines.append(f"PASS  {test.description}")
            continue
        if test.passed:
            lines.append(f"PASS  {test.description} (pending: {test.message})")
            continue
        lines.append(f"FAIL  {test.description}")
        if test.label:
            lines.append(f"      {test.label}")
        lines.append(f"      {test.message}")
        for mistake in test.mistakes:
            lines.append(f"      Likely mistake in {function}: {mistake.explanation}\n      Hint: {mistake.hint}")
    partial = next((t.partial for t in tests if t.partial), "")
    if partial:
        lines.append(f"partial credit: {partial}")
    earned = math.fsum(t.score for t in tests)
    lines.append(f"{function}: {earned:g} of {WEIGHTS[function][1]:g} points (isolated grader, hidden checks)")
    return "\n".join(lines) + "\n"


class IsolatedGrading(NbGraderPreprocessor):
    """Replace each test cell's output and score with the isolated grader's."""

    call_seconds = Float(5.0, help="Wall-clock limit for one call of the student's code").tag(config=True)
    isolation = Unicode("", help="Grade at this isolation level (sandbox, uid or process); by default the "
                                 "bubblewrap sandbox, and grading refuses to run where it does not work").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        module = info.get("notebook")
        if module not in paths.MODULES:
            return nb, resources
        checks = [c for c in all_checks() if module_of(c.function) == module]
        # nbgrader runs this in COURSE/autograded/<student>/<assignment>: at the uid level the
        # course (every student's notebooks, gradebook.db) must be private too.
        notebook_dir = Path(resources.get("metadata", {}).get("path", ".")).resolve()
        course = notebook_dir.parents[2] if len(notebook_dir.parents) > 2 else notebook_dir
        isolation = choose_isolation(self.isolation or None, secrets=(*paths.secret_files(), str(course)))
        sources = from_texts({module: module_source(nb)}, [module])
        grade = grade_submission(sources, f"nbgrader-{info.get('student', 'student')}", isolation=isolation,
                                 limits=Limits(call_seconds=self.call_seconds), checks=checks)
        by_function: dict[str, list] = {}
        for test in grade.tests:
            by_function.setdefault(test.function, []).append(test)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
                continue
            function = grade_id.removeprefix("test_")
            tests = by_function.get(function, [])
            points = float(cell.metadata["nbgrader"].get("points", 0))
            score = min(max(round(math.fsum(t.score for t in tests), 2), 0.0), points)
            cell.outputs = self._outputs(function, tests, score)
        self.log.info("Isolated grading of %s: %s of %s points (%s)", module, grade.score, grade.max_score,
                      grade.isolation)
        return nb, resources

    @staticmethod
    def _outputs(function: str, tests, score: float) -> list:
        from nbformat.v4 import new_output

        outputs = [new_output("stream", name="stdout", text=feedback_text(function, tests))]
        if tests and score < sum(t.max_score for t in tests):
            section = FunctionSection(function, [check_line(t) for t in tests])
            png = choose_plot(section) if section.answered else None
            if png:
                encoded = base64.b64encode(png).decode()
                alt = plot_alt_text(function)
                # The HTML form carries the alt text (nbconvert's image template has none).
                outputs.append(new_output("display_data", data={"text/html": plot_img(encoded, alt),
                                                                "image/png": encoded, "text/plain": alt}))
        outputs.append(new_output("execute_result", data={"text/plain": repr(float(score))}, execution_count=None))
        return outputs
