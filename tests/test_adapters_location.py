"""location.get: the real GeoClue 2 on a private system bus, fed by a GPS that speaks
NMEA 0183 on a unix socket (GeoClue's ``[network-nmea] nmea-socket=``), through the real
daemon.

GeoClue 2.6 reads ``/etc/geoclue/geoclue.conf`` and nothing else (no option, no
variable, no ``conf.d``), so each test runs it in a mount namespace of its own
(``unshare --mount``) with a folder of the test's bind-mounted over ``/etc/geoclue``:
NMEA is its only source (Wi-Fi, 3G, CDMA, modem GPS and compass off; the GeoIP fallback
it always keeps points at a closed local port), and agentd's section is the one the image
ships (``image/overlay/etc/geoclue/conf.d/90-agentd.conf``). GeoClue answers a client
only once an agent for the user is registered: GeoClue's own demo agent plays the
shell's part, or, for "location services off", a peer with ``MaxAccuracyLevel`` 0 (what
Phosh's agent says when the location switch is off).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pytest
from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature, DBusStr, DBusUInt32
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_method, dbus_property
from test_adapters_telephony import system_bus  # noqa: F401 (fixture)
from testkit.bus import ROOT, Bus, Daemon, wait_for
from testkit.helpers import agentctl_ask as ask
from testkit.helpers import audit
from testkit.helpers import only_step as step

from agentd.adapters.location import Position
from agentd.adapters.location.geoclue import NO_AGENT, NO_FIX, OFF

pytestmark = pytest.mark.services

GEOCLUE = "/usr/libexec/geoclue"
DEMO_AGENT = "/usr/libexec/geoclue-2.0/demos/agent"
AGENTD_SECTION = ROOT / "image" / "overlay" / "etc" / "geoclue" / "conf.d" / "90-agentd.conf"
DENIED_SECTION = "[agentd]\nallowed=false\nsystem=false\nusers=\n"
TIMEOUT_S = 3  # location_timeout_s for the tests that wait in vain

CONFIG = """[agent]
whitelist=geoclue-demo-agent;sm.puri.Phosh
[network-nmea]
enable=true
nmea-socket={socket}
[3g]
enable=false
[cdma]
enable=false
[modem-gps]
enable=false
[wifi]
enable=false
url=http://127.0.0.1:9/
submit-data=false
[compass]
enable=false

{agentd}
"""


def nmea(body: str) -> bytes:
    """One NMEA 0183 sentence: $body*checksum (XOR of the body's bytes), CR LF."""
    checksum = 0
    for byte in body.encode("ascii"):
        checksum ^= byte
    return f"${body}*{checksum:02X}\r\n".encode("ascii")


def degrees_minutes(value: float, width: int, sides: str) -> str:
    """52.52 → '5231.2000,N' (latitude: width 2, 'NS'; longitude: width 3, 'EW')."""
    whole = int(abs(value))
    minutes = (abs(value) - whole) * 60
    return f"{whole:0{width}d}{minutes:07.4f},{sides[0] if value >= 0 else sides[1]}"


@dataclass
class Fix:
    latitude: float
    longitude: float
    hdop: float  # GeoClue's accuracy from it: <=1 → 0 m, <=2 → 1, <=5 → 3, <=10 → 50
    altitude: float


class Gps:
    """A receiver on a unix socket, as gpsd or a modem's NMEA port gives it to GeoClue:
    every 0.2 s a GGA and an RMC sentence for ``fix`` (or a receiver's "no fix yet"
    sentences when it is None), to each connection until it closes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fix: Fix | None = None
        self.connections = 0
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(4)
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def sentences(self) -> bytes:
        now = datetime.datetime.now(datetime.UTC)
        hms, dmy = now.strftime("%H%M%S.00"), now.strftime("%d%m%y")
        fix = self.fix
        if fix is None:
            return nmea(f"GPGGA,{hms},,,,,0,00,99.99,,,,,,") + \
                nmea(f"GPRMC,{hms},V,,,,,,,{dmy},,,N")
        lat = degrees_minutes(fix.latitude, 2, "NS")
        lon = degrees_minutes(fix.longitude, 3, "EW")
        return nmea(f"GPGGA,{hms},{lat},{lon},1,08,{fix.hdop:.1f},{fix.altitude:.1f},M,"
                    "0.0,M,,") + nmea(f"GPRMC,{hms},A,{lat},{lon},0.0,0.0,{dmy},,,A")

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._feed, args=(conn,), daemon=True).start()

    def _feed(self, conn: socket.socket) -> None:
        with conn:
            while not self._stop.is_set():
                try:
                    conn.sendall(self.sentences())
                except OSError:
                    return  # GeoClue stopped its source
                time.sleep(0.2)

    def close(self) -> None:
        self._stop.set()
        self._server.close()


@pytest.fixture
def gps() -> Iterator[Gps]:
    with tempfile.TemporaryDirectory(prefix="agentd-gps-") as folder:  # short: sun_path
        receiver = Gps(Path(folder) / "nmea.sock")
        yield receiver
        receiver.close()


def on_bus(address: str, name: str) -> bool:
    busctl = shutil.which("busctl") or "busctl"
    return name in subprocess.run([busctl, f"--address={address}", "list", "--acquired"],
                                  capture_output=True, text=True).stdout


@dataclass
class GeoClue:
    process: subprocess.Popen[bytes]
    log: Path
    address: str

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_agent(self) -> None:
        wait_for(lambda: "New agent for user ID" in self.logs(), timeout=20, interval=0.1)


@pytest.fixture
def start_geoclue(tmp_path: Path, system_bus: str,  # noqa: F811
                  gps: Gps) -> Iterator[Callable[..., GeoClue]]:
    """The real GeoClue on the private system bus, with a configuration of the test's."""
    started: list[subprocess.Popen[bytes]] = []

    def start(agentd_section: str | None = None) -> GeoClue:
        for program in (GEOCLUE, DEMO_AGENT):
            if not os.access(program, os.X_OK):
                pytest.fail(f"{program} is not installed (apt install geoclue-2.0; "
                            "scripts/debian-deps.sh does it)")
        if os.geteuid() != 0:
            pytest.fail("the GeoClue tests run as root: GeoClue 2.6 reads only "
                        "/etc/geoclue/geoclue.conf, which each test replaces in a mount "
                        "namespace of its own (unshare --mount)")
        etc = tmp_path / "etc-geoclue"
        etc.mkdir()
        section = AGENTD_SECTION.read_text() if agentd_section is None else agentd_section
        (etc / "geoclue.conf").write_text(CONFIG.format(socket=gps.path, agentd=section))
        log = tmp_path / "geoclue.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                ["unshare", "--mount", "sh", "-c",
                 f'mount --bind "{etc}" /etc/geoclue && exec {GEOCLUE} --timeout 0'],
                env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": system_bus,
                     "G_MESSAGES_DEBUG": "all"}, stdout=out, stderr=out)
        started.append(process)
        geoclue = GeoClue(process, log, system_bus)
        try:
            wait_for(lambda: on_bus(system_bus, "org.freedesktop.GeoClue2")
                     or process.poll() is not None, timeout=20, interval=0.1)
        except AssertionError:
            pytest.fail(f"GeoClue did not take its name:\n{geoclue.logs()}")
        assert process.poll() is None, geoclue.logs()
        return geoclue

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def demo_agent(system_bus: str) -> Iterator[Callable[[GeoClue], None]]:  # noqa: F811
    """GeoClue's demo agent (desktop id geoclue-demo-agent): what the shell is to GeoClue;
    location allowed up to "exact"."""
    started: list[subprocess.Popen[bytes]] = []

    def start(geoclue: GeoClue) -> None:
        started.append(subprocess.Popen(
            [DEMO_AGENT], env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": system_bus},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        geoclue.wait_for_agent()

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


class SwitchedOffAgent(ServiceInterface):
    """The agent side of Phosh's location manager with the location switch off
    (org.gnome.system.location enabled=false): MaxAccuracyLevel 0."""

    def __init__(self) -> None:
        super().__init__("org.freedesktop.GeoClue2.Agent")

    @dbus_property(access=PropertyAccess.READ, name="MaxAccuracyLevel")
    def max_accuracy_level(self) -> DBusUInt32:
        return 0

    @dbus_method(name="AuthorizeApp")
    def authorize_app(self, desktop_id: DBusStr,
                      level: DBusUInt32) -> Annotated[tuple[bool, int], DBusSignature("bu")]:
        return (False, 0)


@pytest.fixture
def switched_off_agent(system_bus: str) -> Iterator[Callable[[GeoClue], None]]:  # noqa: F811
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    conns: list[MessageBus] = []

    async def register() -> None:
        peer = await MessageBus(bus_address=system_bus, bus_type=BusType.SYSTEM).connect()
        conns.append(peer)
        peer.export("/org/freedesktop/GeoClue2/Agent", SwitchedOffAgent())
        manager = peer.get_proxy_object(
            "org.freedesktop.GeoClue2", "/org/freedesktop/GeoClue2/Manager",
            await peer.introspect("org.freedesktop.GeoClue2",
                                  "/org/freedesktop/GeoClue2/Manager"))
        await manager.get_interface(  # type: ignore[attr-defined]
            "org.freedesktop.GeoClue2.Manager").call_add_agent("sm.puri.Phosh")

    def start(geoclue: GeoClue) -> None:
        asyncio.run_coroutine_threadsafe(register(), loop).result(timeout=20)
        geoclue.wait_for_agent()

    yield start
    for conn in conns:
        loop.call_soon_threadsafe(conn.disconnect)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


@pytest.fixture
def agentd_on(bus: Bus) -> Iterator[Callable[..., Daemon]]:
    """The real agentd taking the private bus for the system bus."""
    started: list[Daemon] = []

    def start(system_bus: str, timeout_s: float = 20) -> Daemon:  # noqa: F811
        started.append(Daemon(bus, {"DBUS_SYSTEM_BUS_ADDRESS": system_bus,
                                    "AGENTD_LOCATION_TIMEOUT_S": str(timeout_s)}).start())
        return started[-1]

    yield start
    for daemon in started:
        daemon.kill(signal.SIGTERM)


def location_row(bus: Bus) -> dict[str, object]:
    rows = json.loads(bus.agentctl("doctor", "--json").stdout)
    (row,) = [r for r in rows if r["capability"] == "location"]
    return row  # type: ignore[no-any-return]


def failed_with(bus: Bus, daemon: Daemon, text: str) -> str:
    """Ask; the step must fail with Unavailable, and agentd must go on answering."""
    task = ask(bus, text)
    assert task["state"] == "failed" and step(task)["tool"] == "location.get", task
    error = step(task)["error"]
    assert error.startswith("io.agentd.Error.Unavailable: "), error
    assert daemon.alive() and ask(bus, "what time is it")["state"] == "done"
    return error.removeprefix("io.agentd.Error.Unavailable: ")


def in_use(address: str) -> str:
    busctl = shutil.which("busctl") or "busctl"
    return subprocess.run([busctl, f"--address={address}", "get-property",
                           "org.freedesktop.GeoClue2", "/org/freedesktop/GeoClue2/Manager",
                           "org.freedesktop.GeoClue2.Manager", "InUse"],
                          capture_output=True, text=True).stdout.strip()


def test_the_served_position_through_the_daemon(
        bus: Bus, gps: Gps, start_geoclue: Callable[..., GeoClue],
        demo_agent: Callable[[GeoClue], None], agentd_on: Callable[..., Daemon]) -> None:
    gps.fix = Fix(52.52, 13.405, hdop=8.0, altitude=34.0)  # Berlin; HDOP 8: 50 m
    geoclue = start_geoclue()
    demo_agent(geoclue)
    daemon = agentd_on(geoclue.address)
    row = location_row(bus)
    assert (row["backend"], row["available"], row["selected"]) == ("geoclue", True, True)
    assert row["reason"] == "GeoClue runs on the system bus (best accuracy now: exact)"
    tools = {t["name"]: t for t in json.loads(bus.agentctl("--json", "tools").stdout)}
    assert (tools["location.get"]["available"], tools["location.get"]["backend"]) == \
        (True, "geoclue")

    task = ask(bus, "where am i")
    assert task["state"] == "done", (task, daemon.logs(), geoclue.logs())
    assert task["reply"] == "The phone is at 52.5200, 13.4050 (within 50 m)."
    assert "'agentd' started." in geoclue.logs()  # GeoClue knew agentd by its desktop id
    (record,) = [r for r in audit(bus) if r.get("tool") == "location.get"]
    assert record.get("taint", []) == []  # agentd's own words: the task is not tainted
    wait_for(lambda: "'agentd' stopped." in geoclue.logs())  # and the GPS may sleep
    assert in_use(geoclue.address) == "b false"

    # Another call reads the receiver again (GeoClue reconnects to its socket).
    gps.fix = Fix(-33.8688, 151.2093, hdop=0.9, altitude=58.0)  # Sydney; HDOP 0.9: 0 m
    task = ask(bus, "what's my current location")
    assert task["reply"] == "The phone is at -33.8688, 151.2093 (within 1 m).", task
    assert gps.connections == 2


def test_geoclue_not_on_the_bus(bus: Bus, system_bus: str,  # noqa: F811
                                agentd_on: Callable[..., Daemon]) -> None:
    daemon = agentd_on(system_bus)
    row = location_row(bus)
    assert (row["backend"], row["available"], row["reason"]) == ("geoclue", False, OFF)
    error = failed_with(bus, daemon, "where is my phone")
    assert error == f"no location backend works here (geoclue: {OFF})"
    assert OFF.startswith("the location service is off: ") and "geoclue-2.0" in OFF


def test_agentd_not_allowed_by_geoclues_configuration(
        bus: Bus, start_geoclue: Callable[..., GeoClue],
        demo_agent: Callable[[GeoClue], None], agentd_on: Callable[..., Daemon]) -> None:
    geoclue = start_geoclue(DENIED_SECTION)
    demo_agent(geoclue)
    daemon = agentd_on(geoclue.address)
    error = failed_with(bus, daemon, "what are my coordinates")
    assert error == (
        "GeoClue's configuration does not allow agentd ('agentd' disallowed by "
        f"configuration for UID {os.geteuid()}): add to /etc/geoclue/geoclue.conf a "
        "section [agentd] with allowed=true, system=false and users= (empty: every user), "
        "then restart GeoClue (systemctl restart geoclue)"), geoclue.logs()


def test_location_services_switched_off(
        bus: Bus, gps: Gps, start_geoclue: Callable[..., GeoClue],
        switched_off_agent: Callable[[GeoClue], None],
        agentd_on: Callable[..., Daemon]) -> None:
    gps.fix = Fix(52.52, 13.405, hdop=8.0, altitude=34.0)
    geoclue = start_geoclue()
    switched_off_agent(geoclue)
    daemon = agentd_on(geoclue.address)
    error = failed_with(bus, daemon, "where am i")
    assert error == (
        f"location services are turned off on this phone (GeoClue: Geolocation disabled "
        f"for UID {os.geteuid()}): say “turn on location”, or turn them on in the phone's "
        "settings (Privacy → Location Services)")
    assert gps.connections == 0  # no source was started


def test_no_fix_in_time(bus: Bus, gps: Gps, start_geoclue: Callable[..., GeoClue],
                        demo_agent: Callable[[GeoClue], None],
                        agentd_on: Callable[..., Daemon]) -> None:
    gps.fix = None  # the receiver talks, but has no fix yet
    geoclue = start_geoclue()
    demo_agent(geoclue)
    daemon = agentd_on(geoclue.address, timeout_s=TIMEOUT_S)
    started = time.monotonic()
    error = failed_with(bus, daemon, "where am i")
    assert error == NO_FIX.format(s=TIMEOUT_S)
    assert error.startswith(f"no position yet: GeoClue found no fix in {TIMEOUT_S} s (")
    assert time.monotonic() - started < TIMEOUT_S + 10
    assert gps.connections >= 1 and "Valid NMEA GGA or RMC sentence not found" in geoclue.logs()
    wait_for(lambda: "'agentd' stopped." in geoclue.logs())  # stopped after all


def test_no_location_agent_for_the_user(bus: Bus, start_geoclue: Callable[..., GeoClue],
                                        agentd_on: Callable[..., Daemon]) -> None:
    geoclue = start_geoclue()  # and no shell session: GeoClue waits for an agent
    daemon = agentd_on(geoclue.address, timeout_s=TIMEOUT_S)
    error = failed_with(bus, daemon, "where am i")
    assert error == NO_AGENT.format(s=TIMEOUT_S), geoclue.logs()
    assert "waiting for agent" in geoclue.logs()


@pytest.mark.parametrize(("accuracy", "said"), [
    (0.0, "within 1 m"), (49.2, "within 50 m"), (999.0, "within 999 m"),
    (1000.0, "within 1 km"), (1520.0, "within 1.6 km"), (25000.0, "within 25 km"),
    (None, "accuracy unknown")])
def test_accuracy_as_people_say_it(accuracy: float | None, said: str) -> None:
    position = Position(-0.5, -70.25, accuracy)
    assert position.sentence() == f"The phone is at -0.5000, -70.2500 ({said})."
    assert position.to_json()["place"] is None
