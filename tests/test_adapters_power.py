"""device.battery: the real UPower on a private system bus (no battery here), a peer
speaking UPower's protocol with a battery, no UPower at all, and the sysfs fallback on a
tree with the kernel's power_supply layout."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusBool, DBusDouble, DBusUInt32
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property
from test_adapters_telephony import daemon_on, system_bus  # noqa: F401 (fixtures)
from testkit.bus import Bus, Daemon, wait_for
from testkit.helpers import agentctl_ask as ask

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.power.sysfs import SysfsBattery
from agentd.adapters.power.tools import install_power_tools
from agentd.adapters.power.upower import UPowerBattery
from agentd.errors import Unavailable
from agentd.tools.catalogue import CATALOGUE
from agentd.tools.registry import ToolRegistry

pytestmark = pytest.mark.services

UPOWERD = "/usr/libexec/upowerd"


def acquired(address: str, name: str) -> bool:
    busctl = shutil.which("busctl") or "busctl"
    return name in subprocess.run([busctl, f"--address={address}", "list", "--acquired"],
                                  capture_output=True, text=True).stdout


def host_has_battery() -> bool:
    return SysfsBattery().supply() is not None


def test_real_upower_without_a_battery(bus: Bus, system_bus: str,  # noqa: F811
                                       daemon_on: Callable[[str], Daemon]) -> None:  # noqa: F811
    if not os.access(UPOWERD, os.X_OK):
        pytest.fail("upowerd is not installed (apt install upower)")
    upower = subprocess.Popen([UPOWERD], env={**os.environ,
                                              "DBUS_SYSTEM_BUS_ADDRESS": system_bus},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: acquired(system_bus, "org.freedesktop.UPower"), timeout=20,
                 interval=0.2)
        daemon_on(system_bus)
        task = ask(bus, "battery")
        (step,) = task["steps"]  # type: ignore[misc]
        assert step["tool"] == "device.battery"
        if host_has_battery():  # the sysfs fallback answers
            assert task["state"] == "done" and \
                str(task["reply"]).startswith("The battery is at "), task
        else:
            assert step["error"] == (
                "io.agentd.Error.Unavailable: no power backend works here (upower: no "
                "battery: UPower runs but reports no battery; sysfs-battery: no battery in "
                "/sys/class/power_supply)")
        rows = json.loads(bus.agentctl("doctor", "--json").stdout)
        (row,) = [r for r in rows if r["backend"] == "upower"]
        assert row["reason"] == "no battery: UPower runs but reports no battery", row
    finally:
        upower.terminate()
        upower.wait(timeout=10)


def test_no_upower_on_the_system_bus(bus: Bus, system_bus: str,  # noqa: F811
                                     daemon_on: Callable[[str], Daemon]) -> None:  # noqa: F811
    daemon_on(system_bus)
    rows = json.loads(bus.agentctl("doctor", "--json").stdout)
    (row,) = [r for r in rows if r["backend"] == "upower"]
    assert row["reason"] == ("no battery known: UPower is not running on the system bus "
                             "(Debian package upower)"), row
    task = ask(bus, "how much battery do i have left")
    if not host_has_battery():
        assert task["steps"][0]["error"].startswith(  # type: ignore[index]
            "io.agentd.Error.Unavailable: no power backend works here (upower: no battery")


class DisplayDevice(ServiceInterface):
    """The part of UPower's protocol agentd reads: a present battery, charging at 76 %."""

    def __init__(self) -> None:
        super().__init__("org.freedesktop.UPower.Device")

    @dbus_property(access=PropertyAccess.READ, name="IsPresent")
    def is_present(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ, name="Percentage")
    def percentage(self) -> DBusDouble:
        return 76.4

    @dbus_property(access=PropertyAccess.READ, name="State")
    def state(self) -> DBusUInt32:
        return 1  # charging


@pytest.fixture
def upower_peer(system_bus: str) -> Iterator[str]:  # noqa: F811
    """org.freedesktop.UPower with a battery, served from a thread of this test."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    conn: list[MessageBus] = []

    async def serve() -> None:
        peer = await MessageBus(bus_address=system_bus, bus_type=BusType.SYSTEM).connect()
        peer.export("/org/freedesktop/UPower/devices/DisplayDevice", DisplayDevice())
        await peer.request_name("org.freedesktop.UPower")
        conn.append(peer)
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(serve(), loop).result(timeout=10)
    assert ready.wait(10)
    yield system_bus
    loop.call_soon_threadsafe(conn[0].disconnect)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


def test_battery_from_upower(bus: Bus, upower_peer: str,
                             daemon_on: Callable[[str], Daemon]) -> None:  # noqa: F811
    daemon_on(upower_peer)
    task = ask(bus, "is my phone charging")
    assert task["state"] == "done", task
    assert task["reply"] == "The battery is at 76%, charging."


def power_supply(root: Path, name: str, **files: str) -> Path:
    path = root / "class" / "power_supply" / name
    path.mkdir(parents=True)
    for key, value in files.items():
        (path / key).write_text(value + "\n")
    return path


def test_sysfs_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    power_supply(tmp_path, "AC", type="Mains", online="1")
    battery = power_supply(tmp_path, "BAT0", type="Battery", capacity="57",
                           status="Discharging", present="1")
    tools = ToolRegistry(CATALOGUE)
    adapters = AdapterRegistry(["power"])
    adapters.register(UPowerBattery())  # unreachable here: the sysfs backend answers
    adapters.register(SysfsBattery(tmp_path))
    install_power_tools(tools, adapters)

    async def battery_reply() -> tuple[str, object]:
        result = await tools.run(None, "device.battery", {})  # type: ignore[arg-type]
        return result.text, result.data.get("backend")

    assert asyncio.run(battery_reply()) == ("The battery is at 57%.", "sysfs-battery")
    (battery / "status").write_text("Full\n")
    (battery / "capacity").write_text("100\n")
    assert asyncio.run(battery_reply())[0] == "The battery is at 100%, fully charged."
    (battery / "present").write_text("0\n")
    with pytest.raises(Unavailable, match=r"no power backend works here \(upower: no battery "
                       r"known: the system D-Bus cannot be reached .*; sysfs-battery: no "
                       r"battery in .*/class/power_supply\)"):
        asyncio.run(battery_reply())
