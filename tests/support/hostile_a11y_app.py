"""An app that registers with the AT-SPI registry and then misbehaves.

Usage: hostile_a11y_app.py MODE A11Y_BUS_ADDRESS — run with agentd's venv Python
(dbus-fast). It embeds its root object in the registry (``org.a11y.atspi.Socket.Embed``),
as every toolkit does, and prints "ready". MODE:

- ``hung``: never answers a call (agentd's calls must time out);
- ``endless``: an active window "Endless" whose tree has no end: every object has 50
  showing children, one of them the window itself (a loop), each a button whose children
  are deeper buttons (agentd's walk must stop at its node and depth caps).
"""

import asyncio
import sys

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

REGISTRY = "org.a11y.atspi.Registry"
ROOT = "/org/a11y/atspi/accessible/root"
WINDOW = "/endless"
ACTIVE, SHOWING, VISIBLE, ENABLED, SENSITIVE = 1, 25, 30, 8, 24


def bits(*states: int) -> list[int]:
    word = sum(1 << s for s in states)
    return [word & 0xFFFFFFFF, word >> 32]


def answer(bus: MessageBus, msg: Message) -> Message | None:
    path, member = msg.path or "", msg.member
    own = bus.unique_name or ""
    if path == ROOT:
        name, role, state, children = "hostile", "application", bits(), [[own, WINDOW]]
    elif path == WINDOW:
        name, role = "Endless", "frame"
        state = bits(ACTIVE, SHOWING, VISIBLE, ENABLED, SENSITIVE)
        children = [[own, WINDOW], [own, ROOT]] + [[own, f"/b/{i}"] for i in range(48)]
    else:
        name, role = f"Button {path}", "push button"
        state = bits(SHOWING, VISIBLE, ENABLED, SENSITIVE)
        children = [[own, f"{path}/{i}"] for i in range(50)]
    if member == "GetAll":
        return Message.new_method_return(msg, "a{sv}", [{"Name": Variant("s", name)}])
    if member == "GetRoleName":
        return Message.new_method_return(msg, "s", [role])
    if member == "GetState":
        return Message.new_method_return(msg, "au", [state])
    if member == "GetInterfaces":
        return Message.new_method_return(msg, "as", [["org.a11y.atspi.Accessible",
                                                       "org.a11y.atspi.Action"]])
    if member == "GetChildren":
        return Message.new_method_return(msg, "a(so)", [children])
    return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", member or "")


async def main(mode: str, address: str) -> None:
    bus = await MessageBus(bus_address=address).connect()

    def handle(msg: Message) -> Message | bool:
        if msg.message_type is not MessageType.METHOD_CALL:
            return False
        if mode == "hung":
            return True  # swallowed: no reply, ever
        return answer(bus, msg) or True

    bus.add_message_handler(handle)
    reply = await bus.call(Message(destination=REGISTRY, path=ROOT,
                                   interface="org.a11y.atspi.Socket", member="Embed",
                                   signature="(so)", body=[[bus.unique_name, ROOT]]))
    assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply
    print("ready", flush=True)
    await asyncio.Event().wait()


asyncio.run(main(sys.argv[1], sys.argv[2]))
