"""Each promise of the sandbox, with a real attack submission that tries to break it.

The in-process tests run at the ``sandbox`` level as the user running the tests. The
``*_as_*`` tests grade a whole class of attacks through the CLI as an unprivileged user and,
as root, at the ``uid`` level. After every run: the stubs score 0, no classmate's grade
changed, no worker is still running, and nothing is left in the machine's shared folders.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import attack_kit as kit
from autograder import paths
from autograder.engine import grade_submission
from autograder.grading import grade_folder
from autograder.runtime import sandbox, teardown
from autograder.runtime.sandbox import Isolation, Limits, Worker, choose_isolation, probe_cached
from submission_kit import attack_submission, reference_submission

FAST = Limits(call_seconds=2.0, import_seconds=4.0)
SANDBOX = probe_cached("sandbox") is None
needs_sandbox = pytest.mark.skipif(not SANDBOX, reason=f"bubblewrap cannot run here: {probe_cached('sandbox')}")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become other users")


def gradebook(out: Path) -> dict[str, float]:
    with open(out / "grades.csv") as handle:
        return {row["submission"]: float(row["total"]) for row in csv.DictReader(handle)}


def wait_for_no_workers(seconds: float = 5.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while kit.live_workers() and time.monotonic() < deadline:
        time.sleep(0.1)
    return kit.live_workers()


def call(files: dict[str, str], function: str, limits: Limits = FAST, module: str = "attack", seconds: float = 20):
    with Worker(files, limits, choose_isolation("sandbox")) as worker:
        return worker.request({"op": "call", "module": module, "function": function, "args": [], "kwargs": {}},
                              seconds, function)


# --- the sandbox cannot be switched off from inside -------------------------------------------

@needs_sandbox
def test_modules_named_like_the_standard_library_cannot_break_the_worker(tmp_path):
    grade = grade_submission(kit.shadowing(tmp_path / "shadow"), "shadow", isolation=choose_isolation())
    assert grade.score == 100
    assert grade.isolation.startswith("sandbox")


@needs_sandbox
def test_padding_the_folder_changes_nothing(tmp_path):
    grade = grade_submission(kit.padding(tmp_path / "pad"), "pad", isolation=choose_isolation())
    assert grade.score == 100


@needs_sandbox
def test_a_worker_that_cannot_start_is_retried_once_then_reported_and_the_level_stays(tmp_path, monkeypatch):
    subs, out = tmp_path / "subs", tmp_path / "out"
    reference_submission(subs / "alice")
    reference_submission(subs / "bob")
    starts = tmp_path / "bob-starts"  # a file: grading runs in grader processes of its own
    real_command = Worker._command

    def broken_for_bob(self, level, *rest):
        if "bob" in self.files.get("clipping.py", "") or self.files.get("clipping.py", "").startswith("# bob"):
            with open(starts, "a") as handle:
                handle.write("start\n")
            return ["/bin/false"], {}, None
        return real_command(self, level, *rest)

    (subs / "bob" / "clipping.py").write_text("# bob\n" + (subs / "bob" / "clipping.py").read_text())
    monkeypatch.setattr(Worker, "_command", broken_for_bob)
    summary = grade_folder(subs, out, jobs=1, progress=False)
    assert gradebook(out) == {"alice": 100.0, "bob": 0.0}
    assert starts.read_text().count("start") == 2  # tried, tried once more, then reported
    bob = json.loads((out / "submissions" / "bob" / "results.json").read_text())
    assert "sandbox could not start" in json.dumps(bob)
    assert summary.isolation.startswith("sandbox")
    assert all(json.loads((out / "submissions" / n / "results.json").read_text())["output"].count("sandbox:") for n in ("alice", "bob"))


def test_grading_refuses_a_weaker_level_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "probe_cached", lambda level, secrets=(): "bubblewrap is not here"
                        if level == "sandbox" else None)
    reference_submission(tmp_path / "subs" / "alice")
    with pytest.raises(sandbox.IsolationError, match="pass --isolation"):
        grade_folder(tmp_path / "subs", tmp_path / "out", jobs=1, progress=False)
    summary = grade_folder(tmp_path / "subs", tmp_path / "out", jobs=1, progress=False, isolation="process")
    assert summary.isolation.startswith("process")
    results = json.loads((tmp_path / "out" / "submissions" / "alice" / "results.json").read_text())
    assert "process: a plain child process" in results["output"]


# --- what the worker is and sees ---------------------------------------------------------------

SPY = '''
import os
def report():
    status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
    return repr({"root": sorted(os.listdir("/")), "tmp": sorted(os.listdir("/tmp")), "work": sorted(os.listdir(".")),
                 "exists": [p for p in FORBIDDEN if os.path.exists(p)], "uid": os.getuid(), "pid": os.getpid(),
                 "caps": status["CapEff"].strip(), "host": os.uname().nodename})
'''


@needs_sandbox
def test_the_worker_sees_an_allow_list_and_runs_without_privileges(tmp_path):
    from autograder.runtime import bwrap

    forbidden = [str(paths.SOLUTIONS), str(paths.REPO / "autograder" / "suite"), str(tmp_path), "/etc/passwd",
                 str(paths.REPO / "tests"), "/home", "/var", "/run", "/dev/shm/x", "/usr/bin"]
    spy = f"FORBIDDEN = {forbidden!r}\n" + SPY
    seen = [eval(call({"attack.py": spy, "clipping.py": "x = 1\n"}, "report")["result"]["value"]) for _ in range(2)]
    first = seen[0]
    allowed = {"proc", "dev", "tmp", "opt"} | {Path(p).parts[1] for p in bwrap.python_paths()}
    allowed |= {name for name in ("lib", "lib64", "lib32", "bin") if os.path.islink(f"/{name}")}
    assert set(first["root"]) == allowed
    assert first["exists"] == []
    # /tmp holds the working folder, and the top of any Python install bound below /tmp (a clone there)
    below_tmp = {Path(p).parts[2] for p in bwrap.python_paths() if Path(p).parts[1:2] == ("tmp",)}
    assert first["work"] == ["attack.py", "clipping.py"] and set(first["tmp"]) == {"work"} | below_tmp
    assert first["caps"] == "0000000000000000" and first["host"] == "sandbox"
    assert first["pid"] <= 3
    assert seen[0]["uid"] != seen[1]["uid"]  # a uid of its own per worker


@needs_sandbox
@needs_root
def test_as_root_the_worker_is_another_uid_on_the_host():
    files = {"attack.py": "import time\ndef wait():\n    time.sleep(1)\n    return 0\n"}
    with Worker(files, FAST, choose_isolation("sandbox")) as worker:
        process = worker._process
        worker_uids = set()
        deadline = time.monotonic() + 5
        while not worker_uids and time.monotonic() < deadline:
            for line in kit.live_workers():
                if line.split()[1].endswith(("bwrap", "setpriv")):
                    continue  # the launchers; the worker is the Python process
                status = Path(f"/proc/{line.split(':')[0]}/status").read_text()
                worker_uids.add(int(next(r for r in status.splitlines() if r.startswith("Uid:")).split()[1]))
        assert process is not None
    assert worker_uids and 0 not in worker_uids and min(worker_uids) >= sandbox.UID_BASE


# --- nothing outlives the run, nothing leaks out -------------------------------------------------

@needs_sandbox
def test_a_setsid_daemon_dies_with_its_worker(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("intact")
    grade = grade_submission(kit.daemon(tmp_path / "daemon", [str(victim)]), "daemon", limits=FAST,
                             isolation=choose_isolation())
    assert grade.score == 0
    assert wait_for_no_workers() == []
    time.sleep(0.5)
    assert victim.read_text() == "intact"


@needs_sandbox
def test_the_network_is_unreachable(tmp_path):
    with kit.loopback_listener() as listener:
        grade = grade_submission(kit.network(tmp_path / "net", listener.getsockname()[1]), "net", limits=FAST,
                                 isolation=choose_isolation())
        with pytest.raises(socket.timeout):
            listener.accept()
    assert grade.score == 0


@needs_sandbox
def test_no_files_or_ipc_are_left_behind(tmp_path):
    tag = f"inproc{os.getpid()}"
    grade = grade_submission(kit.litter(tmp_path / "litter", tag), "litter", limits=FAST, isolation=choose_isolation())
    assert grade.score == 0
    assert kit.leftovers(tag) == []


# --- bounded as a whole ------------------------------------------------------------------------------

@needs_sandbox
def test_memory_split_across_children_is_bounded_for_the_submission():
    isolation = choose_isolation("sandbox")
    limits = Limits(call_seconds=15, memory_bytes=1024**3)
    with Worker({"attack.py": kit.memory_split(4, 400 * 1024**2)}, limits, isolation) as worker:
        reply = worker.request({"op": "call", "module": "attack", "function": "held", "args": [], "kwargs": {}},
                               15, "held")
    if not isolation.cgroup:
        assert "memory bounded per process" in isolation.describe()
        pytest.skip("no cgroup here: only per-process memory limits apply, and the run says so")
    held = reply["result"]["value"] if reply.get("ok") else 0
    assert held <= 2, reply  # 4 x 400 MiB cannot fit in 1 GiB at once


@needs_sandbox
def test_the_submission_has_a_time_budget(tmp_path):
    slow_everything = '''
        import functools as _functools, time as _time
        for _name, _value in list(globals().items()):
            if callable(_value) and not _name.startswith("_") and getattr(_value, "__module__", "") == __name__:
                globals()[_name] = (lambda f: _functools.wraps(f)(lambda *a, **k: (_time.sleep(0.9), f(*a, **k))[1]))(_value)
    '''
    slow = attack_submission(tmp_path / "slow", "", lambda module: slow_everything)
    started = time.monotonic()
    grade = grade_submission(slow, "slow", limits=Limits(call_seconds=1.0, submission_seconds=3.0),
                             isolation=choose_isolation())
    assert time.monotonic() - started < 15  # 22 functions x 1 s without the budget
    assert any("time budget of 3 s" in t.message for t in grade.tests)
    assert any("time budget" in note for note in grade.notes)


FLOOD = '''
import numpy as np
def big():
    return np.ones(1_500_000)
'''


@needs_sandbox
def test_replies_are_capped_per_submission():
    limits = Limits(reply_bytes=30 * 1024**2)  # 12 MB a reply
    with Worker({"attack.py": FLOOD}, limits, choose_isolation("sandbox")) as worker:
        ok = [worker.request({"op": "call", "module": "attack", "function": "big", "args": [], "kwargs": {}}, 10, "big")
              for _ in range(2)]
        assert all(r["ok"] for r in ok)
        with pytest.raises(sandbox.WorkerFailure, match="MiB in all"):
            for _ in range(10):
                worker.request({"op": "call", "module": "attack", "function": "big", "args": [], "kwargs": {}}, 10, "big")
        assert worker.received <= limits.reply_bytes + (1 << 20)


FORGER = '''
import io, json, os, struct
import numpy as np

def _send(frame):
    for fd in range(3, 32):
        try:
            os.write(fd, frame)
        except OSError:
            pass
    return 0.0

def _frame(header, *arrays):
    data = json.dumps(header).encode() if not isinstance(header, bytes) else header
    parts = [struct.pack(">I", len(data)), data]
    for array in arrays:
        buffer = io.BytesIO()
        np.save(buffer, array)
        parts += [struct.pack(">Q", len(buffer.getvalue())), buffer.getvalue()]
    return b"".join(parts)

def deep_json():
    return _send(_frame(b"[" * 200_000 + b"]" * 200_000))

def text_array():
    return _send(_frame({"dict": {"ok": True, "result": {"dict": {"kind": "ndarray", "value": {"array": 0}}}}},
                        np.array(["a", "b"])))

def huge_header():
    return _send(struct.pack(">I", 0xFFFFFFF0))

def huge_npy():
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000000000000000000000,), }"
    blob = b"\\x93NUMPY\\x01\\x00" + struct.pack("<H", len(header) + 1) + header + b"\\n"
    frame = _frame({"dict": {"ok": True, "result": {"dict": {"kind": "ndarray", "value": {"array": 0}}}}})
    return _send(frame + struct.pack(">Q", len(blob)) + blob)

def judge_crasher():
    import inspect
    seq = next(f.frame.f_locals["request"]["seq"] for f in inspect.stack() if "request" in f.frame.f_locals)
    return _send(_frame({"dict": {"ok": True, "seq": {"int": str(seq)}, "result": {"dict": {
        "kind": "list", "items": {"int": "5"}}}}}))
'''


@needs_sandbox
@pytest.mark.parametrize("attack", ["deep_json", "text_array", "huge_header", "huge_npy"])
def test_malformed_replies_are_unreadable_answers(attack):
    with Worker({"attack.py": FORGER}, FAST, choose_isolation("sandbox")) as worker:
        with pytest.raises(sandbox.WorkerFailure, match="unreadable answer"):
            worker.request({"op": "call", "module": "attack", "function": attack, "args": [], "kwargs": {}}, 10, attack)


@needs_sandbox
def test_an_answer_the_judge_cannot_read_fails_its_check_only(tmp_path):
    folder = reference_submission(tmp_path / "forger")
    source = (folder / "clipping.py").read_text()
    (folder / "clipping.py").write_text(source + "\n" + FORGER + "\nglobal_norm = lambda grads, norm_type=2.0: judge_crasher()\n")
    grade = grade_submission(folder, "forger", limits=FAST, isolation=choose_isolation())
    lost = {t.function for t in grade.tests if t.score < t.max_score}
    assert lost == {"global_norm"}
    assert any("unreadable answer" in t.message for t in grade.tests if t.function == "global_norm")


DISK = '''
import ctypes, os
def fill_disk():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
    results = []
    for fd in (1, 2):
        results.append(libc.fallocate(fd, 1, 0, 1 << 30))  # FALLOC_FL_KEEP_SIZE, past RLIMIT_FSIZE
    return float(max(results))
def fill_shm():
    for folder in ("/dev/shm", "/dev", "/tmp"):
        try:
            for index in range(16):  # 16 files of 8 MiB: under the file-size limit, over /tmp's size
                with open(f"{folder}/fill{index}", "wb") as handle:
                    for _ in range(8):
                        handle.write(b"x" * (1 << 20))
        except OSError as error:
            if error.errno != (28 if folder == "/tmp" else 30):  # ENOSPC in /tmp, EROFS in /dev
                return -float(error.errno)
            continue
        return -1000.0
    return 0.0
'''


@needs_sandbox
def test_no_disk_or_memory_tmpfs_can_be_filled_from_the_sandbox():
    """Output goes to a drained pipe (nothing to fallocate), /dev is read-only, /tmp is 64 MiB."""
    assert call({"attack.py": DISK}, "fill_disk")["result"]["value"] == -1.0
    assert call({"attack.py": DISK}, "fill_shm", limits=Limits(call_seconds=20))["result"]["value"] == 0.0


BOOLS = '''
import numpy as np
def bools():
    return np.ones(2_000_000, dtype=bool)
'''


@needs_sandbox
def test_narrow_arrays_are_charged_at_the_size_the_judge_will_make_them():
    limits = Limits(reply_bytes=40 * 1024**2)
    with Worker({"attack.py": BOOLS}, limits, choose_isolation("sandbox")) as worker:
        with pytest.raises(sandbox.WorkerFailure, match="MiB in all"):
            for _ in range(4):  # 2 MB each on the wire, 16 MB each as float64
                worker.request({"op": "call", "module": "attack", "function": "bools", "args": [], "kwargs": {}},
                               10, "bools")


# --- the whole class, as other users and at other levels ------------------------------------------

def _attack_class(root: Path, listener_port: int, tag: str, secret_solutions: Path,
                  private: bool = False) -> tuple[Path, Path]:
    """A class of attacks beside one honest student; ``private``: only the grader may enter
    the submissions folder (required at the uid level)."""
    subs, out = root / "subs", root / "out"
    reference_submission(subs / "alice")
    kit.copier(subs / "copier")
    kit.open_folder(tag)
    kit.shadowing(subs / "shadow")
    kit.padding(subs / "padding", files=8)
    kit.daemon(subs / "daemon", [str(out / "submissions" / "alice" / "results.json"), str(out / "grades.csv")])
    kit.network(subs / "network", listener_port)
    kit.litter(subs / "litter", tag)
    attack_submission(subs / "thief", kit.reader([str(secret_solutions / "normalization.py")]), kit.delegate)
    for path in root.rglob("*"):
        os.chmod(path, 0o777 if path.is_dir() else 0o666)
    if private:
        os.chmod(subs, 0o700)
    return subs, out


def _check_class_run(done, out: Path, tag: str, listener: socket.socket, network_closed: bool) -> None:
    assert done.returncode == 0, done.stderr[-3000:]
    expected = {"alice": 100.0, "shadow": 100.0, "padding": 100.0, "daemon": 0.0, "network": 0.0, "litter": 0.0,
                "thief": 0.0, "copier": 0.0}
    assert gradebook(out) == expected
    alice = (out / "submissions" / "alice" / "results.json").read_text()
    assert wait_for_no_workers() == []
    time.sleep(0.5)
    assert (out / "submissions" / "alice" / "results.json").read_text() == alice and json.loads(alice)["score"] == 100
    assert gradebook(out) == expected
    assert kit.leftovers(tag) == []
    if network_closed:
        with pytest.raises(socket.timeout):
            listener.accept()


@needs_sandbox
@needs_root
@pytest.mark.slow
def test_the_attacks_fail_when_an_unprivileged_user_grades():
    root = kit.shared_folder("stability-attacks-")
    tag = f"plain{os.getpid()}"
    try:
        with kit.loopback_listener() as listener:
            subs, out = _attack_class(root, listener.getsockname()[1], tag, paths.SOLUTIONS)
            done = kit.as_user([sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out),
                                "--jobs", "1", "--quiet"], kit.PLAIN_USER)
            _check_class_run(done, out, tag, listener, network_closed=True)
        assert "sandbox:" in done.stdout and "no cgroup" in done.stdout
        assert os.stat(out / "submissions" / "alice" / "results.json").st_uid == kit.PLAIN_USER
    finally:
        shutil.rmtree(root, ignore_errors=True)


@needs_root
@pytest.mark.slow
def test_the_attacks_fail_at_the_uid_level(tmp_path):
    """The Gradescope floor: a root grader whose files are private, workers as their own uids."""
    grader = Path(tmp_path / "grader")  # pytest's tmp_path is private to root
    shutil.copytree(paths.REPO / "autograder", grader / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(paths.SOLUTIONS, grader / "solutions")
    os.chmod(grader, 0o700)
    root = kit.shared_folder("stability-uid-")
    tag = f"uid{os.getpid()}"
    try:
        with kit.loopback_listener() as listener:
            subs, out = _attack_class(root, listener.getsockname()[1], tag, grader / "solutions", private=True)
            done = kit.as_user([sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out),
                                "--jobs", "1", "--quiet", "--isolation", "uid"], None, pythonpath=grader,
                               absent=(paths.SOLUTIONS,))
            # At this level the network is not closed (the README says so): not asserted here.
            _check_class_run(done, out, tag, listener, network_closed=False)
        assert "uid: a uid of its own" in done.stdout
    finally:
        shutil.rmtree(root, ignore_errors=True)


@needs_root
def test_the_uid_level_refuses_to_run_while_the_reference_is_readable(tmp_path):
    reference_submission(tmp_path / "subs" / "alice")
    with pytest.raises(sandbox.IsolationError, match="readable by other users"):
        grade_folder(tmp_path / "subs", tmp_path / "out", jobs=1, progress=False, isolation="uid")


@needs_root
def test_the_uid_level_refuses_to_run_while_classmates_work_is_readable(monkeypatch):
    root = kit.shared_folder("stability-open-")
    try:
        reference_submission(root / "subs" / "alice")
        os.chmod(root / "subs", 0o755)
        monkeypatch.setattr(sandbox, "probe_cached", sandbox.probe)  # no cached answer for other secrets
        monkeypatch.setattr("autograder.paths.secret_files", lambda: ())
        with pytest.raises(sandbox.IsolationError, match=f"{root / 'subs'} is readable by other users"):
            grade_folder(root / "subs", root / "out", jobs=1, progress=False, isolation="uid")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_an_unknown_level_is_refused():
    with pytest.raises(sandbox.IsolationError, match="unknown isolation level"):
        choose_isolation("containers")


def test_every_level_is_described():
    assert set(sandbox.DESCRIPTIONS) == set(sandbox.LEVELS)
    assert "no cgroup" in Isolation("sandbox", cgroup=False).describe()
    assert "cgroup" in Isolation("sandbox", cgroup=True).describe()


def test_replies_with_numbers_only_cross(tmp_path):
    import io

    from autograder.runtime import protocol

    buffer = io.BytesIO()
    protocol.write_message(buffer, {"value": np.arange(3.0)})
    buffer.seek(0)
    assert protocol.read_message(buffer)["value"].tolist() == [0.0, 1.0, 2.0]


@needs_sandbox
def test_huge_messages_are_capped_in_the_report_and_results(tmp_path):
    from autograder.feedback.report import feedback_html
    from autograder.results import results_json

    prelude = '''
        import sys
        _worker = sys.modules["__main__"]
        _worker._error = lambda exc, workdir: {"ok": False, "error": "E" * 100_000, "message": "M" * 1_500_000,
                                               "where": "W" * 100_000, "bases": ["B" * 100_000]}
        print("P" * 10_000_000)
    '''

    def raising(module):
        return "def _boom(*a, **k):\n    raise ValueError('x')\n" + "\n".join(
            f"{name} = _boom" for name in {"normalization": ["batch_norm", "layer_norm", "group_norm", "rms_norm"],
                                          "clipping": ["global_norm", "clip_by_value", "clip_by_norm"]}.get(module, []))

    grade = grade_submission(attack_submission(tmp_path / "loud", prelude, raising), "loud", limits=FAST,
                             isolation=choose_isolation())
    assert grade.score == 0
    assert len(feedback_html(grade)) < 2_000_000
    assert len(results_json(grade)) < 1_000_000


def _stability_cgroups() -> set[str]:
    from autograder.runtime import cgroups

    return {str(p) for p in cgroups.ROOT.rglob(f"{cgroups.PREFIX}*")} if cgroups.ROOT.is_dir() else set()


@pytest.mark.parametrize("level", ["sandbox", "process"])
def test_a_grader_killed_mid_run_leaves_nothing_behind(tmp_path, level):
    """SIGKILL the grader while a submission hangs: its worker dies with it, and the next run
    removes whatever the killed one could not (private folders, empty cgroups)."""
    if level == "sandbox" and not SANDBOX:
        pytest.skip("bubblewrap cannot run here")
    hang = attack_submission(tmp_path / "subs" / "hang", "import time\ntime.sleep(120)\n")
    grader = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(hang.parent), "--out",
                               str(tmp_path / "out"), "--jobs", "1", "--quiet", "--isolation", level],
                              cwd=paths.REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, seen = time.monotonic() + 30, {}
    while time.monotonic() < deadline:  # until one worker (not the probe's) has run for a second
        now = time.monotonic()
        for line in kit.live_workers():
            seen.setdefault(line, now)
        if any(now - first > 1.0 and line in kit.live_workers() for line, first in seen.items()):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the worker never started")
    grader.kill()
    grader.wait()
    assert wait_for_no_workers() == []
    # the next worker of any run cleans up after the killed grader
    with Worker({"clipping.py": "x = 1\n"}, FAST, choose_isolation(level)):
        pass
    assert list(Path("/tmp").glob(f"{teardown.PRIVATE_PREFIX}{grader.pid}-*")) == []
    assert [group for group in _stability_cgroups() if f"stability-{grader.pid}-" in group] == []


@pytest.mark.skipif(not os.environ.get("CI"), reason="outside CI a machine may lack user namespaces")
def test_ci_machines_run_the_sandbox():
    """In CI the sandbox must work, or every test above that needs it would skip unseen."""
    assert probe_cached("sandbox") is None, probe_cached("sandbox")
