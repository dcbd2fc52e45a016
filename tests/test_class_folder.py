"""The trusted side of a class run: a grader process that dies is replaced and its submission
retried alone, then reported; class files cannot collide with a student's folder; links and
undecodable names are reported, never dropped."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from autograder import paths
from autograder.grading import PROCESS_TAG, grading_tag
from submission_kit import attack_submission, reference_submission

SLOW_IMPORT = '''
    import time
    time.sleep(4)
'''


def grade_cmd(subs: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out), "--quiet", *extra]


def graders(parent: int | None = None) -> dict[int, str]:
    """The grader processes (of ``parent``, a `grade` process) and what they grade:
    ``sl-<hash>`` (see ``grading.grading_tag``) in the kernel's name while grading one."""
    found = {}
    kids = children_of(parent) if parent is not None else None
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (kids is None or int(entry.name) in kids):
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm.startswith(PROCESS_TAG):
                found[int(entry.name)] = comm
    return found


def kill_graders_of(process: subprocess.Popen, name: str,
                    timeout: float = 240) -> tuple[list[int], list[set[str]]]:
    """SIGKILL every grader process (a child of ``grade``) seen grading ``name``, as the
    kernel's OOM killer would, until ``grade`` exits; returns the pids killed and, for each
    kill, what the other grader processes were grading at that moment."""
    killed: list[int] = []
    in_flight: list[set[str]] = []
    first_seen, deadline = None, time.time() + timeout
    while process.poll() is None and time.time() < deadline:
        running = graders(process.pid)
        for pid, tag in running.items():
            if tag != grading_tag(name) or pid in killed:
                continue
            first_seen = first_seen or time.time()
            busy = set(running.values()) - {tag, PROCESS_TAG + "idle"}
            if not killed and not busy and time.time() - first_seen < 3:
                continue  # the first kill waits until a classmate is graded in the same pool
            in_flight.append(busy)
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        time.sleep(0.02)
    return killed, in_flight


def slow_reference(folder: Path) -> Path:
    """A correct submission whose import takes a second, so it shares the pool with others."""
    reference_submission(folder)
    with open(folder / "normalization.py", "a") as handle:
        handle.write("\nimport time\ntime.sleep(1)\n")
    return folder


def test_a_dead_grader_process_is_replaced_and_only_its_submission_reported(tmp_path):
    """The attack for real: the grader process grading ``victim`` is SIGKILLed from outside
    (the OOM killer's signal), found by the name it shows while grading, on every attempt,
    while another process of the same pool grades an innocent classmate. The run completes, every classmate is graded, and only the victim
    is reported."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    attack_submission(subs / "a-victim", SLOW_IMPORT)
    innocents = ("b-innocent", "c-innocent", "d-innocent")
    for name in innocents:
        slow_reference(subs / name)
    process = subprocess.Popen(grade_cmd(subs, out, "--jobs", "2"), cwd=paths.REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    killed, in_flight = kill_graders_of(process, "a-victim")
    stdout, stderr = process.communicate(timeout=240)
    assert len(killed) == 2, (killed, stdout, stderr)  # the first attempt and the one retry
    # An innocent was being graded in the same pool when it broke, and was not blamed.
    assert {grading_tag(n) for n in innocents} & in_flight[0]
    assert process.returncode == 3, stderr
    assert "a-victim: internal error: the grader process died twice" in stderr
    assert "could not be graded" in stdout and "graded 3," in stdout
    with open(out / "grades.csv") as handle:
        totals = {r["submission"]: float(r["total"]) for r in csv.DictReader(handle)}
    assert totals == {"b-innocent": 100.0, "c-innocent": 100.0, "d-innocent": 100.0}
    assert not (out / "submissions" / "a-victim" / "results.json").exists()


def test_a_grader_killed_once_is_retried_and_graded(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    attack_submission(subs / "once", SLOW_IMPORT)
    reference_submission(subs / "once")
    reference_submission(subs / "other")
    process = subprocess.Popen(grade_cmd(subs, out, "--jobs", "1"), cwd=paths.REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while process.poll() is None and time.time() < deadline:
        found = [pid for pid, tag in graders(process.pid).items() if tag == grading_tag("once")]
        if found:
            os.kill(found[0], signal.SIGKILL)
            break
        time.sleep(0.02)
    stdout, stderr = process.communicate(timeout=240)
    assert process.returncode == 0, stderr
    assert "graded 2," in stdout
    assert json.loads((out / "submissions" / "once" / "results.json").read_text())["score"] == 100


def test_student_folders_named_like_class_files_cannot_collide(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    for name in ("grades.csv", "submissions", "alice"):
        reference_submission(subs / name)
    done = subprocess.run(grade_cmd(subs, out, "--jobs", "1"), cwd=paths.REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert (out / "grades.csv").is_file()
    with open(out / "grades.csv") as handle:
        totals = {r["submission"]: float(r["total"]) for r in csv.DictReader(handle)}
    assert totals == {"alice": 100.0, "grades.csv": 100.0, "submissions": 100.0}
    assert (out / "submissions" / "grades.csv" / "results.json").is_file()
    merged = tmp_path / "merged.csv"
    done = subprocess.run([sys.executable, "-m", "autograder", "merge", str(out), "--out", str(merged)],
                          cwd=paths.REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "3 submissions" in done.stdout


def test_links_and_undecodable_names_are_reported_not_dropped(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    reference_submission(subs / "alice")
    reference_submission(tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", subs / "linked")
    os.mkdir(os.fsencode(subs) + b"/caf\xe9")  # Latin-1, not UTF-8
    reference_submission(Path(os.fsdecode(os.fsencode(subs) + b"/caf\xe9")))
    done = subprocess.run(grade_cmd(subs, out, "--jobs", "1"), cwd=paths.REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "2 not graded" in done.stdout
    assert "linked: a symbolic link, not a folder" in done.stdout
    assert "caf\\xe9: the folder name is not valid UTF-8" in done.stdout
    with open(out / "grades.csv") as handle:
        assert [r["submission"] for r in csv.DictReader(handle)] == ["alice"]


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def test_killing_grade_ends_its_grader_processes(tmp_path):
    """SIGKILL only the `grade` process (not its group): its grader processes end with it."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    attack_submission(subs / "slow", "import time\ntime.sleep(30)\n")
    process = subprocess.Popen(grade_cmd(subs, out, "--jobs", "1"), cwd=paths.REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, pool = time.time() + 60, set()
    while time.time() < deadline and not pool:
        pool = {pid for pid, tag in graders(process.pid).items() if tag == grading_tag("slow")}
        time.sleep(0.05)
    assert pool, "no grader process started"
    process.kill()
    process.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(map(running, pool)):
        time.sleep(0.05)
    assert not [pid for pid in pool if running(pid)]


def running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (killed, not yet reaped)."""
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) not in ("Z", "X")
    except OSError:
        return False
