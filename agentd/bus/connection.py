"""A dbus-fast connection that survives a full socket buffer.

dbus-fast 5.2.0 writes queued messages with ``sock.send`` and treats every exception as
fatal: when the kernel's send buffer is full, ``send`` raises ``BlockingIOError``
instead of writing part, and the whole connection is closed. A burst (a thousand
requests, each answered with signals to its owner, while the bus daemon is slowed by a
busy disk) hit exactly that: every caller got ``NoReply`` and agentd lost its bus
(``bench/load.py`` under disk pressure). Here a full buffer counts as "nothing written
yet", which dbus-fast's own writer already handles by waiting until the socket is
writable. This is the one place agentd reaches into dbus-fast's internals;
``tests/test_bus_api.py`` fails loudly if an upgrade moves them.
"""

from __future__ import annotations

import socket
from typing import Any

from dbus_fast.aio import MessageBus


class _FullBufferIsNotFatal:
    """The bus socket, with ``send`` returning 0 where the kernel says EAGAIN."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, data: Any) -> int:
        try:
            return self._sock.send(data)
        except BlockingIOError:
            return 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def tolerate_full_socket(bus: MessageBus) -> MessageBus:
    """Make a connected ``bus`` wait, not die, when its socket's send buffer is full."""
    writer: Any = getattr(bus, "_writer", None)  # dbus-fast has no public hook for this
    if writer is None or not hasattr(writer, "sock"):
        raise RuntimeError("dbus-fast changed: MessageBus._writer.sock is gone; see "
                           "agentd/bus/connection.py")
    if not isinstance(writer.sock, _FullBufferIsNotFatal):
        writer.sock = _FullBufferIsNotFatal(writer.sock)
    return bus
