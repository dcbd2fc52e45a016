"""solutions/ and exercises/ match ../shared/API.md, the contract that outside graders call."""
from __future__ import annotations

import doctest
import subprocess
import sys

import pytest

from autograder import paths
from autograder.suite.reference import load_reference
from autograder.suite.weights import WEIGHTS

CHECKER = paths.REPO.parent / "shared" / "tools" / "check_contract.py"


@pytest.mark.skipif(not CHECKER.exists(), reason="../shared/tools/check_contract.py is not beside this checkout")
def test_contract_checker_reports_no_mismatches(tmp_path):
    done = subprocess.run([sys.executable, str(CHECKER), str(paths.SOLUTIONS), str(paths.EXERCISES)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 mismatches" in done.stdout


def test_every_contract_entry_is_graded():
    api = paths.REPO.parent / "shared" / "API.md"
    if not api.exists():
        pytest.skip("../shared/API.md is not beside this checkout")
    import re
    names = re.findall(r"^\| `(?:class )?(\w+)\(", api.read_text(), flags=re.M)
    assert sorted(names) == sorted(WEIGHTS)


@pytest.mark.parametrize("module", paths.MODULES)
def test_solution_docstring_examples_run(module):
    """Every docstring's worked example is a doctest, and it passes."""
    loaded = load_reference(module)
    failures, tried = doctest.testmod(loaded, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


@pytest.mark.parametrize("name", ["autograder.markers", "autograder.stubgen", "autograder.runtime.protocol",
                                  "autograder.report.plots"])
def test_autograder_docstring_examples_run(name):
    import importlib

    failures, _ = doctest.testmod(importlib.import_module(name))
    assert failures == 0
