"""The notifications capability: show notifications, and read what other apps showed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from agentd.adapters.base import Capability

CAPABILITY = "notifications"


@dataclass
class Notification:
    """One notification an app showed (seen on the bus)."""

    app: str
    summary: str
    body: str
    time: float
    id: int = 0  # the server's id, once its reply was seen
    closed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"app": self.app, "summary": self.summary, "body": self.body,
                "time": self.time, "id": self.id, "closed": self.closed}


class Notifications(Protocol):
    """Send notifications; keep the history of others' and hand out what is unread."""

    name: str

    async def send(self, summary: str, body: str) -> int:
        """Show a notification; the server's id for it."""
        ...

    def unread(self) -> list[Notification]:
        """What other apps showed since the last call (which marks it read)."""
        ...

    async def clear(self) -> int:
        """Close every open notification agentd knows of; how many."""
        ...


# The typed handle tools select backends with (``AdapterRegistry.select``).
NOTIFICATIONS_CAPABILITY = Capability[Notifications](CAPABILITY)
