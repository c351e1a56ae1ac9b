"""Backend "geoclue": the phone's position through GeoClue 2 on the system bus.

One client per call, as GeoClue's own demo does it: ``Manager.CreateClient``, the
client's ``DesktopId`` ("agentd": GeoClue's configuration and its agent know apps by it)
and ``RequestedAccuracyLevel`` (exact: GPS when there is one), ``Start``, then the first
``LocationUpdated(old, new)`` signal, which GeoClue sends to the client's connection
alone; the new ``Location`` object has ``Latitude``, ``Longitude``, ``Accuracy`` (metres),
``Altitude`` and ``Timestamp``. ``Stop`` and ``DeleteClient`` after (the GPS powers down).

What GeoClue 2.6 (Debian 12) does with agentd, from its source
(``gclue-service-manager.c``, ``gclue-service-client.c``, ``gclue-config.c``):

- ``CreateClient`` is answered only once an agent for the caller's user is registered
  (Phosh's location manager registers as ``sm.puri.Phosh``; the agent must be in
  ``[agent] whitelist``). Without one it waits for ever: agentd's timeout says so.
- ``Start``: ``[agentd] allowed=false`` (or ``users=`` without this uid) in
  ``/etc/geoclue/geoclue.conf`` is ``AccessDenied`` "'agentd' disallowed by
  configuration"; the agent's ``MaxAccuracyLevel`` 0 (Phosh: location services off) is
  ``AccessDenied`` "Geolocation disabled"; otherwise a program that is not a Flatpak app
  starts without the agent's ``AuthorizeApp`` prompt.
- 2.6 reads ``/etc/geoclue/geoclue.conf`` alone (no ``conf.d``), once, when it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from agentd.adapters.base import Availability
from agentd.adapters.dbuscalls import (
    CHECK_TIMEOUT_S,
    DBUS,
    PROPERTIES,
    CallFailed,
    CallTimedOut,
    call,
    has_service,
    system_bus,
)
from agentd.adapters.location import CAPABILITY, Position
from agentd.errors import AgentError, Unavailable

GEOCLUE = "org.freedesktop.GeoClue2"
MANAGER_PATH = "/org/freedesktop/GeoClue2/Manager"
MANAGER_IFACE = "org.freedesktop.GeoClue2.Manager"
CLIENT_IFACE = "org.freedesktop.GeoClue2.Client"
LOCATION_IFACE = "org.freedesktop.GeoClue2.Location"
DESKTOP_ID = "agentd"
EXACT = 8  # GClueAccuracyLevel: 1 country, 4 city, 5 neighbourhood, 6 street, 8 exact
LEVELS = {0: "none", 1: "country", 4: "city", 5: "neighbourhood", 6: "street", 8: "exact"}
ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
NOT_THERE = ("org.freedesktop.DBus.Error.ServiceUnknown",
             "org.freedesktop.DBus.Error.NameHasNoOwner")
CONFIG = "/etc/geoclue/geoclue.conf"
UNKNOWN_ALTITUDE = -1e300  # GeoClue's "unknown" is -G_MAXDOUBLE

OFF = ("the location service is off: GeoClue is not running on the system bus and D-Bus "
       "cannot start it (install the Debian package geoclue-2.0, which agentd reads the "
       "phone's position through)")
NO_AGENT = ("GeoClue gave agentd no client in {s:g} s: it answers only once this user's "
            "location agent has registered (the phone's shell, Phosh, registers one when "
            "the session starts), so no phone session runs for this user, or its shell is "
            f"not in [agent] whitelist= of {CONFIG}")
NOT_ALLOWED = ("GeoClue's configuration does not allow agentd ({detail}): add to {config} "
               "a section [agentd] with allowed=true, system=false and users= (empty: every "
               "user), then restart GeoClue (systemctl restart geoclue)")
SWITCHED_OFF = ("location services are turned off on this phone (GeoClue: {detail}): say "
                "“turn on location”, or turn them on in the phone's settings (Privacy → "
                "Location Services)")
REFUSED = ("the location agent (the phone's shell) refused agentd ({detail}): allow "
           "agentd in {config} ([agentd] allowed=true), or answer yes when the shell asks")
NO_FIX = ("no position yet: GeoClue found no fix in {s:g} s (a GPS needs a view of the sky "
          "and up to a minute after it starts; Wi-Fi and cell positioning need a network); "
          "the location_timeout_s setting says how long agentd waits")


class GeoClueLocation:
    name = "geoclue"
    capability = CAPABILITY
    test = False

    def __init__(self, timeout_s: float = 30.0, config: str = CONFIG) -> None:
        self.timeout_s = timeout_s
        self.config = config  # named in the errors that say what to change

    async def availability(self) -> Availability:
        """Whether GeoClue runs or can be started; never starts a client (a GPS would
        power up) nor GeoClue itself."""
        try:
            async with system_bus() as bus:
                (running,) = await call(bus, *DBUS, "NameHasOwner", "s", [GEOCLUE],
                                        timeout=CHECK_TIMEOUT_S)
                if not running:
                    if await has_service(bus, GEOCLUE):
                        return Availability.yes("GeoClue on the system bus (D-Bus starts "
                                                "it on first use)")
                    return Availability.no(OFF)
                (level,) = await call(bus, GEOCLUE, MANAGER_PATH, PROPERTIES, "Get", "ss",
                                      [MANAGER_IFACE, "AvailableAccuracyLevel"],
                                      timeout=CHECK_TIMEOUT_S)
        except Unavailable as exc:
            return Availability.no(str(exc))
        except AgentError as exc:
            return Availability.no(f"GeoClue did not answer ({exc})")
        best = LEVELS.get(int(level.value), str(level.value))
        return Availability.yes(f"GeoClue runs on the system bus (best accuracy now: {best})")

    async def position(self) -> Position:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s

        def left() -> float:
            return max(0.05, deadline - loop.time())

        async with system_bus() as bus:
            if not await has_service(bus, GEOCLUE):
                raise Unavailable(OFF)
            client = await self._create_client(bus, left())
            try:
                path = await self._start_and_wait(bus, client, left)
                return await _read_location(bus, path)
            finally:
                await _release(bus, client)

    async def _create_client(self, bus: MessageBus, timeout: float) -> str:
        try:
            (client,) = await call(bus, GEOCLUE, MANAGER_PATH, MANAGER_IFACE, "CreateClient",
                                   timeout=timeout)
        except CallTimedOut:
            raise Unavailable(NO_AGENT.format(s=self.timeout_s)) from None
        except CallFailed as exc:
            raise self._refusal(exc) from None
        return str(client)

    async def _start_and_wait(self, bus: MessageBus, client: str,
                              left: Callable[[], float]) -> str:
        """Start the client and wait for its first Location object's path."""
        updated: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def on_message(msg: Message) -> None:
            if (msg.message_type is MessageType.SIGNAL and msg.path == client
                    and msg.interface == CLIENT_IFACE and msg.member == "LocationUpdated"
                    and not updated.done() and len(msg.body) == 2):
                updated.set_result(str(msg.body[1]))

        bus.add_message_handler(on_message)
        try:
            await call(bus, *DBUS, "AddMatch", "s",
                       [f"type='signal',sender='{GEOCLUE}',path='{client}',"
                        f"interface='{CLIENT_IFACE}',member='LocationUpdated'"],
                       timeout=CHECK_TIMEOUT_S)
            for prop, value in (("DesktopId", Variant("s", DESKTOP_ID)),
                                ("RequestedAccuracyLevel", Variant("u", EXACT))):
                await call(bus, GEOCLUE, client, PROPERTIES, "Set", "ssv",
                           [CLIENT_IFACE, prop, value], timeout=CHECK_TIMEOUT_S)
            try:
                await call(bus, GEOCLUE, client, CLIENT_IFACE, "Start", timeout=left())
            except CallTimedOut:
                raise Unavailable(f"GeoClue did not start locating in {self.timeout_s:g} s "
                                  "(it may be waiting for the location agent to authorise "
                                  "agentd: answer the shell's question)") from None
            except CallFailed as exc:
                raise self._refusal(exc) from None
            if not updated.done():  # a position GeoClue already had may have come first
                (current,) = await call(bus, GEOCLUE, client, PROPERTIES, "Get", "ss",
                                        [CLIENT_IFACE, "Location"], timeout=CHECK_TIMEOUT_S)
                if str(current.value) != "/" and not updated.done():
                    updated.set_result(str(current.value))
            try:
                return await asyncio.wait_for(updated, left())
            except TimeoutError:
                raise Unavailable(NO_FIX.format(s=self.timeout_s)) from None
        finally:
            bus.remove_message_handler(on_message)

    def _refusal(self, exc: CallFailed) -> Unavailable:
        """GeoClue's AccessDenied and other errors, as what the user can do about them."""
        detail = exc.detail or exc.error_name
        if exc.error_name in NOT_THERE:
            return Unavailable(OFF)
        if exc.error_name != ACCESS_DENIED:
            return Unavailable(f"GeoClue failed: {exc}")
        if "disallowed by configuration" in detail:
            return Unavailable(NOT_ALLOWED.format(detail=detail, config=self.config))
        if "Geolocation disabled" in detail:
            return Unavailable(SWITCHED_OFF.format(detail=detail))
        if "no agent" in detail:
            return Unavailable(f"{NO_AGENT.format(s=self.timeout_s)} (GeoClue: {detail})")
        return Unavailable(REFUSED.format(detail=detail, config=self.config))


async def _read_location(bus: MessageBus, path: str) -> Position:
    (props,) = await call(bus, GEOCLUE, path, PROPERTIES, "GetAll", "s", [LOCATION_IFACE],
                          timeout=CHECK_TIMEOUT_S)
    values = {key: value.value for key, value in props.items()}
    try:
        latitude = float(values["Latitude"])
        longitude = float(values["Longitude"])
        accuracy = float(values.get("Accuracy", -1.0))
        altitude = float(values.get("Altitude", UNKNOWN_ALTITUDE))
        stamp = values.get("Timestamp")
        timestamp = int(stamp[0]) if isinstance(stamp, (list, tuple)) and stamp else None
    except (KeyError, TypeError, ValueError) as exc:
        raise AgentError(f"GeoClue's location {path} is malformed ({exc!r})") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise AgentError(f"GeoClue's location {path} is out of range: "
                         f"{latitude}, {longitude}")
    return Position(latitude, longitude, accuracy if accuracy >= 0 else None,
                    altitude if altitude > UNKNOWN_ALTITUDE else None, timestamp)


async def _release(bus: MessageBus, client: str) -> None:
    """Stop the client (the GPS may power down) and delete it; best effort: closing the
    connection drops it too."""
    for path, iface, member, sig, body in (
            (client, CLIENT_IFACE, "Stop", "", []),
            (MANAGER_PATH, MANAGER_IFACE, "DeleteClient", "o", [client])):
        with contextlib.suppress(AgentError):
            await call(bus, GEOCLUE, path, iface, member, sig, body, timeout=CHECK_TIMEOUT_S)
