"""settings.get and settings.set against the real services this machine can run.

- dark mode, do not disturb, location: the real ``gsettings`` with the real GNOME schemas
  (gsettings-desktop-schemas), keyfile backend in the test's XDG_CONFIG_HOME, through the
  real agentd; ``gsettings get`` confirms what agentd wrote.
- Wi-Fi, mobile data: the real NetworkManager on a private system bus (its own config, no
  devices managed), and the same bus without it.
- volume: real PipeWire + WirePlumber + pipewire-pulse on the test's runtime dir with a
  null sink; ``wpctl`` and ``pactl`` both read what agentd set.
- brightness, flashlight, Bluetooth, airplane mode: sysfs trees with the kernel's layout
  in a temporary folder (the backends take the sysfs root); the machine's own /sys for
  the "missing" answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method
from test_adapters_telephony import daemon_on, system_bus  # noqa: F401 (fixtures)
from testkit.bus import Bus, Daemon, wait_for
from testkit.helpers import agentctl_ask as ask

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.settings import check_value
from agentd.adapters.settings.backlight import LogindBrightness, SysfsBrightness, find_backlight
from agentd.adapters.settings.leds import LedFlashlight
from agentd.adapters.settings.rfkill import RfkillSettings
from agentd.adapters.settings.tools import backend_for, install_settings_tools
from agentd.errors import InvalidRequest, Unavailable
from agentd.tools.catalogue import CATALOGUE
from agentd.tools.registry import ToolRegistry

pytestmark = pytest.mark.services

NETWORK_MANAGER = "/usr/sbin/NetworkManager"
KEYFILE = {"GSETTINGS_BACKEND": "keyfile"}


def step_error(task: dict[str, object]) -> str:
    (step,) = task["steps"]  # type: ignore[misc]
    return str(step["error"])


def gsettings(bus: Bus, *args: str) -> str:
    tool = shutil.which("gsettings")
    if tool is None:
        pytest.fail("gsettings is missing (apt install libglib2.0-bin)")
    out = subprocess.run([tool, *args], env={**bus.env, **KEYFILE}, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture
def gnome_schemas() -> None:
    schemas = Path("/usr/share/glib-2.0/schemas")
    for schema in ("org.gnome.desktop.interface", "org.gnome.desktop.notifications",
                   "org.gnome.system.location"):
        if not (schemas / f"{schema}.gschema.xml").exists():
            pytest.fail(f"the GSettings schema {schema} is missing "
                        "(apt install gsettings-desktop-schemas libglib2.0-bin)")


# -- gsettings: the real schemas, through the real daemon ------------------------------------


def test_dark_mode_through_the_daemon(bus: Bus, gnome_schemas: None) -> None:
    daemon = Daemon(bus, KEYFILE).start()
    try:
        task = ask(bus, "turn on dark mode")
        assert task["state"] == "done", task
        assert task["reply"] == "Turned dark mode on."
        assert gsettings(bus, "get", "org.gnome.desktop.interface", "color-scheme") == \
            "'prefer-dark'"
        keyfile = Path(bus.env["XDG_CONFIG_HOME"]) / "glib-2.0" / "settings" / "keyfile"
        assert "color-scheme='prefer-dark'" in keyfile.read_text()
        assert ask(bus, "is dark mode on")["reply"] == "Dark mode is on."
        # Changed behind agentd's back: agentd reads the key again.
        gsettings(bus, "set", "org.gnome.desktop.interface", "color-scheme", "'default'")
        assert ask(bus, "is dark mode on")["reply"] == "Dark mode is off."
        assert ask(bus, "switch to dark mode")["state"] == "done"
        assert ask(bus, "switch to light mode")["reply"] == "Turned dark mode off."
        assert gsettings(bus, "get", "org.gnome.desktop.interface", "color-scheme") == \
            "'default'"
    finally:
        daemon.kill(signal.SIGTERM)


def test_do_not_disturb_and_location_keys(bus: Bus, gnome_schemas: None) -> None:
    daemon = Daemon(bus, KEYFILE).start()
    try:
        assert ask(bus, "turn on do not disturb")["reply"] == "Turned do not disturb on."
        assert gsettings(bus, "get", "org.gnome.desktop.notifications", "show-banners") == \
            "false"
        assert ask(bus, "turn off dnd")["state"] == "done"
        assert gsettings(bus, "get", "org.gnome.desktop.notifications", "show-banners") == \
            "true"
        assert ask(bus, "turn off location")["reply"] == "Turned location services off."
        assert gsettings(bus, "get", "org.gnome.system.location", "enabled") == "false"
        rows = json.loads(bus.agentctl("doctor", "--json").stdout)
        (row,) = [r for r in rows if r["backend"] == "gsettings"]
        assert row["available"] and row["reason"] == "gsettings (keyfile)", row
    finally:
        daemon.kill(signal.SIGTERM)


def test_missing_schema_is_named(bus: Bus, tmp_path: Path, gnome_schemas: None) -> None:
    """With GSETTINGS_SCHEMA_DIR pointing at an empty compiled set, nothing is installed."""
    empty = tmp_path / "schemas"
    empty.mkdir()
    compiler = shutil.which("glib-compile-schemas") or "/usr/lib/x86_64-linux-gnu/glib-2.0/" \
        "glib-compile-schemas"
    if not os.access(compiler, os.X_OK):
        pytest.fail("glib-compile-schemas is missing (apt install libglib2.0-bin)")
    (empty / "x.gschema.xml").write_text(
        '<schemalist><schema id="agentd.test" path="/agentd/test/"/></schemalist>')
    subprocess.run([compiler, str(empty)], check=True)
    daemon = Daemon(bus, {**KEYFILE, "GSETTINGS_SCHEMA_DIR": str(empty),
                          "XDG_DATA_DIRS": str(tmp_path / "nothing")}).start()
    try:
        assert step_error(ask(bus, "turn on dark mode")) == (
            "io.agentd.Error.Unavailable: dark mode cannot be used here (gsettings: the key "
            "org.gnome.desktop.interface color-scheme is not installed (Debian: "
            "gsettings-desktop-schemas))")
    finally:
        daemon.kill(signal.SIGTERM)


# -- NetworkManager on a private system bus --------------------------------------------------


@pytest.fixture
def network_manager(tmp_path: Path, system_bus: str) -> Iterator[str]:  # noqa: F811
    """The real NetworkManager on the private system bus, managing no device."""
    if not os.access(NETWORK_MANAGER, os.X_OK):
        pytest.fail("NetworkManager is not installed (apt install network-manager)")
    if os.geteuid() != 0:
        pytest.fail("NetworkManager runs only as root; run this test as root")
    root = tmp_path / "nm"
    (root / "empty").mkdir(parents=True)
    (root / "nm.conf").write_text(
        "[main]\nplugins=keyfile\nno-auto-default=*\nauth-polkit=false\ndns=none\n"
        f"[keyfile]\nunmanaged-devices=*\npath={root / 'connections'}\n")
    log = open(root / "log", "w")  # noqa: SIM115 (closed below)
    nm = subprocess.Popen(
        [NETWORK_MANAGER, "--no-daemon", f"--config={root / 'nm.conf'}",
         f"--config-dir={root / 'empty'}", f"--system-config-dir={root / 'empty'}",
         f"--intern-config={root / 'intern.conf'}", f"--state-file={root / 'state'}",
         f"--pid-file={root / 'pid'}"],
        env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": system_bus}, stdout=log, stderr=log)
    try:
        busctl = shutil.which("busctl") or "busctl"
        wait_for(lambda: "org.freedesktop.NetworkManager" in subprocess.run(
            [busctl, f"--address={system_bus}", "list", "--acquired"], capture_output=True,
            text=True).stdout, timeout=20, interval=0.2)
        yield system_bus
    finally:
        nm.terminate()
        nm.wait(timeout=10)
        log.close()


def nm_property(address: str, name: str) -> str:
    out = subprocess.run(["busctl", f"--address={address}", "get-property",
                          "org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager",
                          "org.freedesktop.NetworkManager", name],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_wifi_and_mobile_data_through_network_manager(
        bus: Bus, network_manager: str, daemon_on: Callable[[str], Daemon]) -> None:  # noqa: F811
    daemon_on(network_manager)
    assert nm_property(network_manager, "WirelessEnabled") == "b true"
    task = ask(bus, "turn off wifi")
    assert task["state"] == "done" and task["reply"] == "Turned Wi-Fi off.", task
    assert nm_property(network_manager, "WirelessEnabled") == "b false"
    assert ask(bus, "is wifi on")["reply"] == "Wi-Fi is off."
    assert ask(bus, "turn off mobile data")["reply"] == "Turned mobile data off."
    assert nm_property(network_manager, "WwanEnabled") == "b false"
    assert ask(bus, "turn on wifi")["state"] == "done"
    assert nm_property(network_manager, "WirelessEnabled") == "b true"
    rows = json.loads(bus.agentctl("doctor", "--json").stdout)
    (row,) = [r for r in rows if r["backend"] == "networkmanager"]
    assert row["available"], row
    assert re.fullmatch(r"NetworkManager [0-9.]+: Wi-Fi on, mobile data off", row["reason"])


def test_no_network_manager_on_the_system_bus(
        bus: Bus, system_bus: str, daemon_on: Callable[[str], Daemon]) -> None:  # noqa: F811
    daemon_on(system_bus)
    assert step_error(ask(bus, "turn off wifi")) == (
        "io.agentd.Error.Unavailable: Wi-Fi cannot be used here (networkmanager: "
        "NetworkManager is not running on the system bus (Debian package network-manager))")
    assert "NetworkManager is not running" in step_error(ask(bus, "turn on mobile data"))


def test_brightness_without_logind_or_backlight(
        bus: Bus, system_bus: str, daemon_on: Callable[[str], Daemon]) -> None:  # noqa: F811
    """The machine's own /sys: with no backlight both backends say so; with one, logind is
    missing on the private bus and the sysfs file is not the test's to write."""
    daemon_on(system_bus)
    error = step_error(ask(bus, "set brightness to 40"))
    assert error.startswith("io.agentd.Error.Unavailable: brightness cannot be used here "
                            "(logind: "), error
    if find_backlight(Path("/sys")) is None:
        assert error.endswith("(logind: no backlight in /sys/class/backlight (the screen's "
                              "brightness is not adjustable here); sysfs-backlight: no "
                              "backlight in /sys/class/backlight (the screen's brightness "
                              "is not adjustable here))"), error
    else:
        assert "logind: systemd-logind is not running on the system bus" in error


# -- volume: real PipeWire -------------------------------------------------------------------


@pytest.fixture
def pipewire(bus: Bus) -> Iterator[Path]:
    """PipeWire, WirePlumber and pipewire-pulse on a private runtime dir, with a null sink."""
    tools = {"pipewire": "pipewire", "wireplumber": "wireplumber",
             "pipewire-pulse": "pipewire-pulse", "wpctl": "wireplumber",
             "pactl": "pulseaudio-utils"}
    missing = sorted({pkg for tool, pkg in tools.items() if shutil.which(tool) is None})
    if missing:
        pytest.fail(f"missing sound server tools: apt install {' '.join(missing)}")
    runtime = bus.root / "run"
    runtime.mkdir(mode=0o700)
    bus.env.update({"XDG_RUNTIME_DIR": str(runtime)})
    for var in ("PULSE_SERVER", "PIPEWIRE_REMOTE", "PIPEWIRE_RUNTIME_DIR"):
        bus.env.pop(var, None)
    log = open(bus.root / "pipewire.log", "w")  # noqa: SIM115 (closed below)
    started = [subprocess.Popen(["pipewire"], env=bus.env, stdout=log, stderr=log)]
    try:
        wait_for(lambda: (runtime / "pipewire-0").exists(), timeout=15)
        for server in ("wireplumber", "pipewire-pulse"):
            started.append(subprocess.Popen([server], env=bus.env, stdout=log, stderr=log))
        wait_for(lambda: (runtime / "pulse" / "native").exists(), timeout=15)
        out = bus.run("pactl", "load-module", "module-null-sink", "sink_name=agentd_test")
        assert out.returncode == 0, out.stderr
        wait_for(lambda: "agentd_test" in bus.run("wpctl", "inspect",
                                                  "@DEFAULT_AUDIO_SINK@").stdout, timeout=15)
        yield runtime
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=10)
        log.close()


def test_volume_through_pipewire(bus: Bus, pipewire: Path) -> None:
    daemon = Daemon(bus).start()
    try:
        task = ask(bus, "set the volume to 30 percent")
        assert task["state"] == "done" and task["reply"] == "Set volume to 30%.", task
        assert bus.run("wpctl", "get-volume", "@DEFAULT_AUDIO_SINK@").stdout.strip() == \
            "Volume: 0.30"
        assert "/  30% /" in bus.run("pactl", "get-sink-volume", "@DEFAULT_SINK@").stdout
        assert ask(bus, "what's the volume")["reply"] == "Volume is at 30%."
        assert ask(bus, "mute the phone")["state"] == "done"
        assert bus.run("wpctl", "get-volume", "@DEFAULT_AUDIO_SINK@").stdout.strip() == \
            "Volume: 0.00 [MUTED]"
        assert ask(bus, "set the volume to 55")["state"] == "done"  # unmutes
        assert bus.run("wpctl", "get-volume", "@DEFAULT_AUDIO_SINK@").stdout.strip() == \
            "Volume: 0.55"
        rows = json.loads(bus.agentctl("doctor", "--json").stdout)
        wpctl, pactl = (next(r for r in rows if r["backend"] == name) for name in
                        ("wpctl", "pactl"))
        assert wpctl["available"] and wpctl["reason"] == "default output at 55% (PipeWire)"
        assert pactl["available"] and pactl["reason"] == "default output at 55% (PulseAudio)"
    finally:
        daemon.kill(signal.SIGTERM)


def test_no_sound_server(bus: Bus) -> None:
    runtime = bus.root / "run"
    runtime.mkdir(mode=0o700)
    daemon = Daemon(bus, {"XDG_RUNTIME_DIR": str(runtime), "PULSE_SERVER": "",
                          "PIPEWIRE_REMOTE": ""}).start()
    try:
        error = step_error(ask(bus, "set the volume to 30 percent"))
        assert error.startswith("io.agentd.Error.Unavailable: volume cannot be used here "
                                "(wpctl: "), error
        assert "pactl: no PulseAudio sound server answers pactl" in error \
            or "pactl: pactl is not installed (Debian: pulseaudio-utils)" in error, error
    finally:
        daemon.kill(signal.SIGTERM)


# -- sysfs trees -----------------------------------------------------------------------------


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def backlight_tree(root: Path) -> Path:
    raw = root / "class" / "backlight" / "acpi_video0"  # raw: the last choice
    write(raw / "type", "raw\n")
    write(raw / "max_brightness", "15\n")
    write(raw / "brightness", "3\n")
    panel = root / "class" / "backlight" / "backlight"  # a phone's panel, platform type
    write(panel / "type", "platform\n")
    write(panel / "max_brightness", "1023\n")
    write(panel / "brightness", "512\n")
    return panel


def settings_tools(*backends: object) -> tuple[ToolRegistry, AdapterRegistry]:
    tools = ToolRegistry(CATALOGUE)
    adapters = AdapterRegistry(["settings"])
    for backend in backends:
        adapters.register(backend)  # type: ignore[arg-type]
    install_settings_tools(tools, adapters)
    return tools, adapters


async def run_tool(tools: ToolRegistry, name: str, **args: object) -> str:
    return (await tools.run(None, name, args)).text  # type: ignore[arg-type]


def test_sysfs_backlight(tmp_path: Path) -> None:
    panel = backlight_tree(tmp_path)
    tools, adapters = settings_tools(LogindBrightness(tmp_path), SysfsBrightness(tmp_path))

    async def scenario() -> None:
        # logind comes first but cannot be reached here: the sysfs file is written.
        assert (await backend_for(adapters, "brightness")).name == "sysfs-backlight"
        assert await run_tool(tools, "settings.get", setting="brightness") == \
            "Brightness is at 50%."
        assert await run_tool(tools, "settings.set", setting="brightness", value=40) == \
            "Set brightness to 40%."
        assert (panel / "brightness").read_text() == "409"  # 40 % of 1023
        await run_tool(tools, "settings.set", setting="brightness", value=0)
        assert (panel / "brightness").read_text() == "1"  # never fully dark
        await run_tool(tools, "settings.set", setting="brightness", value=100)
        assert (panel / "brightness").read_text() == "1023"

    asyncio.run(scenario())


def test_logind_is_first_choice(tmp_path: Path, system_bus: str,  # noqa: F811
                                monkeypatch: pytest.MonkeyPatch) -> None:
    backlight_tree(tmp_path)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", system_bus)
    state = asyncio.run(LogindBrightness(tmp_path).availability())
    assert state.reason == "systemd-logind is not running on the system bus"
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    state = asyncio.run(LogindBrightness(tmp_path).availability())
    assert not state.ok and state.reason.startswith("no systemd-logind: the system D-Bus cannot be "
                                                    "reached")


class LogindSession(ServiceInterface):
    """The part of logind's protocol agentd uses: Session.SetBrightness, which (like
    logind) writes the sysfs file of the named device."""

    def __init__(self, sysfs: Path) -> None:
        super().__init__("org.freedesktop.login1.Session")
        self.sysfs = sysfs
        self.calls: list[tuple[str, str, int]] = []

    # No return annotation: dbus-fast reads a postponed "None" as no signature at all.
    @dbus_method(name="SetBrightness")
    def set_brightness(self, subsystem: DBusStr, name: DBusStr,  # type: ignore[no-untyped-def]
                       value: DBusUInt32):
        self.calls.append((subsystem, name, value))
        (self.sysfs / "class" / subsystem / name / "brightness").write_text(str(value))


def test_brightness_through_logind(tmp_path: Path, system_bus: str,  # noqa: F811
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    panel = backlight_tree(tmp_path)
    session = LogindSession(tmp_path)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def serve() -> MessageBus:
        peer = await MessageBus(bus_address=system_bus, bus_type=BusType.SYSTEM).connect()
        peer.export("/org/freedesktop/login1/session/auto", session)
        await peer.request_name("org.freedesktop.login1")
        return peer

    peer = asyncio.run_coroutine_threadsafe(serve(), loop).result(timeout=10)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", system_bus)
    tools, adapters = settings_tools(LogindBrightness(tmp_path), SysfsBrightness(tmp_path))
    try:
        async def scenario() -> None:
            assert (await backend_for(adapters, "brightness")).name == "logind"
            assert await run_tool(tools, "settings.set", setting="brightness", value=40) == \
                "Set brightness to 40%."
            assert await run_tool(tools, "settings.get", setting="brightness") == \
                "Brightness is at 40%."

        asyncio.run(scenario())
    finally:
        loop.call_soon_threadsafe(peer.disconnect)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
    assert session.calls == [("backlight", "backlight", 409)]
    assert panel.name == "backlight" and (panel / "brightness").read_text() == "409"


def test_flashlight_led(tmp_path: Path) -> None:
    write(tmp_path / "class" / "leds" / "input0::capslock" / "brightness", "0\n")
    write(tmp_path / "class" / "leds" / "input0::capslock" / "max_brightness", "1\n")
    torch = tmp_path / "class" / "leds" / "white:torch"
    write(torch / "brightness", "0\n")
    write(torch / "max_brightness", "255\n")
    tools, _ = settings_tools(LedFlashlight(tmp_path))

    async def scenario() -> None:
        assert await run_tool(tools, "settings.get", setting="flashlight") == \
            "The flashlight is off."
        assert await run_tool(tools, "settings.set", setting="flashlight", value=True) == \
            "Turned the flashlight on."
        assert (torch / "brightness").read_text() == "255"
        await run_tool(tools, "settings.set", setting="flashlight", value=False)
        assert (torch / "brightness").read_text() == "0"
        shutil.rmtree(torch)
        with pytest.raises(Unavailable, match=r"the flashlight cannot be used here \(leds: "
                           r"no flash or torch LED in .*/class/leds\)"):
            await run_tool(tools, "settings.set", setting="flashlight", value=True)

    asyncio.run(scenario())


def rfkill_tree(root: Path) -> dict[str, Path]:
    radios = {}
    for n, kind in enumerate(("wlan", "bluetooth", "wwan")):
        path = root / "class" / "rfkill" / f"rfkill{n}"
        write(path / "type", f"{kind}\n")
        write(path / "soft", "0\n")
        write(path / "hard", "0\n")
        radios[kind] = path
    return radios


def test_rfkill_bluetooth_and_airplane_mode(tmp_path: Path) -> None:
    radios = rfkill_tree(tmp_path)
    backend = RfkillSettings(tmp_path, device=tmp_path / "no-dev-rfkill")
    tools, _ = settings_tools(backend)

    async def scenario() -> None:
        assert await run_tool(tools, "settings.get", setting="bluetooth") == \
            "Bluetooth is on."
        assert await run_tool(tools, "settings.set", setting="bluetooth", value=False) == \
            "Turned Bluetooth off."
        assert [(r / "soft").read_text().strip() for r in radios.values()] == ["0", "1", "0"]
        assert await run_tool(tools, "settings.get", setting="airplane_mode") == \
            "Airplane mode is off."
        await run_tool(tools, "settings.set", setting="airplane_mode", value=True)
        assert [(r / "soft").read_text().strip() for r in radios.values()] == ["1", "1", "1"]
        assert await run_tool(tools, "settings.get", setting="airplane_mode") == \
            "Airplane mode is on."
        await run_tool(tools, "settings.set", setting="airplane_mode", value=False)
        assert await run_tool(tools, "settings.get", setting="bluetooth") == \
            "Bluetooth is on."
        write(radios["bluetooth"] / "hard", "1\n")  # a hardware switch
        with pytest.raises(Unavailable, match="bluetooth is blocked by a hardware switch"):
            await run_tool(tools, "settings.set", setting="bluetooth", value=True)
        shutil.rmtree(radios["bluetooth"])
        with pytest.raises(Unavailable, match="rfkill: no Bluetooth adapter in"):
            await run_tool(tools, "settings.get", setting="bluetooth")

    asyncio.run(scenario())


def test_rfkill_event_through_the_device(tmp_path: Path) -> None:
    """With /dev/rfkill writable, one RFKILL_OP_CHANGE_ALL event per change, not sysfs."""
    radios = rfkill_tree(tmp_path)
    device = tmp_path / "rfkill"
    device.write_bytes(b"")
    asyncio.run(RfkillSettings(tmp_path, device).set("bluetooth", False))
    # struct rfkill_event: idx 0, type 2 (bluetooth), op 3 (change all), soft 1, hard 0
    assert device.read_bytes() == bytes([0, 0, 0, 0, 2, 3, 1, 0])
    assert (radios["bluetooth"] / "soft").read_text() == "0\n"  # the kernel's job


def test_machine_without_radios_or_leds() -> None:
    """This machine's /sys, when it has none: the reasons name what is missing."""
    if not list(Path("/sys/class/rfkill").glob("rfkill*")):
        state = asyncio.run(RfkillSettings().availability())
        assert state.reason == "no radio switches in /sys/class/rfkill (no rfkill devices)"
    else:
        assert asyncio.run(RfkillSettings().availability()).ok
    if LedFlashlight().led() is None:
        assert asyncio.run(LedFlashlight().availability()).reason == \
            "no flash or torch LED in /sys/class/leds"
    else:
        assert asyncio.run(LedFlashlight().availability()).ok


@pytest.mark.parametrize(("setting", "value", "why"), [
    ("wifi", 1, "on or off"),
    ("dark_mode", "yes", "on or off"),
    ("volume", True, "percentage 0-100"),
    ("brightness", 101, "percentage 0-100, not 101"),
    ("brightness", -1, "percentage 0-100, not -1"),
    ("warp_drive", True, "no setting called"),
])
def test_values_are_checked(setting: str, value: object, why: str) -> None:
    with pytest.raises(InvalidRequest, match=why):
        check_value(setting, value)


def test_bad_values_never_reach_a_backend(tmp_path: Path) -> None:
    panel = backlight_tree(tmp_path)
    tools, _ = settings_tools(SysfsBrightness(tmp_path))

    async def scenario() -> None:
        for value in (True, 101, "40"):
            with pytest.raises(InvalidRequest):  # io.agentd.Error.InvalidArguments
                await run_tool(tools, "settings.set", setting="brightness", value=value)
        with pytest.raises(InvalidRequest, match="on or off"):
            await run_tool(tools, "settings.set", setting="wifi", value=50)

    asyncio.run(scenario())
    assert (panel / "brightness").read_text() == "512\n"
