"""The media capability: control the media player and say what it plays.

Which player a request means, whatever the backend: the one that is playing; else the
most recently active one, where paused beats stopped (a paused player has something to
resume), and among players in the same state the one that appeared last (started most
recently: its connection to the bus is the newest). ``choose`` is that rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from agentd.adapters.base import Capability
from agentd.errors import Unavailable

CAPABILITY = "media"
ACTIONS = ("play", "pause", "next", "previous", "stop")
STATUSES = ("playing", "paused", "stopped")  # best first
NO_PLAYER = ("no media player is running (start one, e.g. a music app such as Lollypop "
             "or Amberol, or mpv with its MPRIS script; agentd finds players by their "
             "MPRIS name on the session bus)")


@dataclass(frozen=True)
class Player:
    """A media player and what it plays now. ``identity`` and the track come from the
    player and its files or streams: they are content others control."""

    identity: str  # its own name ("mpv")
    address: str  # how the backend reaches it (an MPRIS bus name)
    status: str  # playing, paused, stopped
    order: tuple[int, ...]  # when it appeared, comparable: later is larger
    title: str = ""
    artists: tuple[str, ...] = ()
    album: str = ""
    can: frozenset[str] = frozenset()  # the ACTIONS it says it can do now
    controllable: bool = True  # its CanControl: false, it can do none of them

    def rank(self) -> tuple[int, tuple[int, ...]]:
        state = STATUSES.index(self.status) if self.status in STATUSES else len(STATUSES)
        return (-state, self.order)

    def to_json(self) -> dict[str, Any]:
        return {"player": self.identity, "address": self.address, "status": self.status,
                "title": self.title, "artists": list(self.artists), "album": self.album}


def choose(players: Sequence[Player]) -> Player:
    """The player a request means (see the module's docstring), or ``Unavailable``."""
    if not players:
        raise Unavailable(NO_PLAYER)
    return max(players, key=Player.rank)


class Media(Protocol):
    """Find media players and control one."""

    name: str

    async def players(self) -> list[Player]:
        """Every running player, in no particular order."""
        ...

    async def control(self, player: Player, action: str) -> None:
        """Do one of ``ACTIONS`` on ``player``; ``InvalidState`` when it cannot."""
        ...


# The typed handle tools select backends with (``AdapterRegistry.select``).
MEDIA_CAPABILITY = Capability[Media](CAPABILITY)
