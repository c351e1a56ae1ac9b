"""The one builder of org.freedesktop.Notifications calls agentd makes.

Three places show notifications (a timer or alarm falling due, a confirmation question,
the ``notifications.send`` tool); they all build their ``Notify`` and
``CloseNotification`` messages here, so the protocol's argument order lives in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dbus_fast import Message, Variant

from agentd.bus.names import NOTIFICATIONS_NAME, NOTIFICATIONS_PATH

APP_NAME = "agentd"


def notify(summary: str, body: str = "", *, icon: str = "",
           actions: Sequence[str] = (), hints: Mapping[str, Variant] | None = None,
           timeout_ms: int = -1, destination: str = NOTIFICATIONS_NAME) -> Message:
    """``Notify``: a new notification from agentd (the reply carries its id)."""
    return Message(destination=destination, path=NOTIFICATIONS_PATH,
                   interface=NOTIFICATIONS_NAME, member="Notify", signature="susssasa{sv}i",
                   body=[APP_NAME, 0, icon, summary, body, list(actions), dict(hints or {}),
                         timeout_ms])


def close(notification_id: int, destination: str = NOTIFICATIONS_NAME) -> Message:
    """``CloseNotification``: take one of agentd's notifications away."""
    return Message(destination=destination, path=NOTIFICATIONS_PATH,
                   interface=NOTIFICATIONS_NAME, member="CloseNotification", signature="u",
                   body=[notification_id])
