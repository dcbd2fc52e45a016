"""The bubblewrap command line, built in one place (``autograder/runtime/bwrap.py``), states
every promise of the sandbox; the attack tests show each promise holds."""
from __future__ import annotations

import os

from autograder.runtime import bwrap


def test_the_sandbox_command_line_states_every_promise():
    """One place builds the bwrap command: namespaces, process promises, the allow-list."""
    command = bwrap.sandbox_command("/b/bwrap", ["/usr/lib", "/opt/py"], {7: "/opt/stability/worker.py"},
                                    ["/opt/py/bin/python", "-I"], tmp_bytes=1 << 20, sandbox_uid=4242)
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                 "--unshare-cgroup", "--die-with-parent", "--new-session", "--disable-userns", "--clearenv"):
        assert flag in command, flag
    assert command[command.index("--cap-drop") + 1] == "ALL"
    assert command[command.index("--uid") + 1] == "4242"
    binds = [command[i + 1] for i, arg in enumerate(command) if arg in ("--bind", "--dev-bind", "--ro-bind")]
    assert binds == ["/usr/lib", "/opt/py"]  # read-only, and nothing else of the host
    assert "--bind" not in command and "--dev-bind" not in command
    assert command[command.index("--ro-bind-data") + 1:command.index("--ro-bind-data") + 3] == \
        ["7", "/opt/stability/worker.py"]
    assert command[command.index("--remount-ro") + 1] == "/dev"
    assert command[command.index("--size") + 1:command.index("--size") + 4] == [str(1 << 20), "--tmpfs", "/tmp"]
    # /tmp is mounted before the binds, so a Python install below /tmp is not covered by it
    assert command.index("--tmpfs") < command.index("--ro-bind")
    assert command[command.index("--"):] == ["--", "/opt/py/bin/python", "-I"]


def test_a_root_grader_drops_to_the_workers_uid_before_the_sandbox(tmp_path):
    private = tmp_path / "closed"
    (private / "python").mkdir(parents=True)
    os.chmod(private, 0o700)
    prefix = bwrap.reexpose_prefix("/b/bwrap", [str(private / "python")], 123456)
    assert prefix[:4] == ["/b/bwrap", "--dev-bind", "/", "/"]
    closed = prefix[prefix.index("--tmpfs") + 1]  # the highest folder others cannot traverse
    assert str(private / "python").startswith(closed + "/") and not os.stat(closed).st_mode & 0o001
    assert prefix[prefix.index("--ro-bind"):prefix.index("--ro-bind") + 3] == ["--ro-bind", str(private / "python"),
                                                                             str(private / "python")]
    setpriv = prefix[prefix.index("--") + 1:]
    assert "--reuid=123456" in setpriv and "--regid=123456" in setpriv and "--pdeathsig=SIGKILL" in setpriv
    assert "--clear-groups" in setpriv and setpriv[-1] == "--"
