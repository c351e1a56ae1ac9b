"""The screen capability: screenshots of what the user sees."""

from __future__ import annotations

from typing import Protocol

CAPABILITY = "screen"


class Screen(Protocol):
    """Capture the whole screen as PNG bytes."""

    name: str

    def capture_png(self) -> bytes:
        """The screen, now, as a PNG."""
        ...
