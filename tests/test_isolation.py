"""Student code cannot forge a score, read what it must not, or take the grader down; every
kind of crash costs only the function that crashed."""
from __future__ import annotations

import json
import os
import signal
import textwrap
from pathlib import Path

import pytest

from autograder import paths
from autograder.engine import grade_submission
from autograder.grading import grade_folder
from autograder.runtime.sandbox import Isolation, Limits, Worker, choose_isolation, probe_cached
from attack_kit import delegate as _delegate, reader as _reader
from submission_kit import attack_submission, reference_submission, with_replacements

FAST = Limits(call_seconds=2.0, import_seconds=4.0)
ISOLATED = probe_cached("sandbox") is None
needs_isolation = pytest.mark.skipif(not ISOLATED, reason="bubblewrap cannot run here: files are not hidden")


def lost_functions(grade) -> set[str]:
    return {t.function for t in grade.tests if t.score < t.max_score}


# --- forging a score -----------------------------------------------------------------------

FORGERS = {
    "patches_numpy_pytest_unittest": '''
        import numpy as np, numpy.testing, unittest, math
        always = lambda *a, **k: True
        np.allclose = np.isclose = np.array_equal = np.array_equiv = always
        numpy.testing.assert_allclose = numpy.testing.assert_array_equal = lambda *a, **k: None
        unittest.TestCase.assertEqual = unittest.TestCase.assertTrue = lambda *a, **k: None
        math.isclose = always
        try:
            import pytest
            pytest.approx = lambda *a, **k: type("Any", (), {"__eq__": lambda s, o: True})()
        except Exception:
            pass
    ''',
    "reads_caller_frames_and_gc": '''
        import gc, inspect, sys
        import numpy as np
        def _steal(shape):
            for frame in inspect.stack():
                for value in frame.frame.f_locals.values():
                    if isinstance(value, np.ndarray) and value.shape == shape:
                        return value
            for obj in gc.get_objects():
                if isinstance(obj, np.ndarray) and obj.shape == shape:
                    return obj
            return np.zeros(shape)
    ''',
    "writes_and_prints_fake_results": '''
        import json, os, sys
        fake = json.dumps({"score": 100, "max_score": 100, "tests": []})
        print(fake); print(fake, file=sys.stderr)
        for fd in range(3, 64):
            try:
                os.write(fd, fake.encode())
            except OSError:
                pass
    ''',
}


def _returns_stolen(module: str) -> str:
    if module != "normalization":
        return ""
    return '''
        def layer_norm(x, gamma=1.0, beta=0.0, eps=1e-5):
            return _steal(np.shape(x))
        batch_norm = rms_norm = layer_norm
    '''


@pytest.mark.parametrize("name", sorted(FORGERS))
def test_forging_scores_0(tmp_path, name):
    body = _returns_stolen if name == "reads_caller_frames_and_gc" else None
    folder = attack_submission(tmp_path / name, FORGERS[name], body)
    assert grade_submission(folder, name, limits=FAST).score == 0


def test_ndarray_subclasses_and_custom_eq_objects_score_0(tmp_path):
    prelude = '''
        import numpy as np
        class Liar(np.ndarray):
            def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)
            __ne__ = lambda self, other: np.zeros(np.shape(other), dtype=bool)
            def __array_finalize__(self, obj): pass
        class Anything(float):
            def __eq__(self, other): return True
            __hash__ = float.__hash__
        class Shape:
            def __eq__(self, other): return True
            shape = property(lambda self: ())
    '''

    def body(module):
        if module == "normalization":
            return "def batch_norm(x, *a, **k): return np.zeros(np.shape(x)).view(Liar)\nlayer_norm = rms_norm = group_norm = lambda x, *a, **k: Shape()"
        if module == "schedules":
            return "def linear_warmup(*a): return Anything(-1.0)\ncosine_decay = warmup_cosine = step_decay = inverse_sqrt = lambda *a, **k: Anything(-1.0)"
        return ""

    grade = grade_submission(attack_submission(tmp_path / "liar", prelude, body), "liar", limits=FAST)
    assert grade.score == 0


# --- reading or damaging what is not the student's -----------------------------------------

@needs_isolation
def test_importing_or_reading_the_reference_scores_0(tmp_path):
    prelude = _reader([str(paths.SOLUTIONS / "normalization.py")])
    sandbox = choose_isolation("sandbox")
    grade = grade_submission(attack_submission(tmp_path / "thief", prelude, _delegate), "thief",
                             limits=FAST, isolation=sandbox)
    assert grade.score == 0
    honest = grade_submission(reference_submission(tmp_path / "honest"), "honest", isolation=sandbox)
    assert honest.score == 100


@needs_isolation
def test_reading_another_students_submission_scores_0(tmp_path):
    subs = tmp_path / "subs"
    reference_submission(subs / "alice")
    attack_submission(subs / "mallory", _reader([str(subs / "alice" / "normalization.py")]), _delegate)
    summary = grade_folder(subs, tmp_path / "out", jobs=1, progress=False)
    assert sorted(summary.graded) == ["alice", "mallory"]
    scores = {r["submission"]: float(r["total"]) for r in _gradebook(tmp_path / "out")}
    assert scores == {"alice": 100.0, "mallory": 0.0}


@needs_isolation
def test_deleting_editing_or_signalling_cannot_hurt_others(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    reference_submission(subs / "alice")
    prelude = f'''
        import os, shutil, signal
        for _target in ({str(subs)!r}, {str(out)!r}, {str(paths.REPO / "solutions")!r}):
            shutil.rmtree(_target, ignore_errors=True)
            try:
                open(os.path.join(_target, "alice", "normalization.py"), "w").write("broken")
            except OSError:
                pass
        for _pid in (os.getppid(), 1, -1):
            try:
                os.kill(_pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(0, signal.SIGKILL)
        except OSError:
            pass
    '''
    attack_submission(subs / "bully", prelude)
    reference_submission(subs / "zoe")
    summary = grade_folder(subs, out, jobs=1, progress=False)
    assert sorted(summary.graded) == ["alice", "bully", "zoe"]
    scores = {r["submission"]: float(r["total"]) for r in _gradebook(out)}
    assert scores == {"alice": 100.0, "bully": 0.0, "zoe": 100.0}
    assert (subs / "alice" / "normalization.py").read_text() == (paths.SOLUTIONS / "normalization.py").read_text()
    assert (paths.SOLUTIONS / "normalization.py").exists()


@needs_isolation
def test_the_worker_sees_no_grader_files_and_runs_as_another_user(tmp_path):
    probe = '''
        import os
        def report():
            seen = {}
            for path in ROOTS:
                try:
                    seen[path] = sorted(os.listdir(path))
                except OSError as error:
                    seen[path] = type(error).__name__
            return str({"seen": seen, "uid": os.getuid(), "pid": os.getpid()})
    '''
    roots = [str(paths.SOLUTIONS), str(paths.REPO / "autograder"), str(tmp_path)]
    spy = f"ROOTS = {roots!r}\n" + textwrap.dedent(probe)
    with Worker({"spy.py": spy}, FAST, Isolation("sandbox")) as worker:
        reply = worker.request({"op": "call", "module": "spy", "function": "report", "args": [], "kwargs": {}}, 5, "spy")
    seen = eval(reply["result"]["value"])  # noqa: S307 - our own probe's repr of plain data
    assert all(v == "FileNotFoundError" for v in seen["seen"].values()), seen
    assert seen["pid"] <= 3  # the sandbox's own PID namespace
    if os.geteuid() == 0:
        assert seen["uid"] != 0


def _gradebook(out: Path) -> list[dict]:
    import csv

    with open(out / "grades.csv") as handle:
        return list(csv.DictReader(handle))


# --- crashes are contained -----------------------------------------------------------------

CRASHES = {
    "timeout": ("clipping", "clip_by_norm", "    if max_norm <= 0:", "    while True:\n        pass\n    if max_norm <= 0:",
                "did not return within 2 s"),
    "segfault": ("clipping", "global_norm", "    if norm_type < 1:", "    import ctypes\n    ctypes.string_at(0)\n    if norm_type < 1:",
                 "SIGSEGV"),
    "os_exit_0": ("schedules", "linear_warmup", "    if step < 0:\n        raise ValueError(f\"step must be >= 0, got {step}\")\n    if step < warmup_steps:",
                  "    import os\n    os._exit(0)\n    if step < warmup_steps:", "exited early (status 0)"),
    "sys_exit": ("schedules", "step_decay", "    return float(base_lr * gamma", "    import sys\n    sys.exit(0)\n    return float(base_lr * gamma",
                 "SystemExit"),
    "memory_error": ("initialization", "he_normal", "    std = calculate_gain(nonlinearity, param) / math.sqrt(fan)",
                     "    _huge = np.ones(10**11)\n    std = calculate_gain(nonlinearity, param) / math.sqrt(fan)", "MemoryError"),
    "memory_bomb": ("initialization", "xavier_normal", "    std = gain * math.sqrt(2.0 / (fan_in + fan_out))",
                    "    _hog = []\n    while True:\n        _hog.append(bytearray(10**8))\n    std = 0",
                    ("MemoryError", "did not return within 2 s")),
    "fork_bomb": ("initialization", "orthogonal", "    rows, cols = shape[0], math.prod(shape[1:])",
                  "    import os, time\n    for _ in range(10_000):\n        os.fork()\n    time.sleep(60)\n    rows, cols = 1, 1", "BlockingIOError"),
    "output_flood": ("normalization", "rms_norm", "    mean_square = np.mean(x**2, axis=-1, keepdims=True)",
                     "    import os\n    while True:\n        os.write(1, b'x' * 65536)\n    mean_square = 0",
                     "did not return within 2 s"),  # drained and dropped: no disk fills, the call times out
    "recursion": ("normalization", "layer_norm", "    mean = x.mean(axis=-1, keepdims=True)",
                  "    def _f(n):\n        return _f(n + 1)\n    _f(0)\n    mean = 0", "RecursionError"),
}


@pytest.mark.parametrize("kind", sorted(CRASHES))
def test_a_crash_costs_only_the_function_that_crashed(tmp_path, kind):
    module, function, old, new, words = CRASHES[kind]
    folder = with_replacements(tmp_path / kind, module, (old, new))
    grade = grade_submission(folder, kind, limits=FAST)
    assert lost_functions(grade) == {function}
    failed = [t for t in grade.tests if t.function == function and t.main]
    assert failed and all(t.score == 0 for t in failed)
    words = (words,) if isinstance(words, str) else words
    assert any(w in failed[0].message for w in words), failed[0].message
    assert len(json.dumps([t.message for t in grade.tests])) + len(grade.output) < 100_000


IMPORT_FAILURES = {
    "syntax_error": ("schedules", "def linear_warmup(", "def linear_warmup(:", "SyntaxError"),
    "missing_dependency": ("clipping", "import numpy as np", "import numpy as np\nimport torch_that_is_not_installed", "ModuleNotFoundError"),
    "module_level_exit": ("initialization", "import numpy as np", "import numpy as np\nimport sys\nsys.exit(0)", "SystemExit"),
    "module_level_os_exit": ("normalization", "import numpy as np", "import numpy as np\nimport os\nos._exit(0)", "exited early"),
    "module_level_hang": ("clipping", "import numpy as np", "import numpy as np\nwhile True:\n    pass", "did not return within 4 s"),
}


@pytest.mark.parametrize("kind", sorted(IMPORT_FAILURES))
def test_an_import_failure_zeroes_only_its_module(tmp_path, kind):
    module, old, new, words = IMPORT_FAILURES[kind]
    folder = with_replacements(tmp_path / kind, module, (old, new))
    grade = grade_submission(folder, kind, limits=FAST)
    from autograder.suite.weights import functions_in

    assert lost_functions(grade) == set(functions_in(module))
    assert all(t.score == 0 for t in grade.tests if t.function in functions_in(module))
    message = next(t.message for t in grade.tests if t.function in functions_in(module))
    assert message.startswith(f"{module}.py could not be imported") and words in message, message


def test_a_missing_module_scores_0_for_its_functions_only(tmp_path):
    folder = reference_submission(tmp_path / "partial")
    (folder / "schedules.py").unlink()
    grade = grade_submission(folder, "partial", limits=FAST)
    assert lost_functions(grade) == {"linear_warmup", "cosine_decay", "warmup_cosine", "step_decay", "inverse_sqrt"}
    assert grade.score == 82
    assert "schedules.py is missing from the submission" in grade.tests[-1].message


@needs_isolation
def test_a_symlink_to_the_reference_is_not_followed(tmp_path):
    folder = attack_submission(tmp_path / "linker", "")
    (folder / "normalization.py").unlink()
    (folder / "normalization.py").symlink_to(paths.SOLUTIONS / "normalization.py")
    grade = grade_submission(folder, "linker", limits=FAST)
    assert grade.score == 0
    assert "symbolic link" in grade.tests[0].message


def test_signals_are_named():
    from autograder.runtime.sandbox import describe_signal

    assert describe_signal(-signal.SIGSEGV) == "SIGSEGV"
    assert describe_signal(128 + signal.SIGKILL) == "SIGKILL"
