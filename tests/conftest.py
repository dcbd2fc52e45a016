"""Shared fixtures: the reference solutions and the student stubs, imported by path."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import settings

from autograder import paths

# Property tests are reproducible (derandomized: the same examples on every run) and never
# fail on a slow machine's timing.
settings.register_profile("stability", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("stability")
from autograder.suite.reference import load_reference


def _modules(folder) -> SimpleNamespace:
    return SimpleNamespace(**{module: load_reference(module, folder) for module in paths.MODULES})


@pytest.fixture(scope="session")
def ref():
    """The reference solutions: ``ref.normalization.batch_norm`` etc."""
    return _modules(paths.SOLUTIONS)


@pytest.fixture(scope="session")
def stubs():
    """The generated student stubs, the same way."""
    return _modules(paths.EXERCISES)
