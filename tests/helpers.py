"""Small helpers over the real clients used by the tests."""

from __future__ import annotations

import json
import re
from typing import Any

from conftest import Bus, wait_for

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
