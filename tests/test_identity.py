"""Caller identity, read from real processes: what grants bind to and who counts as agentctl.

These start real processes (a script, a spoofed command line, a Flatpak-style sandbox
made with bubblewrap, as Flatpak itself does) and read them the way agentd does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from testkit.bus import AGENTCTL, Bus, Daemon
from testkit.helpers import sandboxed

from agentd.policy.identity import identify, interpreter, is_agentctl

pytestmark = pytest.mark.services

SLEEP = "import time; time.sleep(30)"


@contextmanager
def running(argv: list[str], **kw: object) -> Iterator[int]:
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
    try:
        time.sleep(0.4)  # past exec
        assert proc.poll() is None, f"{argv} exited with {proc.returncode}"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_a_script_started_by_a_relative_path_is_its_script(tmp_path: Path) -> None:
    (tmp_path / "client.py").write_text(SLEEP + "\n")
    with running([sys.executable, "client.py"], cwd=tmp_path) as pid:
        who = identify(pid)
    assert who.exe == os.path.realpath(sys.executable)
    assert who.program == str(tmp_path / "client.py") and not who.problem
    assert not who.sandboxed and not who.tty


def test_a_native_program_is_its_executable() -> None:
    with running(["sleep", "30"]) as pid:
        who = identify(pid)
    assert who.program == who.exe == os.path.realpath(shutil.which("sleep") or "")


def test_argv_cannot_pass_for_agentctl(tmp_path: Path) -> None:
    """`python3 '-cimport evil' /usr/bin/agentctl` runs evil; it is not agentctl."""
    with running([sys.executable, f"-c{SLEEP}", AGENTCTL]) as pid:
        who = identify(pid)
    assert who.program == "" and "not a script file" in who.problem
    assert not is_agentctl(who, frozenset({AGENTCTL}))
    with running([sys.executable, "-I", "-c", SLEEP, AGENTCTL]) as pid:  # a safe flag first
        assert identify(pid).program == ""


def test_preloaded_code_is_not_agentctl(tmp_path: Path) -> None:
    """agentctl's own path, but PYTHONPATH could put other code inside it."""
    (tmp_path / "sitecustomize.py").write_text(SLEEP + "\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    with running([sys.executable, AGENTCTL, "--version"], env=env) as pid:
        who = identify(pid)
    assert who.program == "" and "PYTHONPATH" in who.problem
    assert not is_agentctl(who, frozenset({AGENTCTL}))


def test_agentctl_itself_is_recognised(bus: Bus, daemon: Daemon) -> None:
    """The real agentctl, waiting for an answer to its question."""
    with running([AGENTCTL, "ask", "call mom"], env=bus.env,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as pid:
        who = identify(pid)
    assert os.path.realpath(who.exe) == interpreter()
    assert who.program == AGENTCTL and not who.problem
    assert is_agentctl(who, frozenset({AGENTCTL}))
    assert not is_agentctl(who, frozenset({"/usr/bin/agentctl"}))  # not an agentctl it knows


def test_a_flatpak_app_is_its_app_id(flatpak_info: Path) -> None:
    root = str(Path(__file__).resolve().parent.parent)
    argv = sandboxed(flatpak_info, sys.executable, "-c", SLEEP, binds=(root,))
    with running(argv) as bwrap_pid:
        child = int(Path(f"/proc/{bwrap_pid}/task/{bwrap_pid}/children").read_text().split()[0])
        who = identify(child)
    assert who.sandbox == "flatpak" and who.app_id == "org.example.Evil"
    assert who.program == "flatpak:org.example.Evil"
    assert not is_agentctl(who, frozenset({AGENTCTL}))


def test_identity_of_a_gone_process() -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    who = identify(proc.pid)
    assert who.program == "" and who.problem


def test_without_pidfd_the_pid_is_rechecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A seccomp filter or an old kernel without pidfd_open: start times are compared."""
    import agentd.policy.identity as identity_module

    def no_pidfd(pid: int) -> int:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(identity_module.os, "pidfd_open", no_pidfd)
    with running(["sleep", "30"]) as pid:
        who = identify(pid)
    assert who.program == os.path.realpath(shutil.which("sleep") or "") and who.start_time
