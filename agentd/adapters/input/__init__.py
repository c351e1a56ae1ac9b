"""The input capability: act on the screen as the user would (taps, swipes, text, keys).

Two kinds of backend: ``atspi`` acts on widgets through accessibility (tap a widget by
its visible name, insert text into the focused field) and ``uinput`` acts as hardware (a
virtual touchscreen and keyboard: points, swipes, keys, text on a US layout). Each says
which operations it can do; a tool takes the first available backend that can.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from agentd.adapters.base import Availability, Capability

CAPABILITY = "input"


class Operation(StrEnum):
    TAP_TARGET = "tap a widget by its name"
    TAP_POINT = "tap a point"
    SWIPE = "swipe"
    TYPE = "type text"
    KEY = "press a key"


class Input(Protocol):
    """What a backend can do is in ``operations``; the others raise ``Unavailable``."""

    name: str
    operations: frozenset[Operation]

    async def availability(self) -> Availability:
        """Whether this backend works here (``agentd.adapters.base.Backend``)."""
        ...

    async def tap_target(self, target: str) -> str:
        """Activate the showing widget named ``target``; a phrase naming what was tapped."""
        ...

    async def tap_point(self, x: int, y: int) -> None:
        """Touch the screen at (x, y), in pixels of the screen as a screenshot shows it."""
        ...

    async def swipe(self, start: tuple[int, int], end: tuple[int, int],
                    duration_s: float) -> None:
        ...

    async def type_text(self, text: str) -> str:
        """Type ``text`` where the focus is; a phrase saying where it went."""
        ...

    async def press_key(self, key: str) -> None:
        """Press and release a catalogue key ("back", "home", "volume_up", ...)."""
        ...


# The typed handle tools select backends with (``AdapterRegistry.select``).
INPUT_CAPABILITY = Capability[Input](CAPABILITY)
