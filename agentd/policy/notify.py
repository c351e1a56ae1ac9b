"""Confirmation through a desktop notification with Allow / Deny actions.

agentd sends the notification itself (org.freedesktop.Notifications), so the question
and the answer never pass through a model. The answer is believed only from the server
agentd asked: before each question agentd looks up the unique connection that owns
``org.freedesktop.Notifications`` (``GetNameOwner``), sends ``Notify`` to that connection
itself, and accepts ``ActionInvoked``/``NotificationClosed`` only when the signal's sender
is that connection and its path is the notifications path. Any other program emitting
``ActionInvoked(id, "allow")`` is ignored (and logged). No notification server, or the user
closing the notification without choosing, is "no answer from this channel": the CLI
prompt or the timeout decide. A "which one?" question has one action per choice
(``choose-0``, ``choose-1``, …) and Deny; an action agentd did not offer is ignored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from agentd.bus import notifications
from agentd.bus.names import DBUS_NAME, DBUS_PATH, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH
from agentd.policy.consent import Answer, Approver, Decision, OwnInput
from agentd.policy.identity import identify

log = logging.getLogger(__name__)

ACTIONS = {"allow": Decision.ALLOW, "deny": Decision.DENY, "always": Decision.ALWAYS}
CHOOSE = "choose-"  # the action keys of a "which one?" question: choose-0, choose-1, ...


def _decode(action: str, choices: int) -> tuple[Decision, int] | None:
    """An action key as an answer; None for one agentd did not offer."""
    if action.startswith(CHOOSE) and action[len(CHOOSE):].isdigit():
        index = int(action[len(CHOOSE):])
        return (Decision.ALLOW, index) if index < choices else None
    decision = ACTIONS.get(action)
    if decision is None or (choices and decision is not Decision.DENY):
        return None
    return decision, -1


class NotificationConfirmations:
    """One per daemon: sends questions, routes ActionInvoked/NotificationClosed back."""

    name = "notification"

    def __init__(self, bus: MessageBus, own_input: OwnInput | None = None) -> None:
        self._bus = bus
        self._own_input = own_input or OwnInput()
        # notification id -> (the server's unique name, how many choices it offers, where
        # its answer goes)
        self._waiting: dict[int, tuple[str, int, asyncio.Future[tuple[Decision, int] | None]]] \
            = {}
        self._subscribed = False

    async def _subscribe(self) -> None:
        if self._subscribed:
            return
        self._bus.add_message_handler(self._on_message)
        for member in ("ActionInvoked", "NotificationClosed"):
            await self._bus.call(Message(
                destination=DBUS_NAME, path=DBUS_PATH,
                interface=DBUS_NAME, member="AddMatch", signature="s",
                body=[f"type='signal',interface='{NOTIFICATIONS_NAME}',member='{member}'"]))
        self._subscribed = True

    def _on_message(self, msg: Message) -> None:
        if msg.message_type is not MessageType.SIGNAL or msg.interface != NOTIFICATIONS_NAME:
            return
        waiting = self._waiting.get(msg.body[0]) if msg.body else None
        if waiting is None or waiting[2].done():
            return
        server, choices, future = waiting
        if msg.sender != server or msg.path != NOTIFICATIONS_PATH:
            log.warning("ignored %s for notification %d from %s at %s: agentd asked %s",
                        msg.member, msg.body[0], msg.sender, msg.path, server)
            return
        if msg.member == "ActionInvoked":
            answer = _decode(str(msg.body[1]), choices)
            if answer is None:  # "default" (a click on the body), or nothing agentd offered
                log.info("ignored action %r on notification %d", msg.body[1], msg.body[0])
                return
            if self._own_input.recently() and answer[0] is not Decision.DENY:
                log.warning("ignored %r on notification %d: agentd's own input had just "
                            "moved, so the press may be agentd's, not the user's",
                            msg.body[1], msg.body[0])
                return
            future.set_result(answer)
        elif msg.member == "NotificationClosed":
            future.set_result(None)

    async def ask(self, title: str, question: str, can_grant: bool,
                  choices: Sequence[str] = ()) -> Answer | None:
        """Show the question; the user's choice, or None when this channel cannot tell.
        With ``choices``, one action per choice (the choice is the yes) and Deny."""
        await self._subscribe()
        server = await self._server()
        if server is None:
            return None
        if choices:
            actions = [x for n, label in enumerate(choices) for x in (f"{CHOOSE}{n}", label)]
            actions += ["deny", "Deny"]
        else:
            actions = ["allow", "Allow", "deny", "Deny"]
        if can_grant and not choices:
            actions += ["always", "Always allow"]
        hints: dict[str, Any] = {"urgency": Variant("y", 2), "resident": Variant("b", True),
                                 "category": Variant("s", "agentd.confirmation")}
        reply = await self._bus.call(notifications.notify(
            title, question, icon="dialog-question", actions=actions, hints=hints,
            timeout_ms=0, destination=server))
        if reply is None or reply.message_type is not MessageType.METHOD_RETURN:
            log.info("no notification server to ask through (%s)",
                     reply.error_name if reply else "no reply")
            return None
        notification_id = reply.body[0]
        future: asyncio.Future[tuple[Decision, int] | None] = \
            asyncio.get_running_loop().create_future()
        self._waiting[notification_id] = (server, len(choices), future)
        try:
            answered = await future
        finally:  # answered here or elsewhere, or timed out: take the question away
            del self._waiting[notification_id]
            await asyncio.shield(self._close(server, notification_id))
        if answered is None:
            return None
        pid = await self._pid_of(server)
        who = await asyncio.to_thread(identify, pid)
        decision, choice = answered
        return Answer(decision, Approver("notification", who.program or server, pid), choice)

    async def _server(self) -> str | None:
        """The unique name of the notification server right now, or None."""
        reply = await self._bus.call(Message(
            destination=DBUS_NAME, path=DBUS_PATH, interface=DBUS_NAME,
            member="GetNameOwner", signature="s", body=[NOTIFICATIONS_NAME]))
        if reply is None or reply.message_type is not MessageType.METHOD_RETURN:
            log.info("no notification server to ask through (%s)",
                     reply.error_name if reply else "no reply")
            return None
        return str(reply.body[0])

    async def _pid_of(self, name: str) -> int:
        reply = await self._bus.call(Message(
            destination=DBUS_NAME, path=DBUS_PATH, interface=DBUS_NAME,
            member="GetConnectionUnixProcessID", signature="s", body=[name]))
        ok = reply is not None and reply.message_type is MessageType.METHOD_RETURN
        return int(reply.body[0]) if ok and reply is not None else -1

    async def _close(self, server: str, notification_id: int) -> None:
        await self._bus.call(notifications.close(notification_id, destination=server))
