"""The screen capability: screenshots of what the user sees."""

from __future__ import annotations

from typing import Protocol

from agentd.adapters.base import Capability

CAPABILITY = "screen"


class Screen(Protocol):
    """Capture the whole screen as PNG bytes."""

    name: str

    def capture_png(self) -> bytes:
        """The screen, now, as a PNG."""
        ...


# The typed handle tools select backends with (``AdapterRegistry.select``).
SCREEN_CAPABILITY = Capability[Screen](CAPABILITY)
