"""The students' visible checks (`pytest exercises`) pass on the solutions and fail, each with
a readable "not implemented yet", on the stubs."""
from __future__ import annotations

import os
import subprocess
import sys

from autograder import paths
from autograder.runtime.selfcheck import VISIBLE_FILE, load_visible_checks


def run_pytest_exercises(target):
    env = dict(os.environ, STABILITY_TARGET=str(target))
    return subprocess.run([sys.executable, "-m", "pytest", "exercises", "-q", "-p", "no:cacheprovider"],
                          cwd=paths.REPO, capture_output=True, text=True, env=env, timeout=300)


def test_visible_checks_cover_every_function_a_few_times():
    from collections import Counter

    from autograder.suite.weights import WEIGHTS

    per_function = Counter(c.function for c in load_visible_checks(paths.EXERCISES / VISIBLE_FILE))
    assert set(per_function) == set(WEIGHTS) and min(per_function.values()) >= 2


def test_visible_checks_pass_on_the_solutions():
    done = run_pytest_exercises(paths.SOLUTIONS)
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_visible_checks_fail_readably_on_the_stubs():
    done = run_pytest_exercises(paths.EXERCISES)
    checks = load_visible_checks(paths.EXERCISES / VISIBLE_FILE)
    assert done.returncode == 1
    assert f"{len(checks)} failed" in done.stdout
    assert "error" not in done.stdout.lower().split("short test summary")[0].replace("valueerror", "")
    assert "Traceback" not in done.stdout
    for check in checks:
        assert f"{check.function if check.function != 'BatchNorm' else 'BatchNorm.__init__'} is not implemented yet" in done.stdout
