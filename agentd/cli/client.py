"""A small asyncio client for io.agentd.Agent1, shared by agentctl's commands."""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from typing import Any

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.errors import AuthError

from agentd.bus.names import (
    AGENT_IFACE,
    AGENT_PATH,
    BUS_NAME,
    DBUS_NAME,
    DBUS_PATH,
    PROPERTIES_IFACE,
    TASK_IFACE,
)
from agentd.bus.variants import from_variant, to_vardict

HOW_TO_START = ("agentd is not running on this session bus. Start it with "
                "`systemctl --user start agentd` (installed), or run `agentd` in another "
                "terminal (from a checkout: `.venv/bin/agentd`).")
NOT_RUNNING = {"org.freedesktop.DBus.Error.ServiceUnknown",
               "org.freedesktop.DBus.Error.NameHasNoOwner",
               "org.freedesktop.DBus.Error.Spawn.ChildExited",
               "org.freedesktop.DBus.Error.Spawn.ExecFailed"}
NO_BUS = "no-session-bus"  # agentctl's own name: no session bus to reach agentd on


class ClientError(Exception):
    """An error to show the user: a D-Bus error name (if any) and what to do."""

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name

    @property
    def not_running(self) -> bool:
        """agentd cannot be reached: not running, or no session bus at all."""
        return self.name in NOT_RUNNING or self.name == NO_BUS


class AgentClient:
    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self._signals: dict[str, asyncio.Queue[Message]] = defaultdict(asyncio.Queue)

    @classmethod
    async def connect(cls) -> AgentClient:
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.path.exists(
                f"/run/user/{os.getuid()}/bus"):
            raise ClientError("there is no D-Bus session bus here (DBUS_SESSION_BUS_ADDRESS "
                              "is unset). Run agentctl inside your desktop session, or start "
                              "one with `dbus-run-session -- bash`.", NO_BUS)
        try:
            bus = await MessageBus(bus_type=BusType.SESSION).connect()
        except (OSError, AuthError, ValueError) as exc:
            raise ClientError(f"cannot connect to the D-Bus session bus: {exc}",
                              NO_BUS) from None
        return cls(bus)

    def close(self) -> None:
        self.bus.disconnect()

    async def call(self, path: str, iface: str, member: str, signature: str = "",
                   body: list[Any] | None = None, destination: str = BUS_NAME) -> list[Any]:
        reply = await self.bus.call(Message(destination=destination, path=path,
                                            interface=iface, member=member,
                                            signature=signature, body=body or []))
        assert reply is not None
        if reply.message_type is MessageType.ERROR:
            name = reply.error_name or ""
            text = reply.body[0] if reply.body else name
            if name in NOT_RUNNING:
                raise ClientError(HOW_TO_START, name)
            raise ClientError(str(text), name)
        return list(reply.body)

    async def properties(self, path: str, iface: str) -> dict[str, Any]:
        body = await self.call(path, PROPERTIES_IFACE, "GetAll", "s", [iface])
        return from_variant(body[0])  # type: ignore[no-any-return]

    async def agent(self) -> dict[str, Any]:
        return await self.properties(AGENT_PATH, AGENT_IFACE)

    async def task(self, path: str) -> dict[str, Any]:
        return await self.properties(path, TASK_IFACE)

    async def watch_tasks(self) -> None:
        """Receive every task's signals from now on, before asking: none can be missed."""
        self.bus.add_message_handler(self._on_message)
        rule = (f"type='signal',interface='{TASK_IFACE}',"
                f"path_namespace='{AGENT_PATH}/task'")
        await self.call(DBUS_PATH, DBUS_NAME, "AddMatch", "s", [rule], destination=DBUS_NAME)

    def _on_message(self, msg: Message) -> None:
        if msg.message_type is MessageType.SIGNAL and msg.interface == TASK_IFACE and msg.path:
            self._signals[msg.path].put_nowait(msg)

    async def next_signal(self, path: str) -> Message:
        return await self._signals[path].get()

    async def ask(self, text: str, options: dict[str, Any]) -> str:
        body = await self.call(AGENT_PATH, AGENT_IFACE, "Ask", "sa{sv}",
                               [text, to_vardict(options)])
        return str(body[0])
