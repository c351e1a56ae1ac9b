"""Small helpers over the real clients used by the tests."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from testkit.bus import AGENTCTL, Bus, Daemon, wait_for

AGENT_PATH = "/io/agentd/Agent1"
FINAL = {"done", "failed", "cancelled", "interrupted"}


def gdbus_ask(bus: Bus, text: str, options: str = "{}") -> str:
    """Ask through gdbus, as any other program would; return the task's object path."""
    out = bus.gdbus_call(AGENT_PATH, "io.agentd.Agent1.Ask", text, options)
    assert out.returncode == 0, out.stderr
    match = re.search(r"objectpath '([^']+)'", out.stdout)
    assert match, out.stdout
    return match.group(1)


def task_json(bus: Bus, path_or_id: str) -> dict[str, Any]:
    out = bus.agentctl("--json", "task", path_or_id)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def wait_state(bus: Bus, path: str, states: set[str] | str = FINAL,
               timeout: float = 15) -> dict[str, Any]:
    wanted = {states} if isinstance(states, str) else states
    result: dict[str, Any] = {}

    def reached() -> bool:
        result.update(task_json(bus, path))
        return result["state"] in wanted

    wait_for(reached, timeout=timeout, interval=0.1)
    return result


def agentctl_ask(bus: Bus, text: str) -> dict[str, Any]:
    """``agentctl ask --json TEXT``, as a script would: the finished task."""
    out = bus.agentctl("ask", "--json", text)
    assert out.stdout, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def only_step(task: dict[str, Any]) -> dict[str, Any]:
    """The task's one step."""
    (step,) = task["steps"]
    return step  # type: ignore[no-any-return]


def dbus_error(stderr: str) -> str:
    """The D-Bus error name in a gdbus/busctl error message."""
    match = re.search(r"(io\.agentd\.Error\.\w+|org\.freedesktop\.DBus\.Error\.\w+)", stderr)
    return match.group(1) if match else stderr


def raw_call(bus: Bus, member: str, signature: str, body: list[Any],
             path: str = AGENT_PATH, interface: str = "io.agentd.Agent1") -> tuple[str, str]:
    """Send one method call with dbus-fast (any signature, any body); return (error, text).

    ``error`` is "" on success, else the D-Bus error name.
    """
    import asyncio

    from dbus_fast import Message, MessageType
    from dbus_fast.aio import MessageBus

    async def call() -> tuple[str, str]:
        conn = await MessageBus(bus_address=bus.address).connect()
        try:
            reply = await conn.call(Message(destination="io.agentd.Agent1", path=path,
                                            interface=interface, member=member,
                                            signature=signature, body=body))
        finally:
            conn.disconnect()
        assert reply is not None
        text = str(reply.body[0]) if reply.body else ""
        if reply.message_type is MessageType.ERROR:
            return reply.error_name or "", text
        return "", text

    return asyncio.run(call())


def _controlling_terminal() -> None:
    """In the child: a new session whose controlling terminal is stdin (the pty)."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _read(fd: int) -> bytes:
    """What the terminal has for us; b"" once the program's side is closed."""
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""


def run_in_terminal(bus: Bus, argv: list[str], answer: bytes = b"",
                    prompt: bytes = b"", timeout: float = 20) -> tuple[int, bytes]:
    """Run ``argv`` as a user at a terminal would: a pty that is its controlling terminal.

    Typing ``answer`` once ``prompt`` shows. Returns (exit status, everything shown)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, env=bus.env, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, preexec_fn=_controlling_terminal)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + timeout
    answered = not answer
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            chunk = _read(master)
            if not chunk:
                break
            seen += chunk
        if not answered and prompt in seen:
            os.write(master, answer)
            answered = True
        if proc.poll() is not None and not ready:
            break
    proc.wait(timeout=10)
    # What it wrote between the last empty select and its exit is still in the pty.
    while select.select([master], [], [], 0)[0] and (chunk := _read(master)):
        seen += chunk
    os.close(master)
    return proc.returncode, seen


def ask_and_allow(bus: Bus, text: str) -> dict[str, Any]:
    """``agentctl ask --json TEXT`` at a terminal, the user answering "y" to any question
    (steps that change the screen, input.* among them, need the user's yes)."""
    _, seen = run_in_terminal(bus, [AGENTCTL, "ask", "--json", text], b"y\n", b"[y/N",
                              timeout=30)
    lines = [line.strip() for line in seen.decode(errors="replace").splitlines()
             if line.strip().startswith("{")]
    assert lines, seen
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def answer_in_terminal(bus: Bus, path_or_id: str, command: str = "confirm",
                       *flags: str) -> str:
    """The user answers a waiting task with ``agentctl confirm|deny|cancel ID`` at a
    terminal (the only way, besides agentd's notification, that Allow is accepted)."""
    task_id = path_or_id.rsplit("/", 1)[-1]
    code, seen = run_in_terminal(bus, [AGENTCTL, command, *flags, task_id])
    text = seen.decode(errors="replace").strip()
    assert code == 0, text
    return text


def sandboxed(info: Path, *argv: str, binds: tuple[str, ...] = ()) -> list[str]:
    """argv inside a bubblewrap sandbox laid out as Flatpak lays out an app's."""
    python_root = str(Path(os.path.realpath(sys.executable)).parents[1])
    args = ["bwrap", "--tmpfs", "/", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev",
            "--ro-bind", python_root, python_root,
            "--ro-bind", str(info), "/.flatpak-info"]
    for path in binds:
        args += ["--bind", path, path]
    return [*args, "--", *argv]


SUPPORT = Path(__file__).resolve().parents[1] / "support"


def fixture_daemon(bus: Bus, content: dict[str, Any] | None = None,
                   **env: str) -> tuple[Daemon, Path]:
    """agentd with the named test backends: hostile content in, sent messages recorded."""
    fixture = bus.root / "fixture.json"
    sent = bus.root / "sent.jsonl"
    fixture.write_text(json.dumps({"sent": str(sent), **(content or {})}))
    daemon = Daemon(bus, {"AGENTD_TEST_FIXTURE": str(fixture),
                          "AGENTD_CONFIRM_BY_NOTIFICATION": "false",
                          "AGENTD_CONFIRMATION_TIMEOUT_S": "2", **env}).start()
    return daemon, sent


def audited_requests(bus: Bus, count: int) -> Daemon:
    """agentd with the test backends, after ``count`` "what time is it" requests: as many
    audit records, for the audit log's tests."""
    daemon, _ = fixture_daemon(bus)
    for _ in range(count):
        bus.agentctl("ask", "what time is it")
    return daemon


def sent_records(sent: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sent.read_text().splitlines()] if sent.exists() else []


def audit(bus: Bus) -> list[dict[str, Any]]:
    out = bus.agentctl("--json", "log", "--limit", "1000")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@contextmanager
def notification_server(bus: Bus, answer: str) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """tests/support/notification_server.py on ``bus``: it records every call in the
    returned log and answers agentd's questions with ``answer`` (see its docstring)."""
    log = bus.root / "notifications.jsonl"
    server = subprocess.Popen([sys.executable, str(SUPPORT / "notification_server.py"),
                               str(log), answer], env=bus.env, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield server, log
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def uinput_broker(sock: Path, agentd: Path, devnode: Path) -> Iterator[Path]:
    """The uinput broker (and identity service) on a socket of its own, serving
    ``agentd`` (a script standing for agentd); ``devnode`` stands for /dev/uinput."""
    proc = subprocess.Popen([sys.executable, "-m", "agentd.adapters.input.broker", "--socket",
                             str(sock), "--devnode", str(devnode), "--agentd", str(agentd)],
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield sock
    finally:
        proc.kill()
        proc.wait()
