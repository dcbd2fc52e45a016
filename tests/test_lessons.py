"""The lesson notebooks run on the reference solutions within a time budget, and their key
claims hold; they are committed without outputs; on unwritten stubs they say so plainly."""
from __future__ import annotations

import json
import os
import time

import pytest

from autograder import paths

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

LESSONS = sorted(paths.LESSONS.glob("*.ipynb"))
BUDGET_SECONDS = {"05_capstone.ipynb": 120}  # the capstone's own promise; the others are quick
DEFAULT_BUDGET = 90


def execute(path, impl: str = "solutions"):
    book = nbformat.read(path, as_version=4)
    previous = os.environ.get("STABILITY_IMPL")
    os.environ["STABILITY_IMPL"] = impl
    try:
        client = nbclient.NotebookClient(book, timeout=BUDGET_SECONDS.get(path.name, DEFAULT_BUDGET),
                                         kernel_name="python3", resources={"metadata": {"path": str(paths.LESSONS)}})
        started = time.perf_counter()
        client.execute()
        return book, time.perf_counter() - started
    finally:
        if previous is None:
            os.environ.pop("STABILITY_IMPL", None)
        else:
            os.environ["STABILITY_IMPL"] = previous


def claims_of(book) -> dict:
    for cell in book.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith("LESSON-CLAIMS "):
                    return json.loads(line[len("LESSON-CLAIMS "):])
    raise AssertionError("the lesson reported no claims")


@pytest.fixture(scope="module")
def executed():
    return {path.name: execute(path) for path in LESSONS}


def test_lesson_notebooks_exist():
    names = [p.name for p in LESSONS]
    assert names == ["01_normalization.ipynb", "02_initialization.ipynb", "03_clipping.ipynb",
                     "04_schedules.ipynb", "05_capstone.ipynb"]


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_is_committed_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_on_the_solutions_within_budget(executed, path):
    book, seconds = executed[path.name]
    assert seconds < BUDGET_SECONDS.get(path.name, DEFAULT_BUDGET)
    errors = [o for c in book.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = "".join(c.source for c in book.cells if c.cell_type == "markdown")
    assert "Quick reference" in text or "What to take away" in text
    assert "exercises/" in text or path.name.startswith("05")


def test_lesson_normalization_small_batches_are_noisy(executed):
    claims = claims_of(executed["01_normalization.ipynb"][0])
    assert claims["batch_mean_noise_2"] > 5 * claims["batch_mean_noise_256"]
    assert claims["bn_per_feature_std"] < 0.1


def test_lesson_initialization_he_keeps_relu_signal_while_bad_inits_fail(executed):
    claims = claims_of(executed["02_initialization.ipynb"][0])
    assert 0.5 <= claims["he_relu_min"] and claims["he_relu_max"] <= 2.0
    assert claims["normal1_relu_last"] > 1e6        # N(0, 1) explodes
    assert claims["small_relu_last"] < 1e-6         # N(0, 0.01²) vanishes


def test_lesson_clipping_by_norm_keeps_the_direction(executed):
    claims = claims_of(executed["03_clipping.ipynb"][0])
    assert abs(claims["cosine_norm"] - 1.0) < 1e-9
    assert claims["cosine_value"] < 0.99
    assert claims["final_loss_clipped"] < claims["final_loss_plain"] / 100


def test_lesson_schedules_warmup_helps_adam(executed):
    claims = claims_of(executed["04_schedules.ipynb"][0])
    assert claims["early_loss_warmup"] < claims["early_loss_no_warmup"]
    assert abs(claims["cosine_end"] - 0.05) < 1e-3


def test_lesson_capstone_batch_norm_beats_no_normalization_at_depth_20(executed):
    claims = claims_of(executed["05_capstone.ipynb"][0])
    assert claims["batch_norm_acc"] > claims["no_norm_acc"] + 0.2
    assert claims["he_acc"] > 0.9 > claims["small_init_acc"]
    assert claims["clip_acc"] >= claims["no_clip_acc"] and 0 < claims["clipped_share"] < 0.5
    assert claims["warmup_early_loss"] < claims["no_warmup_early_loss"]
    assert claims["seconds"] < 120


def test_lesson_on_unwritten_stubs_says_what_to_do():
    with pytest.raises(nbclient.exceptions.CellExecutionError) as error:
        execute(paths.LESSONS / "03_clipping.ipynb", impl="exercises")
    message = str(error.value)
    assert "NotImplementedYet" in message and "not implemented yet" in message
    assert "STABILITY_IMPL=solutions" in message
