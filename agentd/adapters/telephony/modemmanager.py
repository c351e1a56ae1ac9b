"""Backend "modemmanager": SMS and calls through ModemManager on the system bus.

``org.freedesktop.ModemManager1`` exports each modem under
``/org/freedesktop/ModemManager1/Modem/N``; ``Modem.Messaging.Create`` makes an SMS
object that ``Sms.Send`` sends, ``Modem.Voice.CreateCall`` a call that ``Call.Start``
dials. With no system bus, no ModemManager or no modem the backend is unavailable and
says which, always in words starting "no modem".
"""

from __future__ import annotations

from typing import Any

from dbus_fast import Variant
from dbus_fast.aio import MessageBus

from agentd.adapters.base import Availability
from agentd.adapters.dbuscalls import CHECK_TIMEOUT_S, call, connect, has_service
from agentd.adapters.telephony import CAPABILITY
from agentd.bus.names import OBJECT_MANAGER_IFACE
from agentd.errors import AgentError, Unavailable

MM_NAME = "org.freedesktop.ModemManager1"
MM_PATH = "/org/freedesktop/ModemManager1"
MODEM_IFACE = f"{MM_NAME}.Modem"
MESSAGING_IFACE = f"{MM_NAME}.Modem.Messaging"
VOICE_IFACE = f"{MM_NAME}.Modem.Voice"
SMS_IFACE = f"{MM_NAME}.Sms"
CALL_IFACE = f"{MM_NAME}.Call"
CALL_TIMEOUT_S = 30.0


class _NoModem(Exception):
    """Why no modem can be used, in words."""


class ModemManagerTelephony:
    name = "modemmanager"
    capability = CAPABILITY
    test = False

    async def availability(self) -> Availability:
        try:
            bus = await self._connect()
        except _NoModem as why:
            return Availability.no(str(why))
        try:
            modems = await self._modems(bus)
        except _NoModem as why:
            return Availability.no(str(why))
        except AgentError as exc:
            return Availability.no(f"no modem: the system bus did not answer ({exc})")
        finally:
            bus.disconnect()
        described = ", ".join(f"{path} ({props.get('Model', '?')})"
                              for path, props in modems.items())
        return Availability.yes(f"ModemManager: {described}")

    async def send_sms(self, number: str, text: str) -> str:
        async with self._modem_with(MESSAGING_IFACE, "sending text messages") as (bus, modem):
            (sms,) = await call(bus, MM_NAME, modem, MESSAGING_IFACE, "Create", "a{sv}",
                                [{"number": Variant("s", number), "text": Variant("s", text)}],
                                timeout=CALL_TIMEOUT_S)
            await call(bus, MM_NAME, sms, SMS_IFACE, "Send", timeout=CALL_TIMEOUT_S)
            return str(sms)

    async def dial(self, number: str) -> str:
        async with self._modem_with(VOICE_IFACE, "voice calls") as (bus, modem):
            (placed,) = await call(bus, MM_NAME, modem, VOICE_IFACE, "CreateCall", "a{sv}",
                                   [{"number": Variant("s", number)}], timeout=CALL_TIMEOUT_S)
            await call(bus, MM_NAME, placed, CALL_IFACE, "Start", timeout=CALL_TIMEOUT_S)
            return str(placed)

    # -- plumbing ------------------------------------------------------------------------

    def _modem_with(self, interface: str, what: str) -> _ModemSession:
        return _ModemSession(self, interface, what)

    async def _connect(self) -> MessageBus:
        try:
            return await connect()
        except Unavailable as exc:
            raise _NoModem(f"no modem: ModemManager runs on the system bus, and {exc}") \
                from None

    async def _modems(self, bus: MessageBus) -> dict[str, dict[str, Any]]:
        """Modem path → its Modem properties and interfaces; _NoModem when there are none."""
        if not await has_service(bus, MM_NAME):
            raise _NoModem("no modem: ModemManager is not running on the system bus "
                           "(Debian package modemmanager)")
        try:
            (objects,) = await call(bus, MM_NAME, MM_PATH, OBJECT_MANAGER_IFACE,
                                    "GetManagedObjects", timeout=CHECK_TIMEOUT_S)
        except AgentError as exc:
            raise _NoModem(f"no modem: ModemManager did not answer ({exc})") from None
        modems: dict[str, dict[str, Any]] = {}
        for path, interfaces in objects.items():
            if MODEM_IFACE in interfaces:
                props = {k: v.value for k, v in interfaces[MODEM_IFACE].items()}
                modems[path] = {**props, "interfaces": set(interfaces)}
        if not modems:
            raise _NoModem("no modem: ModemManager runs but sees no modem")
        return modems


class _ModemSession:
    """``async with``: a system bus connection and the first modem offering an interface."""

    def __init__(self, backend: ModemManagerTelephony, interface: str, what: str) -> None:
        self._backend, self._interface, self._what = backend, interface, what
        self._bus: MessageBus | None = None

    async def __aenter__(self) -> tuple[MessageBus, str]:
        try:
            self._bus = await self._backend._connect()
            modems = await self._backend._modems(self._bus)
        except _NoModem as why:
            await self.__aexit__()
            raise Unavailable(str(why)) from None
        except AgentError:
            await self.__aexit__()
            raise
        for path, props in sorted(modems.items()):
            if self._interface in props["interfaces"]:
                return self._bus, path
        await self.__aexit__()
        raise Unavailable(f"no modem here supports {self._what}")

    async def __aexit__(self, *exc: object) -> None:
        if self._bus is not None:
            self._bus.disconnect()
            self._bus = None

