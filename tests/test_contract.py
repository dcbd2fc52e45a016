"""docs/contract.md is the contract that outside graders call: solutions/, exercises/ and the
student release keep it, its examples hold on the reference, and drift is caught."""
from __future__ import annotations

import doctest
import importlib
import shutil

import numpy as np
import pytest

from autograder import contract, paths
from autograder.release import build_release
from autograder.suite.reference import load_reference
from autograder.suite.weights import WEIGHTS


@pytest.fixture(scope="module")
def entries() -> list[contract.Entry]:
    return contract.read_contract()


def reference_namespace(entries, folder=paths.SOLUTIONS) -> dict:
    namespace = {"np": np}
    for module in paths.MODULES:
        loaded = load_reference(module, folder)
        namespace.update({e.name: getattr(loaded, e.name) for e in entries if e.module == module})
    return namespace


def test_the_contract_lists_every_graded_name_once_in_its_module(entries):
    assert [e.name for e in entries] == list(WEIGHTS)
    assert {e.name: e.module for e in entries} == {name: module for name, (module, _) in WEIGHTS.items()}
    batchnorm = next(e for e in entries if e.is_class)
    assert batchnorm.name == "BatchNorm" and set(batchnorm.methods) == {"train", "eval", "__call__"}


@pytest.mark.parametrize("folder", [paths.SOLUTIONS, paths.EXERCISES], ids=["solutions", "exercises"])
def test_the_modules_keep_the_contract(folder, entries):
    assert contract.check_folder(folder, entries) == []


def test_the_release_carries_the_contract_and_its_stubs_keep_it(tmp_path, entries):
    release = tmp_path / "release"
    build_release(release)
    assert (release / "docs" / "contract.md").read_text() == contract.CONTRACT.read_text()
    assert contract.check_folder(release / "exercises", entries) == []
    assert "docs/contract.md" in (release / "README.md").read_text()


DRIFTS = [
    ("normalization", "def batch_norm(x, gamma=1.0, beta=0.0, eps=1e-5)",
     "def batch_norm(x, gamma=1.0, beta=0.0, eps=1e-6)", "batch_norm(x, gamma=1.0, beta=0.0, eps=1e-06)"),
    ("clipping", "def clip_by_norm(grads, max_norm, norm_type=2.0)",
     "def clip_by_norm(grads, max_norm, norm_type=2)", "clip_by_norm(grads, max_norm, norm_type=2)"),
    ("schedules", "def step_decay(step, base_lr, step_size, gamma=0.1)",
     "def step_decay(step, step_size, base_lr, gamma=0.1)", "step_decay(step, step_size, base_lr"),
    ("initialization", "def orthogonal(shape, gain=1.0, rng=None)",
     "def orthogonal(shape, gain=1.0, *, rng=None)", "orthogonal(shape, gain=1.0, *, rng=None)"),
    ("normalization", "def eval(self)", "def evaluate(self)", "BatchNorm.eval is missing"),
    ("normalization", "def __init__(self, num_features, momentum=0.1, eps=1e-5)",
     "def __init__(self, num_features, momentum=0.01, eps=1e-5)", "BatchNorm.__init__(num_features, momentum=0.01"),
    ("schedules", "def inverse_sqrt(", "def inverse_square_root(", "inverse_sqrt is missing"),
]


@pytest.mark.parametrize("module, old, new, message", DRIFTS, ids=[d[3][:24] for d in DRIFTS])
def test_a_drifted_signature_fails_the_check(tmp_path, entries, module, old, new, message):
    for name in paths.MODULES:
        shutil.copy(paths.SOLUTIONS / f"{name}.py", tmp_path / f"{name}.py")
    source = (tmp_path / f"{module}.py").read_text()
    assert old in source
    (tmp_path / f"{module}.py").write_text(source.replace(old, new, 1))
    problems = contract.check_folder(tmp_path, entries)
    assert len(problems) == 1 and message in problems[0], problems


def test_a_missing_or_broken_module_is_reported(tmp_path, entries):
    for name in paths.MODULES:
        shutil.copy(paths.SOLUTIONS / f"{name}.py", tmp_path / f"{name}.py")
    (tmp_path / "clipping.py").unlink()
    (tmp_path / "schedules.py").write_text("def linear_warmup(:\n")
    problems = contract.check_folder(tmp_path, entries)
    assert [p.split(": ")[1] for p in problems] == ["missing", "does not parse (invalid syntax, line 1)"]


def test_a_drifted_contract_document_fails_against_the_code(tmp_path):
    edited = tmp_path / "contract.md"
    edited.write_text(contract.CONTRACT.read_text().replace(
        "### `rms_norm(x, gamma=1.0, eps=1e-6)`", "### `rms_norm(x, gamma=1.0, eps=1e-5)`"))
    problems = contract.check_folder(paths.SOLUTIONS, contract.read_contract(edited))
    assert len(problems) == 1 and "rms_norm" in problems[0]


def test_a_heading_that_is_not_a_signature_is_an_error(tmp_path):
    bad = tmp_path / "contract.md"
    bad.write_text("## `clipping.py`\n\n### `global_norm(grads, norm_type=2.0`\n")
    with pytest.raises(contract.ContractError, match="contract.md:3"):
        contract.read_contract(bad)


def test_the_contract_examples_hold_on_the_reference(entries):
    examples = contract.contract_examples()
    called = {name for name in WEIGHTS if any(f"{name}(" in e.source for e in examples)}
    # Every module has worked values and error cases; most graded names are exercised.
    errors = [e.exc_msg for e in examples if e.exc_msg]
    assert len(examples) >= 25 and len(errors) >= 10 and all(m.startswith("ValueError") for m in errors)
    assert len(called) >= 15
    failed, attempted = contract.run_contract_examples(reference_namespace(entries))
    assert attempted == len(examples) and failed == 0


def test_the_contract_examples_catch_a_wrong_value_and_a_missing_error(entries):
    namespace = reference_namespace(entries)
    wrong = dict(namespace, linear_warmup=lambda step, warmup_steps, base_lr: base_lr * (step + 1) / warmup_steps
                 if step < warmup_steps else base_lr)
    assert contract.run_contract_examples(wrong).failed >= 1
    lax = dict(namespace, compute_fans=lambda shape: (shape[0], shape[-1]))
    assert contract.run_contract_examples(lax).failed >= 1


def test_the_contract_examples_fail_on_the_stubs(entries):
    failed, attempted = contract.run_contract_examples(reference_namespace(entries, paths.EXERCISES))
    assert failed >= attempted // 2


def test_no_file_points_outside_the_repository():
    needle = "../" + "shared"
    skip = {".git", ".venv", "build", ".pytest_cache", ".hypothesis", "__pycache__"}
    offenders = []
    for path in paths.REPO.rglob("*"):
        if skip & set(path.relative_to(paths.REPO).parts) or not path.is_file():
            continue
        if path.suffix in {".py", ".md", ".txt", ".toml", ".json", ".ipynb", ".yml", ".yaml", ".sh", ".sbatch", ""}:
            if needle in path.read_text(errors="replace"):
                offenders.append(str(path.relative_to(paths.REPO)))
    assert offenders == []


@pytest.mark.parametrize("module", paths.MODULES)
def test_solution_docstring_examples_run(module):
    """Every docstring's worked example is a doctest, and it passes."""
    loaded = load_reference(module)
    failures, tried = doctest.testmod(loaded, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


@pytest.mark.parametrize("name", ["autograder.markers", "autograder.stubgen", "autograder.runtime.protocol",
                                  "autograder.report.plots", "autograder.classroom", "autograder.shards"])
def test_autograder_docstring_examples_run(name):
    failures, _ = doctest.testmod(importlib.import_module(name))
    assert failures == 0
