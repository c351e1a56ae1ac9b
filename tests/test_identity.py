"""Caller identity, read from real processes: what grants bind to and who counts as agentctl.

These start real processes (a script, a spoofed command line, a Flatpak-style sandbox
made with bubblewrap, as Flatpak itself does) and read them the way agentd does.
"""

from __future__ import annotations

import dataclasses
import json
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
from testkit.helpers import sandboxed, uinput_broker

from agentd.policy.identity import (
    ProcessIdentity,
    _from_reply,
    identify,
    identify_pidfd,
    interpreter,
    is_agentctl,
)

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


# -- through the identity service (agentd-uinput.service), as agentd in its unit ----------

ASKER = """
import json, sys
from dataclasses import asdict
from pathlib import Path
import agentd.policy.identity as identity
identity.SERVICE = Path(sys.argv[1])
print(json.dumps([asdict(identity.identify(int(p), sys.argv[2])) for p in sys.argv[3:]]))
"""


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The broker on a socket of its own, its identity answers for ``asker.py`` ("agentd"
    here); the socket's directory stands for /run (the tests cannot bind there)."""
    asker = tmp_path / "asker.py"
    asker.write_text(ASKER)
    sock = tmp_path / "run" / "agentd-uinput.sock"
    sock.parent.mkdir()
    with uinput_broker(sock, asker, tmp_path / "no-uinput"):
        yield sock, asker


def ask(service: tuple[Path, Path], pids: list[int], source: str = "auto",
        userns: bool = True) -> tuple[list[dict[str, object]], str]:
    """``identify`` of each pid from asker.py, in a user namespace of its own (as agentd
    runs in its unit: PrivateUsers=yes) unless ``userns`` is false; and its stderr."""
    sock, asker = service
    argv = [sys.executable, str(asker), str(sock), source, *map(str, pids)]
    if userns:
        argv = ["unshare", "--user", "--map-current-user", *argv]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout), out.stderr


def direct(pid: int) -> dict[str, object]:
    return dataclasses.asdict(identify(pid, source="proc"))


def test_inside_a_user_namespace_proc_is_closed(service: tuple[Path, Path]) -> None:
    """What agentd sees in its unit without the service: nothing verified."""
    with running(["sleep", "30"]) as pid:
        [who], _ = ask(service, [pid], source="proc")
    assert who["program"] == "" and "Permission denied" in str(who["problem"])


@contextmanager
def on_a_terminal(argv: list[str]) -> Iterator[int]:
    main, sub = os.openpty()
    try:
        with running(argv, preexec_fn=lambda: os.login_tty(sub)) as pid:
            yield pid
    finally:
        os.close(main)
        os.close(sub)


def test_the_service_answers_what_proc_says(service: tuple[Path, Path], tmp_path: Path,
                                            flatpak_info: Path) -> None:
    """A native program, a script by a relative path, a spoofed command line, preloaded
    code, a process on a terminal and a Flatpak-style sandbox: the same identity through
    the service, from inside a user namespace, as read from /proc outside it."""
    (tmp_path / "client.py").write_text(SLEEP + "\n")
    (tmp_path / "sitecustomize.py").write_text(SLEEP + "\n")
    root = str(Path(__file__).resolve().parent.parent)
    with running(["sleep", "30"]) as native, \
            running([sys.executable, "client.py"], cwd=tmp_path) as script, \
            running([sys.executable, f"-c{SLEEP}", AGENTCTL]) as spoofed, \
            running([sys.executable, AGENTCTL, "--version"],
                    env={**os.environ, "PYTHONPATH": str(tmp_path)}) as preloaded, \
            on_a_terminal(["sleep", "30"]) as terminal, \
            running(sandboxed(flatpak_info, sys.executable, "-c", SLEEP,
                              binds=(root,))) as bwrap:
        flatpak = int(Path(f"/proc/{bwrap}/task/{bwrap}/children").read_text().split()[0])
        pids = [native, script, spoofed, preloaded, terminal, flatpak]
        answers, stderr = ask(service, pids)
        expected = [direct(pid) for pid in pids]
    assert answers == expected, stderr
    by_pid = dict(zip(pids, answers, strict=True))
    assert by_pid[script]["program"] == str(tmp_path / "client.py")
    assert by_pid[spoofed]["program"] == "" and by_pid[preloaded]["program"] == ""
    assert by_pid[terminal]["tty"] is True and by_pid[native]["tty"] is False
    assert by_pid[flatpak]["program"] == "flatpak:org.example.Evil"
    assert "identity service" not in stderr  # no warning: every answer came


def test_agentctl_through_the_service(service: tuple[Path, Path], bus: Bus,
                                      daemon: Daemon) -> None:
    with running([AGENTCTL, "ask", "call mom"], env=bus.env,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as pid:
        [answer], _ = ask(service, [pid])
        assert answer == direct(pid)
    who = ProcessIdentity(**answer)  # type: ignore[arg-type]
    assert is_agentctl(who, frozenset({AGENTCTL}))


@pytest.mark.skipif(os.getuid() != 0, reason="starting another user's process needs root")
def test_the_service_says_nothing_about_another_users_process(
        service: tuple[Path, Path]) -> None:
    with running(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  "sleep", "30"]) as pid:
        [who], stderr = ask(service, [pid])
    assert who["program"] == "" and who["exe"] == ""
    assert f"process {pid} is not of uid 0" in str(who["problem"]), stderr


def test_the_service_answers_agentd_alone(service: tuple[Path, Path]) -> None:
    """Another program asking is refused, and gets no verified identity (fail closed)."""
    import agentd.policy.identity as identity_module

    with running(["sleep", "30"]) as pid, pytest.MonkeyPatch.context() as patch:
        patch.setattr(identity_module, "SERVICE", service[0])
        who = identify(pid, source="service")
    assert who.program == "" and "is not agentd" in who.problem


def test_no_service_no_identity(service: tuple[Path, Path], tmp_path: Path) -> None:
    """/proc closed and no service to ask: no verified identity, and a log line says so."""
    with running(["sleep", "30"]) as pid:
        [who], stderr = ask((tmp_path / "nothing-here.sock", service[1]), [pid])
    assert who["program"] == "" and "did not answer" in str(who["problem"])
    assert "gets no verified identity" in stderr


def test_the_service_takes_pidfds_only() -> None:
    with open(os.devnull) as null:
        who = identify_pidfd(null.fileno(), os.getuid())
    assert who.program == "" and "not a pidfd" in who.problem


def test_a_malformed_answer_is_no_identity() -> None:
    good = dataclasses.asdict(ProcessIdentity(5, "/usr/bin/x", "/usr/bin/x"))
    assert _from_reply(7, good) == ProcessIdentity(7, "/usr/bin/x", "/usr/bin/x")
    for bad in ({**good, "tty": 1}, {**good, "program": None}, {**good, "sandbox": "box"},
                [good]):
        with pytest.raises((TypeError, ValueError)):
            _from_reply(7, bad)
