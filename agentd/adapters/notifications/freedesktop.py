"""Backend "freedesktop": org.freedesktop.Notifications, and a bus monitor for history.

Sending is a plain ``Notify`` call. Other apps' notifications are seen by a second
connection that becomes a monitor (``org.freedesktop.DBus.Monitoring.BecomeMonitor``)
for ``Notify`` calls, the server's replies (which carry the ids) and
``NotificationClosed`` signals. A monitor may never send, so that connection only
listens. agentd's own notifications (timers, confirmations) are left out.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.errors import AuthError

from agentd.adapters.base import Availability
from agentd.adapters.notifications import CAPABILITY, Notification
from agentd.bus import notifications
from agentd.bus.names import DBUS_NAME, DBUS_PATH, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH
from agentd.errors import AgentError, Unavailable

log = logging.getLogger(__name__)

NAME = NOTIFICATIONS_NAME
DBUS = DBUS_NAME
HISTORY = 200  # notifications kept
CHECK_TIMEOUT_S = 5.0
MONITOR_RULES = [
    f"type='method_call',interface='{NAME}',member='Notify'",
    f"type='method_return',sender='{NAME}'",
    f"type='signal',interface='{NAME}',member='NotificationClosed'",
]


class FreedesktopNotifications:
    name = "freedesktop"
    capability = CAPABILITY
    test = False

    def __init__(self) -> None:
        self._bus: MessageBus | None = None
        self._monitor: MessageBus | None = None
        self._monitor_error = "not started"
        self._history: collections.deque[Notification] = collections.deque(maxlen=HISTORY)
        self._pending: dict[tuple[str, int], Notification] = {}  # (sender, serial) → entry
        self._unread = 0
        self._own_ids: set[int] = set()

    async def start(self, bus: MessageBus) -> None:
        """Use ``bus`` for calls; open the monitor connection for the history."""
        self._bus = bus
        try:
            monitor = await MessageBus(bus_type=BusType.SESSION).connect()
            reply = await monitor.call(Message(
                destination=DBUS, path=DBUS_PATH,
                interface=f"{DBUS}.Monitoring", member="BecomeMonitor", signature="asu",
                body=[MONITOR_RULES, 0]))
        except (OSError, AuthError, ValueError) as exc:
            self._monitor_error = f"cannot open the monitor connection ({exc})"
            return
        if reply is None or reply.message_type is MessageType.ERROR:
            self._monitor_error = (f"the bus refused BecomeMonitor "
                                   f"({reply.body[0] if reply and reply.body else 'no reply'})")
            monitor.disconnect()
            return
        monitor.add_message_handler(self._observe)
        self._monitor, self._monitor_error = monitor, ""

    async def stop(self) -> None:
        if self._monitor is not None:
            self._monitor.disconnect()
            self._monitor = None

    async def availability(self) -> Availability:
        if self._bus is None:
            return Availability.no("not connected to the session bus yet")
        try:
            name, vendor, version, _ = await asyncio.wait_for(
                self._call(Message(destination=NAME, path=NOTIFICATIONS_PATH, interface=NAME,
                                   member="GetServerInformation")), CHECK_TIMEOUT_S)
        except TimeoutError:
            return Availability.no(f"the notification server did not answer in "
                                   f"{CHECK_TIMEOUT_S:.0f} s")
        except AgentError as exc:
            return Availability.no(f"no notification server on the session bus ({exc}); "
                                   "phosh, mako or another server provides one")
        history = ("history from a bus monitor" if self._monitor
                   else f"no history: {self._monitor_error}")
        return Availability.yes(f"server {name} {version} ({vendor}); {history}")

    # -- the capability ------------------------------------------------------------------

    async def send(self, summary: str, body: str) -> int:
        hints = {"desktop-entry": Variant("s", "agentd")}
        (nid,) = await self._call(notifications.notify(summary, body, hints=hints))
        self._own_ids.add(int(nid))
        return int(nid)

    def unread(self) -> list[Notification]:
        if self._monitor is None:
            raise Unavailable(f"agentd keeps no notification history here: "
                              f"{self._monitor_error}")
        fresh = list(self._history)[len(self._history) - self._unread:] if self._unread else []
        self._unread = 0
        return fresh

    async def clear(self) -> int:
        ids = {n.id for n in self._history if n.id and not n.closed} | self._own_ids
        closed = 0
        for nid in sorted(ids):
            try:
                await self._call(notifications.close(nid))
                closed += 1
            except AgentError:
                pass  # already gone
        for n in self._history:
            n.closed = True
        self._own_ids.clear()
        self._unread = 0
        return closed

    # -- plumbing ------------------------------------------------------------------------

    async def _call(self, message: Message) -> list[Any]:
        if self._bus is None:
            raise Unavailable("not connected to the session bus")
        reply = await self._bus.call(message)
        if reply is None or reply.message_type is MessageType.ERROR:
            raise AgentError(reply.error_name or "error" if reply else "no reply")
        return list(reply.body)

    def _observe(self, msg: Message) -> bool:
        """Every message the monitor sees; True so dbus-fast never answers one."""
        own = self._bus.unique_name if self._bus else None
        if msg.message_type is MessageType.METHOD_CALL and msg.member == "Notify":
            if msg.sender == own or len(msg.body) < 5:
                return True
            app, _, _, summary, body = msg.body[:5]
            seen = Notification(str(app), str(summary), str(body), time.time())
            self._history.append(seen)
            self._unread = min(self._unread + 1, len(self._history))
            self._pending[(msg.sender or "", msg.serial)] = seen
            if len(self._pending) > HISTORY:
                self._pending.pop(next(iter(self._pending)))
        elif msg.message_type is MessageType.METHOD_RETURN:
            key = (msg.destination or "", msg.reply_serial)
            entry = self._pending.pop(key) if key in self._pending else None
            if entry is not None and msg.signature == "u":
                entry.id = int(msg.body[0])
        elif msg.message_type is MessageType.SIGNAL and msg.member == "NotificationClosed":
            for n in self._history:
                if n.id == msg.body[0]:
                    n.closed = True
        return True
