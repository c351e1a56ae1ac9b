"""D-Bus helpers for the backends that call a service themselves (settings, power,
telephony, media, the screenshot portal): one call with a timeout and named errors, and a
connection per use (the services come and go; availability is checked on every call)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.errors import AuthError

from agentd.bus.names import DBUS_NAME, DBUS_PATH, PROPERTIES_IFACE
from agentd.errors import AgentError, Unavailable

DBUS = (DBUS_NAME, DBUS_PATH, DBUS_NAME)
PROPERTIES = PROPERTIES_IFACE
CALL_TIMEOUT_S = 10.0
CHECK_TIMEOUT_S = 5.0  # availability checks (doctor, ListTools) must not hang


class CallTimedOut(AgentError):
    """The service did not answer a call in time (it may be busy, or waiting itself)."""


class CallFailed(AgentError):
    """The service answered a call with a D-Bus error: ``error_name`` and its ``detail``."""

    def __init__(self, message: str, error_name: str, detail: str) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.detail = detail


async def connect(bus_type: BusType = BusType.SYSTEM) -> MessageBus:
    """A connection to the system (or session) bus, or ``Unavailable`` saying why not."""
    which = "system D-Bus" if bus_type is BusType.SYSTEM else "session bus"
    try:
        return await asyncio.wait_for(MessageBus(bus_type=bus_type).connect(),
                                      CHECK_TIMEOUT_S)
    except (TimeoutError, OSError, AuthError, ValueError) as exc:
        raise Unavailable(f"the {which} cannot be reached "
                          f"({exc or type(exc).__name__})") from None


@asynccontextmanager
async def system_bus() -> AsyncIterator[MessageBus]:
    """A connection to the system bus for one use, or ``Unavailable``."""
    bus = await connect()
    try:
        yield bus
    finally:
        bus.disconnect()


@asynccontextmanager
async def session_bus() -> AsyncIterator[MessageBus]:
    """A connection to the session bus for one use, or ``Unavailable``."""
    bus = await connect(BusType.SESSION)
    try:
        yield bus
    finally:
        bus.disconnect()


async def call(bus: MessageBus, destination: str, path: str, interface: str, member: str,
               signature: str = "", body: list[Any] | None = None,
               timeout: float = CALL_TIMEOUT_S) -> list[Any]:
    try:
        reply = await asyncio.wait_for(bus.call(Message(
            destination=destination, path=path, interface=interface, member=member,
            signature=signature, body=body or [])), timeout)
    except TimeoutError:
        raise CallTimedOut(f"{interface}.{member} did not answer in {timeout:.0f} s") from None
    if reply is None:
        raise AgentError(f"{interface}.{member}: no reply")
    if reply.message_type is MessageType.ERROR:
        detail = str(reply.body[0]) if reply.body else ""
        raise CallFailed(f"{interface}.{member} failed: {reply.error_name}: {detail}",
                         reply.error_name or "", detail)
    return list(reply.body)


async def has_service(bus: MessageBus, name: str) -> bool:
    """Whether ``name`` runs on the bus or can be started by it."""
    (owned,) = await call(bus, DBUS[0], DBUS[1], DBUS[2], "NameHasOwner", "s", [name],
                          timeout=CHECK_TIMEOUT_S)
    if owned:
        return True
    (activatable,) = await call(bus, DBUS[0], DBUS[1], DBUS[2], "ListActivatableNames",
                                timeout=CHECK_TIMEOUT_S)
    return name in activatable


async def get_properties(bus: MessageBus, destination: str, path: str,
                         interface: str) -> dict[str, Any]:
    (props,) = await call(bus, destination, path, PROPERTIES, "GetAll", "s", [interface])
    return {key: value.value for key, value in props.items()}


async def set_property(bus: MessageBus, destination: str, path: str, interface: str,
                       prop: str, value: Variant) -> None:
    await call(bus, destination, path, PROPERTIES, "Set", "ssv", [interface, prop, value])
