"""The lessons reach the conclusions their own runs support, and say honestly how the
student's code does.

Each lesson runs once on the reference solutions; a probe cell, appended to the test's copy
only, reads the lesson's own variables back from the kernel, and the tests assert the claims
its prose makes on them. Nothing is printed to students for the tests' sake. The lessons also
run to the end in a fresh release on untouched stubs, and lesson 1 warns about a wrong
``layer_norm``. The rendered copies in ``lessons/rendered/`` must match the sources.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

from autograder import paths

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

sys.path.insert(0, str(paths.LESSONS))
import render  # noqa: E402  (lessons/render.py)

LESSONS = sorted(paths.LESSONS.glob("*.ipynb"))
BUDGET_SECONDS = {"05_capstone.ipynb": 120}  # the capstone's own promise; the others are quick
DEFAULT_BUDGET = 60
MAX_CELL_LINES = 35

#: What each lesson's probe reads from its kernel (a Python expression giving a dict).
PROBES = {
    "01_normalization.ipynb": "dict(mean_noise=mean_noise.tolist(), bn_std=bn.std(axis=0).tolist(),"
                              " ln_std=ln.std(axis=1).tolist(), near_one=near_one,"
                              " small_batch={'|'.join(map(str, k)): v for k, v in small_batch.items()},"
                              " gradient_errors=gradient_errors, ln_spread=ln_spread)",
    "02_initialization.ipynb": "{'|'.join(k): [f.tolist(), b.tolist()] for k, (f, b) in profiles.items()}",
    "03_clipping.ipynb": "dict(cosine_norm=cosine_norm, cosine_value=cosine_value, plain=plain.tolist(),"
                         " clipped=clipped.tolist(), clipped_share=float(np.mean(clipped_norms > 20.0)),"
                         " jump_clipped=jump_clipped, jump_plain=jump_plain)",
    "04_schedules.ipynb": "dict(cosine_end=SHAPES['warmup_cosine'][1](999), final_loss={k: v.tolist() for k, v in"
                          " final_loss.items()}, diverged={k: sum(l.diverged_at is not None for l in v) for k, v in"
                          " schedule_runs.items()}, early=early_loss, late=late_loss,"
                          " first=[max(l.loss[:5]) for l in adam_runs['0.03, no warmup']],"
                          " warm_first=[max(l.loss[:5]) for l in adam_runs['0.03, 24 warmup steps']],"
                          " warm_spike=max(max(l.loss[24:120]) for l in adam_runs['0.03, 24 warmup steps']),"
                          " acc=adam_acc, last_step=int(steps.max()), total=TOTAL)",
    "05_capstone.ipynb": "dict(first_loss=first_loss, init_acc={k: H.seed_accuracies(v).tolist() for k, v in"
                         " init_runs.items()}, sweep={f'{k[0]}|{k[1]}': v.tolist() for k, v in sweep_acc.items()},"
                         " stable=stable, clip_acc={k: H.seed_accuracies(v).tolist() for k, v in clip_runs.items()},"
                         " clipped_share=clipped_share, early=early_loss,"
                         " first={k: [max(l.loss[:5]) for l in v] for k, v in warm_runs.items()},"
                         " saturated={k: float(v.mean()) for k, v in saturated.items()},"
                         " best_ratio=float(ratios[best]), best=best, warm_acc=warm_acc)",
}
PROBE_MARK = "LESSON-PROBE "


def execute(path: Path, impl: str | None = "solutions", probe: str | None = None, cwd: Path | None = None,
            allow_errors: bool = False):
    """Run a lesson; returns (executed notebook, seconds, the probe's values or None)."""
    book = nbformat.read(path, as_version=4)
    if probe:
        book.cells.append(nbformat.v4.new_code_cell(
            f"import json as _json\nprint({PROBE_MARK!r} + _json.dumps({probe}, default=float))"))
    previous = os.environ.pop("STABILITY_IMPL", None)
    if impl:
        os.environ["STABILITY_IMPL"] = impl
    try:
        client = nbclient.NotebookClient(book, timeout=BUDGET_SECONDS.get(path.name, DEFAULT_BUDGET),
                                         kernel_name="python3", allow_errors=allow_errors,
                                         resources={"metadata": {"path": str(cwd or path.parent)}})
        started = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - started
    finally:
        os.environ.pop("STABILITY_IMPL", None)
        if previous is not None:
            os.environ["STABILITY_IMPL"] = previous
    values = None
    if probe:
        text = "".join(o.get("text", "") for o in book.cells.pop().get("outputs", []))
        values = json.loads(text.split(PROBE_MARK, 1)[1])
    return book, seconds, values


def outputs_text(book) -> str:
    return "\n".join(o.get("text", "") for c in book.cells for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def executed():
    return {path.name: execute(path, probe=PROBES[path.name]) for path in LESSONS}


# --- the notebooks as committed --------------------------------------------------------------

def test_lesson_notebooks_exist():
    assert [p.name for p in LESSONS] == list(PROBES)


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_is_committed_without_outputs_and_with_short_cells(path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"
            assert len(cell.source.splitlines()) <= MAX_CELL_LINES, cell.source[:200]
    text = "".join(c.source for c in book.cells)
    assert "LESSON-CLAIMS" not in text and "report_claims" not in text
    assert "STABILITY_IMPL=solutions" not in text  # the release has no solutions/
    assert "status(" in book.cells[1].source  # the status lines come first


def test_lessonkit_does_not_offer_the_solutions_to_students():
    assert "STABILITY_IMPL=solutions" not in (paths.LESSONS / "lessonkit.py").read_text()


@pytest.mark.parametrize("module", ["lessonkit.py", "harness.py", "render.py"])
def test_lesson_modules_have_short_documented_functions(module):
    import ast

    tree = ast.parse((paths.LESSONS / module).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            assert node.end_lineno - node.lineno < 45, f"{module}: {node.name} is longer than a screen"
            assert ast.get_docstring(node) or node.name in ("params", "set_params", "guarded", "main"), node.name


# --- on the reference -----------------------------------------------------------------------

@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_on_the_solutions_within_budget_without_noise(executed, path):
    book, seconds, _ = executed[path.name]
    assert seconds < BUDGET_SECONDS.get(path.name, DEFAULT_BUDGET)
    outputs = [o for c in book.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert not [o for o in outputs if o.get("output_type") == "execute_result"], "stray Text(...) or repr output"
    assert not [o for o in outputs if o.get("name") == "stderr"], "warnings printed to students"
    text = outputs_text(book)
    assert "passes its visible checks" in text
    assert "FAILS" not in text and "WARNING" not in text and "Skipped" not in text
    markdown = "".join(c.source for c in book.cells if c.cell_type == "markdown")
    assert "Quick reference" in markdown or "What to take away" in markdown


def test_lesson_normalization(executed):
    values = executed["01_normalization.ipynb"][2]
    assert values["mean_noise"][0] > 5 * values["mean_noise"][-1]
    assert max(abs(s - 1) for s in values["bn_std"][1:]) < 1e-2 and 0.9 < values["bn_std"][0] < 0.95  # eps
    assert max(abs(s - 1) for s in values["ln_std"]) < 1e-3
    assert values["near_one"] > 0.8
    runs = values["small_batch"]

    def mean(name, batch, mode):
        return sum(runs[f"{name}|{batch}|{seed}"][mode] for seed in range(3)) / 3

    # with batches of 2, batch norm does not train; group and layer norm do
    assert mean("batch norm", 2, 0) < 0.3 < 0.6 < mean("group norm (G=8)", 2, 0) < mean("layer norm", 2, 0)
    # at 4 and 8 batch norm trains, with a train/eval gap of many points; the others have none
    for batch in (4, 8):
        assert mean("batch norm", batch, 0) > 0.75
        assert mean("batch norm", batch, 0) - mean("batch norm", batch, 1) > 0.05
    for name in ("group norm (G=8)", "layer norm"):
        assert all(abs(runs[k][0] - runs[k][1]) < 1e-12 for k in runs if k.startswith(name))
        assert all(mean(name, batch, 0) > 0.85 for batch in (4, 8, 32))
    for errors in values["gradient_errors"].values():
        assert max(errors.values()) < 1e-6
    assert set(values["gradient_errors"]) == {"batch_norm_backward", "layer_norm_backward"}
    assert values["ln_spread"] < 1e-12  # "layer norm gives ... with every batch-mate", measured


def test_lesson_initialization_gradient_panel(executed):
    values = executed["02_initialization.ipynb"][2]
    forward, backward = values["tanh|N(0, 1)"]
    assert 0.5 < forward[-1] < 1.5 and backward[0] > 1e20          # looks fine forward, explodes back
    assert 2 < backward[0] ** (1 / 50) < 4                          # "a factor of about 3 per layer"
    forward, backward = values["tanh|Xavier, gain 1"]
    assert 0.05 < forward[-1] < 0.2 and 0.05 < backward[0] < 0.3   # slow decay both ways (~8x)
    forward, backward = values["tanh|Xavier, tanh gain 5/3"]
    assert 0.4 < forward[-1] < 1 and backward[0] > 10              # keeps forward, gradient grows
    forward, backward = values["relu|He"]
    assert 0.5 <= min(forward) and max(forward) <= 2 and 0.5 < backward[0] < 2
    assert 9 < values["relu|N(0, 1)"][0][-1] ** (1 / 50) < 13       # "about sqrt(256 / 2) ≈ 11" per layer
    assert 9 < values["relu|N(0, 1)"][1][0] ** (1 / 50) < 13
    assert 0.13 < values["tanh|N(0, 0.01²)"][1][0] ** (1 / 50) < 0.19  # "0.16 (tanh)"
    assert 0.09 < values["relu|N(0, 0.01²)"][1][0] ** (1 / 50) < 0.13  # "0.11 (ReLU)"
    for act in ("tanh", "relu"):
        assert max(values[f"{act}|N(0, 0.01²)"][0][-1], values[f"{act}|N(0, 0.01²)"][1][0]) < 1e-6
    assert values["relu|Xavier, gain 1"][0][-1] < 1e-4 and values["relu|Xavier, gain 1"][1][0] < 1e-4


def test_lesson_clipping(executed):
    values = executed["03_clipping.ipynb"][2]
    assert abs(values["cosine_norm"] - 1.0) < 1e-9 and values["cosine_value"] < 0.99
    assert values["clipped"][-1] < values["plain"][-1] / 100
    assert values["jump_clipped"] > 100                       # a clipped spike still lifts the loss a lot
    assert values["jump_plain"] > max(1000, values["jump_clipped"])  # "thousands of times higher"
    assert max(values["clipped"]) < max(values["plain"]) / 1000
    assert values["clipped_share"] < 0.05                      # only the corrupted steps


def test_lesson_schedules_ranking_and_warmup(executed):
    values = executed["04_schedules.ipynb"][2]
    assert abs(values["cosine_end"] - 0.05) < 1e-3
    final = {k: [math.inf if v is None or v == math.inf else v for v in vs] for k, vs in values["final_loss"].items()}
    for seed in range(3):
        for good in ("cosine", "warmup + cosine"):
            assert final[good][seed] < min(final["constant"][seed], final["step decay"][seed])
    assert values["diverged"] == {"constant": 1, "step decay": 0, "cosine": 0, "warmup + cosine": 0}
    early, late = values["early"], values["late"]
    assert early["0.03, 24 warmup steps"] < early["0.03, no warmup"]
    assert late["0.03, 24 warmup steps"] < late["0.03, no warmup"]
    # against the 0.001 baseline: "within a quarter of the baseline's" loss, "a higher mean test accuracy";
    # without warmup, "the highest training loss of the three"
    assert late["0.03, 24 warmup steps"] < 1.25 * late["0.001, no warmup"]
    assert values["acc"]["0.03, 24 warmup steps"] > values["acc"]["0.001, no warmup"]
    assert late["0.03, no warmup"] > max(late["0.03, 24 warmup steps"], late["0.001, no warmup"])
    assert values["last_step"] >= 1.1 * values["total"]                    # the plot shows the hold at min_lr
    assert min(values["first"]) > max(values["warm_first"]) + 0.2          # jump on the first updates
    assert values["warm_spike"] > 2.0                                       # "the warmup runs spike too"


def test_lesson_capstone_learning_rate_sweep_and_the_rest(executed):
    _, seconds, values = executed["05_capstone.ipynb"]
    assert seconds < 120
    mean = lambda accs: sum(accs) / len(accs)  # noqa: E731
    sweep, stable = values["sweep"], values["stable"]
    for name in ("no normalization", "layer norm", "batch norm"):
        assert mean(sweep[f"{name}|0.01"]) > 0.9                     # at a small rate all three train
    assert stable["batch norm"] == [0.01, 0.03, 0.1, 0.2, 0.5]      # batch norm: every rate
    assert stable["no normalization"] == [0.01, 0.03]                # one step up: stuck near chance
    assert max(mean(sweep[f"no normalization|{lr}"]) for lr in (0.1, 0.2, 0.5)) < 0.3
    assert set(stable["layer norm"]) <= {0.01, 0.03, 0.1}
    ln = [mean(sweep[f"layer norm|{lr}"]) for lr in (0.1, 0.2, 0.5)]
    assert ln[0] > ln[1] > ln[2] and ln[0] > 0.5                     # fails gradually
    best = max((0.01, 0.03, 0.1, 0.2, 0.5), key=lambda lr: mean(sweep[f"batch norm|{lr}"]))
    assert best >= 0.1 and mean(sweep[f"no normalization|{best}"]) < 0.3   # a rate that ruins the others
    # §1: at depth 20 He trains and Xavier / small init stay near chance; initial loss
    init_acc = values["init_acc"]
    assert mean(init_acc["He (output layer too)"]) > 0.7
    assert max(init_acc["Xavier"] + init_acc["N(0, 0.01²)"]) < 0.3
    first = values["first_loss"]
    assert all(loss > math.log(10) + 0.2 for loss in first["He (output layer too)"])
    assert all(abs(loss - math.log(10)) < 0.1 for loss in first["He, small output layer"] + first["Xavier"])
    # §3: a loose threshold is not enough, a tight one clips most steps and recovers layer norm
    clip_acc, share = values["clip_acc"], values["clipped_share"]
    assert share["max_norm=5"] < 0.2 and mean(clip_acc["max_norm=5"]) < 0.9
    assert share["max_norm=1"] > 0.5 and min(clip_acc["max_norm=1"]) > 0.9 > mean(clip_acc["no clipping"])
    # §4 and diagnostics
    assert values["early"]["lr 0.03, 24 warmup steps"] < values["early"]["lr 0.03, no warmup"]
    assert min(values["first"]["lr 0.03, no warmup"]) > max(values["first"]["lr 0.03, 24 warmup steps"]) + 0.2
    sat = values["saturated"]
    assert sat["no normalization"] > 0.5 and sat["layer norm"] < 0.1 and sat["batch norm"] < 0.1
    assert values["best_ratio"] > 1e-3
    # §4 prose: with warmup highest of the three; without it "level with the baseline (within a point), not below it"
    acc = values["warm_acc"]
    assert acc["lr 0.03, 24 warmup steps"] > max(acc["lr 0.03, no warmup"], acc["lr 0.001, no warmup"])
    assert 0 <= acc["lr 0.03, no warmup"] - acc["lr 0.001, no warmup"] < 0.01


# --- on the student's code ------------------------------------------------------------------

@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory) -> Path:
    from autograder.release import build_release

    out = tmp_path_factory.mktemp("lesson-release") / "stability-lab"
    build_release(out)
    return out


@pytest.mark.parametrize("name", [p.name for p in LESSONS], ids=[p.stem for p in LESSONS])
def test_lesson_runs_to_the_end_on_the_stubs_of_a_fresh_release(fresh_release, name):
    book, _, _ = execute(fresh_release / "lessons" / name, impl=None)  # raises on any uncaught error
    text = outputs_text(book)
    assert "not written yet" in text and "Skipped: this demo needs" in text
    assert "solutions" not in text and "NotImplementedYet" not in text


def test_lesson_normalization_warns_about_a_wrong_layer_norm(tmp_path):
    wrong = tmp_path / "wrong"
    shutil.copytree(paths.SOLUTIONS, wrong)
    source = (wrong / "normalization.py").read_text()
    start = source.index("def layer_norm(")
    body = source[start:source.index("\ndef ", start + 1)]
    assert "axis=-1" in body
    (wrong / "normalization.py").write_text(source.replace(body, body.replace("axis=-1", "axis=0")))
    probe = "dict(ln_spread=ln_spread, stamps=[[t.get_text() for t in panel.texts] for panel in axes])"
    book, _, values = execute(paths.LESSONS / "01_normalization.ipynb", impl=str(wrong), probe=probe)
    assert re.search(r"layer_norm\s+FAILS a visible check", outputs_text(book))
    # the small-batch cell measures layer norm's spread instead of asserting it
    assert values["ln_spread"] > 0.1
    small = next(c for c in book.cells if c.cell_type == "code" and "ln_spread = " in c.source)
    small_text = "".join(o.get("text", "") for o in small.outputs)
    assert "WARNING: the output below comes from layer_norm" in small_text
    assert "layer norm's output changes with the batch-mate" in small_text and "every batch-mate" not in small_text
    # the warning sits on the layer-norm panel, not on the raw or batch-norm ones
    assert values["stamps"][0] == values["stamps"][1] == [] and "layer_norm" in " ".join(values["stamps"][2])
    wild = next(c for c in book.cells if c.cell_type == "code" and "norm.layer_norm(x)" in c.source)
    texts = "".join(o.get("text", "") for o in wild.outputs)
    assert "WARNING: the output below comes from layer_norm" in texts
    assert any("image/png" in o.get("data", {}) for o in wild.outputs)
    assert re.search(r"batch_norm\s+passes", outputs_text(book))


def _schedules_with(tmp_path, name: str, function: str, old: str, new: str) -> Path:
    """A copy of the reference with one edit inside ``function`` of schedules.py."""
    folder = tmp_path / name
    shutil.copytree(paths.SOLUTIONS, folder)
    source = (folder / "schedules.py").read_text()
    start = source.index(f"def {function}(")
    body = source[start:source.index("\ndef ", start + 1)]
    assert old in body
    (folder / "schedules.py").write_text(source.replace(body, body.replace(old, new)))
    return folder


def _lesson_states(impl: Path, module: str, functions: list[str]) -> dict:
    import subprocess

    script = f"import lessonkit as k\nprint(repr(k.status({module!r}, {functions!r})))\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=paths.LESSONS, capture_output=True, text=True,
                          env={**os.environ, "STABILITY_IMPL": str(impl)}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return eval(done.stdout.strip().splitlines()[-1]), done.stdout  # noqa: S307 - our own repr


def test_lesson_status_agrees_with_make_check_on_a_function_that_calls_a_broken_helper(tmp_path):
    from autograder.runtime.selfcheck import run_visible

    # cosine_decay forgets to hold min_lr after total_steps; warmup_cosine itself is right
    broken = _schedules_with(tmp_path, "badcos", "cosine_decay", "math.pi * t / total_steps",
                             "math.pi * step / total_steps")
    functions = ["linear_warmup", "cosine_decay", "warmup_cosine", "step_decay", "inverse_sqrt"]
    states, printed = _lesson_states(broken, "schedules", functions)
    checks = [c for c in render_checks() if c.module == "schedules"]
    runs = run_visible(broken, checks)
    verdict = {f: all(r.passed for c, r in zip(checks, runs) if c.function == f) for f in functions}
    assert verdict["cosine_decay"] is False and verdict["warmup_cosine"] is True
    assert {f: states[f] == "pass" for f in functions} == verdict
    assert re.search(r"warmup_cosine\s+passes its visible checks \(checked with correct answers.*cosine_decay fails",
                     printed)
    # its demos call the student's cosine_decay, so they carry the warning naming it
    book, _, values = execute(paths.LESSONS / "04_schedules.ipynb", impl=str(broken),
                              probe="dict(curve=[SHAPES['cosine_decay'][1](s) for s in (1000, 1150)])")
    text = outputs_text(book)
    assert "WARNING: the output below comes from cosine_decay" in text and "Traceback" not in text
    assert values["curve"][1] > values["curve"][0] + 0.05   # the plotted range shows it climbing back


def render_checks():
    from autograder.runtime.selfcheck import VISIBLE_FILE, load_visible_checks

    return load_visible_checks(paths.EXERCISES / VISIBLE_FILE)


def test_a_demo_needing_an_unwritten_helper_is_skipped_with_one_line(tmp_path):
    stub = _schedules_with(tmp_path, "stubwarm", "linear_warmup", "# BEGIN SOLUTION",
                           "raise NotImplementedError('linear_warmup is not implemented yet')")
    states, _ = _lesson_states(stub, "schedules", ["linear_warmup", "warmup_cosine"])
    assert states == {"linear_warmup": "missing", "warmup_cosine": "pass"}   # as `make check` says
    book, _, _ = execute(paths.LESSONS / "04_schedules.ipynb", impl=str(stub))  # raises on any error
    text = outputs_text(book)
    assert "Skipped: this demo needs linear_warmup (called by warmup_cosine), not written yet" in text
    assert "Not drawn: linear_warmup, warmup_cosine (needs linear_warmup, not written yet)." in text
    assert "NotImplemented" not in text and "Traceback" not in text
    for cell in book.cells:   # at most one skip or warning line per cell
        lines = "".join(o.get("text", "") for o in cell.get("outputs", [])).splitlines()
        assert sum(line.startswith(("Skipped", "Not drawn", "WARNING")) for line in lines) <= 1, cell.source[:80]


def test_a_crashing_function_stops_its_own_demo_only(tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(paths.SOLUTIONS, broken)
    with open(broken / "normalization.py", "a") as module:
        module.write("\n\ndef batch_norm_backward(dout, x, gamma, eps=1e-5):\n    return dout[:1], gamma, gamma\n")
    book, _, _ = execute(paths.LESSONS / "05_capstone.ipynb", impl=str(broken), allow_errors=True)
    errors = [c for c in book.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert len(errors) == 1 and "sweep = {" in errors[0].source
    text = outputs_text(book)
    assert re.search(r"batch_norm_backward\s+FAILS", text)
    assert text.count("Skipped: this demo uses sweep from an earlier cell") == 3
    assert "WARNING: the output below comes from batch_norm_backward" in text


# --- the rendered copies --------------------------------------------------------------------

@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_rendered_copy_is_fresh_and_small(path):
    html = render.RENDERED / f"{path.stem}.html"
    assert html.is_file(), f"run `make lessons` to render {path.name}"
    assert render.recorded_digest(html) == render.source_digest(path), (
        f"{html.name} is stale: run `make lessons` (python lessons/render.py --reference)")
    text = html.read_text()
    assert text.count("data:image/png;base64") >= 1 and html.stat().st_size < 600_000
    assert "Traceback" not in text and "Skipped" not in text
    assert not re.search(r"In&nbsp;\[\d*\]|In \[\d*\]:", text), "execution prompts in the rendered copy"


def test_a_docstring_is_not_code_but_a_changed_line_is(tmp_path):
    source = tmp_path / "module.py"
    source.write_text('"""One doc."""\n# a comment\ndef f(x):\n    """Doc."""\n    return x + 1\n')
    code = render.code_of(source)
    source.write_text('"""Another doc."""\ndef f(x):\n    """Other doc."""\n    return x + 1\n')
    assert render.code_of(source) == code
    source.write_text('"""One doc."""\ndef f(x):\n    return x + 2\n')
    assert render.code_of(source) != code


def test_a_changed_lesson_makes_its_rendered_copy_stale(tmp_path):
    path = LESSONS[0]
    book = nbformat.read(path, as_version=4)
    book.cells[0].source += " "
    changed = tmp_path / path.name
    nbformat.write(book, changed)
    assert render.source_digest(changed) != render.source_digest(path)


def test_the_release_carries_the_rendered_lessons_and_what_opens_them(fresh_release):
    for path in LESSONS:
        html = fresh_release / "lessons" / "rendered" / f"{path.stem}.html"
        assert html.is_file() and "data:image/png;base64" in html.read_text()
    for module in ("lessonkit.py", "harness.py", "render.py"):
        assert (fresh_release / "lessons" / module).is_file()
    requirements = (fresh_release / "requirements.txt").read_text()
    assert all(re.search(rf"^{name}>=", requirements, re.M) for name in ("jupyterlab", "ipykernel", "nbconvert"))
    assert "\nlessons:" in (fresh_release / "Makefile").read_text()
    readme = (fresh_release / "README.md").read_text()
    assert "jupyter lab lessons/" in readme and "lessons/rendered/" in readme and "make lessons" in readme


def test_render_in_the_release_writes_the_students_own_html(fresh_release):
    import subprocess

    done = subprocess.run([sys.executable, "lessons/render.py", "03_clipping"], cwd=fresh_release,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    html = (fresh_release / "build" / "lessons" / "03_clipping.html").read_text()
    assert "not written yet" in html and "Rendered with your code" in html
    refused = subprocess.run([sys.executable, "lessons/render.py", "--reference"], cwd=fresh_release,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "solutions/" in refused.stderr


def test_status_without_the_runtime_still_tells_written_from_missing():
    import subprocess

    script = ("import lessonkit as k\n"
              "def unavailable(*args): raise ImportError('no resource module here')\n"
              "k.check_function = unavailable\n"
              "print(k.status('normalization', ['batch_norm', 'BatchNorm']))\n")
    states = {}
    for impl in ("solutions", "exercises"):
        done = subprocess.run([sys.executable, "-c", script], cwd=paths.LESSONS, capture_output=True, text=True,
                              env={**os.environ, "STABILITY_IMPL": impl}, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        states[impl] = done.stdout.strip().splitlines()[-1]
    assert states["solutions"] == "{'batch_norm': 'unchecked', 'BatchNorm': 'unchecked'}"
    assert states["exercises"] == "{'batch_norm': 'missing', 'BatchNorm': 'missing'}"
