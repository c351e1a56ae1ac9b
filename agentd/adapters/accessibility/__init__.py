"""The accessibility capability: what apps show (their widgets' names and text), and
acting on a widget by its visible name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from agentd.adapters.base import Capability

CAPABILITY = "accessibility"


@dataclass(frozen=True)
class Widget:
    """One accessible object that is on screen."""

    app: str  # the application's name, as it registered
    name: str  # the visible name ("Send", a label's text); "" when it has none
    role: str  # AT-SPI role name: "push button", "label", "text", "frame", ...
    text: str = ""  # the Text interface's content, where it differs from the name
    actions: tuple[str, ...] = ()  # e.g. ("click",); empty when it cannot be activated
    editable: bool = False
    focused: bool = False


@dataclass(frozen=True)
class ScreenContent:
    """The app the user looks at and what it shows, top to bottom, as the tree has it."""

    app: str
    window: str
    active: bool  # the window is the active one (False: the only one showing, a guess)
    lines: tuple[str, ...]  # visible names and texts, in tree order, deduplicated
    truncated: bool = False  # the walk hit a bound (nodes, depth, time, text length)
    others: tuple[str, ...] = field(default=())  # other apps with windows showing


class Accessibility(Protocol):
    """Read the screen, and act on widgets by their visible names."""

    name: str

    async def read_screen(self) -> ScreenContent:
        """The active (or only showing) window and its visible text."""
        ...

    async def activate(self, target: str) -> Widget:
        """Do the default action (click, press, toggle...) of the showing widget named
        ``target`` (optionally ending in a role: "Send button"); ``NotFound`` with close
        names when there is none."""
        ...

    async def insert_text(self, text: str) -> Widget:
        """Insert ``text`` at the caret of the focused editable field; ``NotFound`` when
        no field has the focus."""
        ...


# The typed handle tools select backends with (``AdapterRegistry.select``).
ACCESSIBILITY_CAPABILITY = Capability[Accessibility](CAPABILITY)
