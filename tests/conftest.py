"""Shared fixtures: the reference solutions and the student stubs, imported by path."""
from __future__ import annotations

import pytest

from autograder import paths
from autograder.suite.reference import load_reference


@pytest.fixture(scope="session")
def ref():
    """The reference solutions as one namespace: ``ref.normalization.batch_norm`` etc."""
    class Namespace:
        pass

    namespace = Namespace()
    for module in paths.MODULES:
        setattr(namespace, module, load_reference(module))
    return namespace


@pytest.fixture(scope="session")
def stubs():
    class Namespace:
        pass

    namespace = Namespace()
    for module in paths.MODULES:
        setattr(namespace, module, load_reference(module, paths.EXERCISES))
    return namespace
