"""A bounded read of one app's AT-SPI2 tree, level by level, over a dbus-fast connection.

Every call has its own timeout, the whole walk has a deadline, and the numbers of nodes,
children per node and levels are capped, so a huge or hostile app cannot hang agentd:
what was read before a bound was hit is kept and marked ``truncated``. Subtrees of
objects that are not showing are not entered.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from agentd.bus.names import PROPERTIES_IFACE

ACCESSIBLE = "org.a11y.atspi.Accessible"
TEXT = "org.a11y.atspi.Text"
ACTION = "org.a11y.atspi.Action"
EDITABLE_TEXT = "org.a11y.atspi.EditableText"
PROPERTIES = PROPERTIES_IFACE

CALL_TIMEOUT_S = 1.0  # one D-Bus call to an app
WALK_TIMEOUT_S = 4.0  # one app's whole tree
MAX_NODES = 3000  # per app
MAX_CHILDREN = 400  # read per object (long lists: the first ones)
MAX_DEPTH = 40
MAX_TEXT = 2000  # characters read from one Text object
MAX_NAME = 300  # characters kept of a name
IN_FLIGHT = 32  # concurrent calls per walk

# AtspiStateType (at-spi2-core atspi-constants.h): bit numbers in GetState's two words.
STATE_ACTIVE = 1
STATE_EDITABLE = 7
STATE_ENABLED = 8
STATE_FOCUSED = 12
STATE_SENSITIVE = 24
STATE_SHOWING = 25
STATE_VISIBLE = 30


class CallFailed(Exception):
    """An AT-SPI call got an error, no reply, or no reply in time."""


async def call(conn: MessageBus, ref: tuple[str, str], interface: str, member: str,
               signature: str = "", body: list[Any] | None = None,
               timeout: float = CALL_TIMEOUT_S) -> list[Any]:
    try:
        reply = await asyncio.wait_for(conn.call(Message(
            destination=ref[0], path=ref[1], interface=interface, member=member,
            signature=signature, body=body or [])), timeout)
    except TimeoutError:
        raise CallFailed(f"{member} on {ref[0]} did not answer in {timeout:.0f} s") from None
    except (OSError, EOFError) as exc:
        raise CallFailed(f"{member} on {ref[0]}: {exc}") from None
    if reply is None or reply.message_type is MessageType.ERROR:
        detail = reply.error_name if reply is not None else "no reply"
        raise CallFailed(f"{member} on {ref[0]}: {detail}")
    return list(reply.body)


async def get_property(conn: MessageBus, ref: tuple[str, str], interface: str,
                       name: str) -> Any:
    (variant,) = await call(conn, ref, PROPERTIES, "Get", "ss", [interface, name])
    return variant.value


@dataclass(eq=False)
class Node:
    """One accessible object as read; ``children`` only for showing ones."""

    ref: tuple[str, str]
    depth: int
    parent: Node | None = None
    name: str = ""
    role: str = ""
    states: int = 0  # bit n = AtspiStateType n
    interfaces: frozenset[str] = frozenset()
    text: str = ""
    error: str = ""
    child_refs: list[tuple[str, str]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def has(self, state: int) -> bool:
        return bool(self.states >> state & 1)

    @property
    def showing(self) -> bool:
        return self.has(STATE_SHOWING) and self.has(STATE_VISIBLE)

    @property
    def actionable(self) -> bool:
        return ACTION in self.interfaces

    @property
    def editable(self) -> bool:
        return EDITABLE_TEXT in self.interfaces and self.has(STATE_EDITABLE)

    def walk(self) -> list[Node]:
        """This node and its descendants, depth first, in tree order."""
        out, stack = [], [self]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out


@dataclass
class AppTree:
    root: Node
    truncated: bool
    nodes: int

    @property
    def name(self) -> str:
        return self.root.name or self.root.ref[0]


async def read_app(conn: MessageBus, ref: tuple[str, str],
                   timeout: float = WALK_TIMEOUT_S, max_nodes: int = MAX_NODES) -> AppTree:
    """The showing part of one app's tree, breadth first, within the bounds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    gate = asyncio.Semaphore(IN_FLIGHT)
    root = Node(ref, 0)
    level, count, truncated = [root], 1, False
    seen = {ref}  # a tree that loops back (a broken or hostile app) is read once
    while level:
        remaining = deadline - loop.time()
        if remaining <= 0:
            truncated = True
            break
        try:
            await asyncio.wait_for(
                asyncio.gather(*(_fill(conn, node, gate) for node in level)), remaining)
        except TimeoutError:
            truncated = True
            break
        following: list[Node] = []
        for node in level:
            if node.depth + 1 > MAX_DEPTH and node.child_refs:
                truncated = True
                continue
            for child_ref in node.child_refs:
                if child_ref in seen:
                    continue
                seen.add(child_ref)
                if count >= max_nodes:
                    truncated = True
                    break
                child = Node(child_ref, node.depth + 1, node)
                node.children.append(child)
                following.append(child)
                count += 1
        level = following
    return AppTree(root, truncated, count)


async def _fill(conn: MessageBus, node: Node, gate: asyncio.Semaphore) -> None:
    """Name, role, states and interfaces; children and text only where showing."""
    async with gate:
        try:
            props, role, state, interfaces = await asyncio.gather(
                call(conn, node.ref, PROPERTIES, "GetAll", "s", [ACCESSIBLE]),
                call(conn, node.ref, ACCESSIBLE, "GetRoleName"),
                call(conn, node.ref, ACCESSIBLE, "GetState"),
                call(conn, node.ref, ACCESSIBLE, "GetInterfaces"))
            name = props[0].get("Name") if props and isinstance(props[0], dict) else None
            node.name = _clean(str(name.value) if name is not None else "")
            node.role = str(role[0])[:60]
            words = list(state[0])[:2]
            node.states = sum(int(w) << (32 * i) for i, w in enumerate(words))
            node.interfaces = frozenset(str(i) for i in list(interfaces[0])[:32])
            # The application object (depth 0) has no state of its own: always enter it.
            if node.depth == 0 or node.showing:
                (children,) = await call(conn, node.ref, ACCESSIBLE, "GetChildren")
                node.child_refs = [(str(bus), str(path))
                                   for bus, path in list(children)[:MAX_CHILDREN]]
            if node.showing and TEXT in node.interfaces and (node.editable or not node.name):
                node.text = await read_text(conn, node.ref)
        except (CallFailed, ValueError, TypeError, IndexError, AttributeError) as exc:
            node.error = str(exc)


async def read_text(conn: MessageBus, ref: tuple[str, str]) -> str:
    """The first MAX_TEXT characters of a Text object (never past its length: some
    toolkits read beyond the string when asked to)."""
    count = int(await get_property(conn, ref, TEXT, "CharacterCount"))
    if count <= 0:
        return ""
    (text,) = await call(conn, ref, TEXT, "GetText", "ii", [0, min(count, MAX_TEXT)])
    return str(text)[:MAX_TEXT]


def _clean(name: str) -> str:
    return " ".join(name.split())[:MAX_NAME]
