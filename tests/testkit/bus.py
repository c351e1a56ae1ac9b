"""Fixtures: a private dbus-daemon per test, and the real agentd on it.

Clients in the tests are real ones: ``gdbus``, ``busctl``, ``agentctl`` and dbus-fast.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent
AGENTD = str(VENV_BIN / "agentd")
AGENTCTL = str(VENV_BIN / "agentctl")
BUS_NAME = "io.agentd.Agent1"
ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "system" / "dbus-1" / "session.d" / f"{BUS_NAME}.conf"

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""


def need(tool: str, install: str = "apt install dbus libglib2.0-bin systemd") -> str:
    """The path of ``tool``; the test fails (never skips) where it is missing."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed; the tests talk to real programs ({install}; "
                    "scripts/debian-deps.sh)")
    return path


def name_has_owner(env: dict[str, str], name: str) -> bool:
    """Whether ``name`` has an owner on the session bus of ``env``."""
    out = subprocess.run(["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus",
                          "--object-path", "/org/freedesktop/DBus", "--method",
                          "org.freedesktop.DBus.NameHasOwner", name],
                         env=env, capture_output=True, text=True, check=False)
    return "true" in out.stdout


@dataclass
class Bus:
    """A private session bus and the environment a client on it needs."""

    root: Path
    address: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    services: Path

    def run(self, *argv: str, check: bool = False, timeout: float = 30,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=check, input=input)

    def agentctl(self, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return self.run(AGENTCTL, *args, **kw)  # type: ignore[arg-type]

    def gdbus_call(self, path: str, method: str, *args: str,
                   dest: str = BUS_NAME) -> subprocess.CompletedProcess[str]:
        return self.run(need("gdbus"), "call", "--session", "--dest", dest,
                        "--object-path", path, "--method", method, *args)

    def busctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(need("busctl"), f"--address={self.address}", *args)

    def name_has_owner(self) -> bool:
        out = self.gdbus_call("/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                              BUS_NAME, dest="org.freedesktop.DBus")
        return "true" in out.stdout

    def install_activation_file(self) -> None:
        """Let the bus start agentd on demand, as the installed activation file does."""
        self.services.mkdir(exist_ok=True)
        (self.services / f"{BUS_NAME}.service").write_text(
            f"[D-BUS Service]\nName={BUS_NAME}\nExec={AGENTD}\n")


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[Bus]:
    dbus_daemon = need("dbus-daemon")
    socket = tmp_path / "bus"
    services = tmp_path / "services"
    services.mkdir()
    config = tmp_path / "bus.conf"
    # agentd's own policy file is part of every test bus, as it is on a phone.
    config.write_text(BUS_CONFIG.format(socket=socket, services=services, policy=POLICY))
    env = {**os.environ,
           "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "AGENTD_SYSCONFDIR": str(tmp_path / "etc"),
           "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    for var in ("JOURNAL_STREAM", "INVOCATION_ID"):  # agentd here is not a systemd unit
        env.pop(var, None)
    # The bus passes its environment on to services it activates (agentd).
    process = subprocess.Popen([dbus_daemon, f"--config-file={config}", "--nofork",
                                "--print-address=1"], stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None
    address = process.stdout.readline().decode().strip()
    assert address, "dbus-daemon did not print its address"
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    yield Bus(tmp_path, address, env, process, services)
    process.terminate()
    process.wait(timeout=10)


@dataclass
class Daemon:
    """The real agentd process on a private bus; start, kill -9 and restart it."""

    bus: Bus
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[str] | None = None
    log: Path | None = None

    def start(self) -> Daemon:
        self.log = self.bus.root / "agentd.log"
        with open(self.log, "a") as log:
            self.process = subprocess.Popen([AGENTD, "--debug"], env={**self.bus.env,
                                            **self.extra_env}, stdout=log, stderr=log,
                                            text=True)
        deadline = time.monotonic() + 20
        while not self.bus.name_has_owner():
            if self.process.poll() is not None:
                pytest.fail(f"agentd exited with {self.process.returncode}:\n{self.logs()}")
            if time.monotonic() > deadline:
                pytest.fail(f"agentd did not take its bus name:\n{self.logs()}")
            time.sleep(0.05)
        return self

    def logs(self) -> str:
        return self.log.read_text() if self.log and self.log.exists() else ""

    def kill(self, signum: int = signal.SIGKILL) -> None:
        assert self.process is not None
        self.process.send_signal(signum)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while self.bus.name_has_owner() and time.monotonic() < deadline:
            time.sleep(0.05)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture
def daemon(bus: Bus) -> Iterator[Daemon]:
    d = Daemon(bus).start()
    yield d
    if d.alive():
        d.kill(signal.SIGTERM)


def wait_for(predicate: object, timeout: float = 15, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(interval)


@pytest.fixture
def flatpak_info(tmp_path: Path) -> Path:
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap is not installed (scripts/debian-deps.sh installs it)")
    info = tmp_path / "flatpak-info"
    info.write_text("[Application]\nname=org.example.Evil\nruntime=runtime/x/y/z\n")
    return info
