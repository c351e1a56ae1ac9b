"""The apps capability: installed apps (freedesktop .desktop entries), opened by name."""

from __future__ import annotations

from typing import Protocol

from agentd.adapters.apps.entries import DesktopApp
from agentd.adapters.base import Capability

CAPABILITY = "apps"


class Apps(Protocol):
    """List the apps a user sees, find one by its common name, and start it."""

    name: str

    def installed(self) -> list[DesktopApp]:
        """The apps shown in the launcher, by name."""
        ...

    def find(self, name: str) -> DesktopApp:
        """The best app for ``name``, or ``NotFound`` naming the closest matches."""
        ...

    def launch(self, app: DesktopApp) -> None:
        """Start ``app`` detached from agentd."""
        ...


# The typed handle tools select backends with (``AdapterRegistry.select``).
APPS_CAPABILITY = Capability[Apps](CAPABILITY)
