"""Backend "atspi" of input: widgets by name, and text into the focused field, through
the accessibility backend's connection (``agentd.adapters.accessibility.atspi``)."""

from __future__ import annotations

from agentd.adapters.accessibility.atspi import AtspiAccessibility
from agentd.adapters.base import Availability
from agentd.adapters.input import CAPABILITY, Operation
from agentd.errors import Unavailable


class AtspiInput:
    name = "atspi"
    capability = CAPABILITY
    test = False
    operations = frozenset({Operation.TAP_TARGET, Operation.TYPE})

    def __init__(self, accessibility: AtspiAccessibility) -> None:
        self.accessibility = accessibility

    async def availability(self) -> Availability:
        state = await self.accessibility.availability()
        if not state.ok:
            return state
        return Availability.yes(f"widgets by name and text fields through {state.reason}")

    async def tap_target(self, target: str) -> str:
        widget = await self.accessibility.activate(target)
        return f"“{widget.name}” ({widget.role}) in {widget.app}"

    async def type_text(self, text: str) -> str:
        widget = await self.accessibility.insert_text(text)
        return f"“{widget.name or widget.role}” in {widget.app}"

    async def tap_point(self, x: int, y: int) -> None:
        raise Unavailable("atspi taps widgets by name, not points")

    async def swipe(self, start: tuple[int, int], end: tuple[int, int],
                    duration_s: float) -> None:
        raise Unavailable("atspi cannot swipe")

    async def press_key(self, key: str) -> None:
        raise Unavailable("atspi cannot press keys")
