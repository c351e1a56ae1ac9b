"""Confirmation through a desktop notification with Allow / Deny actions.

agentd sends the notification itself (org.freedesktop.Notifications), so the question
and the answer never pass through a model. No notification server, or the user closing
the notification without choosing, is "no answer from this channel": the CLI prompt or
the timeout decide.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from agentd.bus.names import NOTIFICATIONS_NAME, NOTIFICATIONS_PATH
from agentd.policy.consent import Decision

log = logging.getLogger(__name__)

ACTIONS = {"allow": Decision.ALLOW, "deny": Decision.DENY, "always": Decision.ALWAYS}


class NotificationConfirmations:
    """One per daemon: sends questions, routes ActionInvoked/NotificationClosed back."""

    name = "notification"

    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self._waiting: dict[int, asyncio.Future[Decision | None]] = {}
        self._subscribed = False

    async def _subscribe(self) -> None:
        if self._subscribed:
            return
        self._bus.add_message_handler(self._on_message)
        for member in ("ActionInvoked", "NotificationClosed"):
            await self._bus.call(Message(
                destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                body=[f"type='signal',interface='{NOTIFICATIONS_NAME}',member='{member}'"]))
        self._subscribed = True

    def _on_message(self, msg: Message) -> None:
        if msg.message_type is not MessageType.SIGNAL or msg.interface != NOTIFICATIONS_NAME:
            return
        future = self._waiting.get(msg.body[0]) if msg.body else None
        if future is None or future.done():
            return
        if msg.member == "ActionInvoked":
            future.set_result(ACTIONS.get(msg.body[1]))
        elif msg.member == "NotificationClosed":
            future.set_result(None)

    async def ask(self, title: str, question: str, can_grant: bool) -> Decision | None:
        """Show the question; the user's choice, or None when this channel cannot tell."""
        await self._subscribe()
        actions = ["allow", "Allow", "deny", "Deny"]
        if can_grant:
            actions += ["always", "Always allow"]
        hints: dict[str, Any] = {"urgency": Variant("y", 2), "resident": Variant("b", True),
                                 "category": Variant("s", "agentd.confirmation")}
        reply = await self._bus.call(Message(
            destination=NOTIFICATIONS_NAME, path=NOTIFICATIONS_PATH,
            interface=NOTIFICATIONS_NAME, member="Notify", signature="susssasa{sv}i",
            body=["agentd", 0, "dialog-question", title, question, actions, hints, 0]))
        if reply is None or reply.message_type is not MessageType.METHOD_RETURN:
            log.info("no notification server to ask through (%s)",
                     reply.error_name if reply else "no reply")
            return None
        notification_id = reply.body[0]
        future: asyncio.Future[Decision | None] = asyncio.get_running_loop().create_future()
        self._waiting[notification_id] = future
        try:
            return await future
        finally:  # answered here or elsewhere, or timed out: take the question away
            del self._waiting[notification_id]
            await asyncio.shield(self._close(notification_id))

    async def _close(self, notification_id: int) -> None:
        await self._bus.call(Message(
            destination=NOTIFICATIONS_NAME, path=NOTIFICATIONS_PATH,
            interface=NOTIFICATIONS_NAME, member="CloseNotification", signature="u",
            body=[notification_id]))
