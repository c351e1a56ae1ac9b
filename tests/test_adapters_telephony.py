"""Telephony through ModemManager, in the situations this machine really has: no modem.

Three of them, each through the real daemon: the machine's own system bus (absent here,
or present without a modem); a private "system" bus with no ModemManager on it; and the
real ModemManager on a private system bus, seeing no modem (no udev, no hardware).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from testkit.bus import BUS_CONFIG, Bus, Daemon, wait_for
from testkit.helpers import answer_in_terminal, gdbus_ask, wait_state

pytestmark = pytest.mark.services

MODEM_MANAGER = "/usr/sbin/ModemManager"


def call_and_confirm(bus: Bus, text: str) -> dict[str, object]:
    path = gdbus_ask(bus, text)
    wait_state(bus, path, "awaiting-confirmation")
    assert answer_in_terminal(bus, path) == "Confirmed."
    return wait_state(bus, path)


def telephony_row(bus: Bus) -> dict[str, object]:
    out = bus.agentctl("doctor", "--json")
    assert out.returncode == 0, out.stderr
    (row,) = [r for r in json.loads(out.stdout) if r["capability"] == "telephony"]
    return row  # type: ignore[no-any-return]


@pytest.fixture
def daemon_on(bus: Bus) -> Iterator[Callable[[str], Daemon]]:
    """Start agentd with a given system bus address; stopped at the end of the test."""
    started: list[Daemon] = []

    def start(system_bus: str) -> Daemon:
        started.append(Daemon(bus, {"DBUS_SYSTEM_BUS_ADDRESS": system_bus}).start())
        return started[-1]

    yield start
    for daemon in started:
        daemon.kill(signal.SIGTERM)


@pytest.fixture
def system_bus(tmp_path: Path) -> Iterator[str]:
    """A second private bus that agentd and ModemManager take for the system bus."""
    root = tmp_path / "system"
    root.mkdir()
    config = root / "bus.conf"
    policy = root / "empty.conf"
    policy.write_text("<busconfig/>")
    config.write_text(BUS_CONFIG.format(socket=root / "bus", services=root, policy=policy))
    process = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork",
                                "--print-address=1"], stdout=subprocess.PIPE)
    assert process.stdout is not None
    address = process.stdout.readline().decode().strip()
    yield address
    process.terminate()
    process.wait(timeout=10)


def test_no_modem_on_this_machine(bus: Bus, daemon: Daemon) -> None:
    task = call_and_confirm(bus, "call +1 555 0100")
    (step,) = task["steps"]  # type: ignore[misc]
    assert step["tool"] == "call.dial" and step["state"] == "failed"
    assert step["error"].startswith("io.agentd.Error.Unavailable: "), step
    assert "no modem" in step["error"]
    row = telephony_row(bus)
    assert row["backend"] == "modemmanager" and row["available"] is False
    assert str(row["reason"]).startswith("no modem")


def test_no_modemmanager_on_the_system_bus(bus: Bus, system_bus: str,
                                           daemon_on: Callable[[str], Daemon]) -> None:
    daemon_on(system_bus)
    task = call_and_confirm(bus, "text +15550100 hello")
    (step,) = task["steps"]  # type: ignore[misc]
    assert step["tool"] == "sms.send"
    assert step["error"] == ("io.agentd.Error.Unavailable: no telephony backend works here "
                             "(modemmanager: no modem: ModemManager is not running on the "
                             "system bus (Debian package modemmanager))")


def test_real_modemmanager_without_a_modem(bus: Bus, system_bus: str,
                                           daemon_on: Callable[[str], Daemon]) -> None:
    if not os.access(MODEM_MANAGER, os.X_OK):
        pytest.fail("ModemManager is not installed (apt install modemmanager; "
                    "scripts/debian-deps.sh does it)")
    mm = subprocess.Popen([MODEM_MANAGER, "--debug", "--test-no-suspend-resume",
                           "--test-no-qrtr"], env={**os.environ,
                                                   "DBUS_SYSTEM_BUS_ADDRESS": system_bus},
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        busctl = shutil.which("busctl") or "busctl"
        wait_for(lambda: "org.freedesktop.ModemManager1" in subprocess.run(
            [busctl, f"--address={system_bus}", "list", "--acquired"], capture_output=True,
            text=True).stdout, timeout=20, interval=0.2)
        daemon_on(system_bus)
        row = telephony_row(bus)
        assert row["reason"] == "no modem: ModemManager runs but sees no modem", row
        task = call_and_confirm(bus, "call +15550100")
        assert "no modem: ModemManager runs but sees no modem" in \
            task["steps"][0]["error"]  # type: ignore[index]
    finally:
        mm.terminate()
        mm.wait(timeout=10)


def test_names_are_not_numbers() -> None:
    from agentd.adapters.telephony import phone_number
    from agentd.errors import NotFound

    assert phone_number("+49 (170) 123-4567") == "+491701234567"
    with pytest.raises(NotFound, match="is not a phone number"):
        phone_number("mom")
