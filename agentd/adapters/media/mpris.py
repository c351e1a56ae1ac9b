"""Backend "mpris": media players through MPRIS 2 on the session bus.

Every player owns a name ``org.mpris.MediaPlayer2.<player>[.instance<pid>]`` and serves
``/org/mpris/MediaPlayer2`` with ``org.mpris.MediaPlayer2`` (``Identity``) and
``org.mpris.MediaPlayer2.Player``: ``PlaybackStatus`` ("Playing", "Paused", "Stopped"),
``Metadata`` (``xesam:title``, ``xesam:artist`` (a list), ``xesam:album``, ``xesam:url``),
``CanControl``, ``CanPlay``, ``CanPause``, ``CanGoNext``, ``CanGoPrevious``, and the
methods ``Play``, ``Pause``, ``Next``, ``Previous`` and ``Stop`` (``Stop`` needs only
``CanControl``). When a player appeared is the order of its unique connection name
(``:1.42``): the bus numbers connections as they come.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

from dbus_fast import Variant
from dbus_fast.aio import MessageBus

from agentd.adapters.base import Availability
from agentd.adapters.dbuscalls import CHECK_TIMEOUT_S, DBUS, PROPERTIES, call, session_bus
from agentd.adapters.media import CAPABILITY, STATUSES, Player
from agentd.errors import AgentError, InvalidState, Unavailable
from agentd.policy.content import claim, source_name

PREFIX = "org.mpris.MediaPlayer2."
PATH = "/org/mpris/MediaPlayer2"
ROOT_IFACE = "org.mpris.MediaPlayer2"
PLAYER_IFACE = "org.mpris.MediaPlayer2.Player"
METHODS = {"play": "Play", "pause": "Pause", "next": "Next", "previous": "Previous",
           "stop": "Stop"}
NEEDS = {"play": "CanPlay", "pause": "CanPause", "next": "CanGoNext",
         "previous": "CanGoPrevious", "stop": "CanControl"}
CANNOT = {"play": "play", "pause": "pause", "next": "skip to the next track",
          "previous": "go back to the previous track", "stop": "stop"}


class MprisMedia:
    name = "mpris"
    capability = CAPABILITY
    test = False

    async def availability(self) -> Availability:
        """Whether the session bus answers, and the players' names (not asked: a hung
        player must not slow every call down twice)."""
        try:
            async with session_bus() as bus:
                names = await _player_names(bus)
        except (Unavailable, AgentError) as exc:
            return Availability.no(str(exc))
        if not names:
            return Availability.yes("MPRIS on the session bus; no media player is running now")
        shown = ", ".join(claim(name.removeprefix(PREFIX)) for name in names)
        return Availability.yes(f"MPRIS on the session bus: {shown}")

    async def players(self) -> list[Player]:
        async with session_bus() as bus:
            names = await _player_names(bus)
            asked = await asyncio.gather(*(_player(bus, name) for name in names),
                                         return_exceptions=True)
        # One that quit while asked, hangs or answers nonsense is not a player now.
        return [p for p in asked if isinstance(p, Player)]

    async def control(self, player: Player, action: str) -> None:
        if action not in player.can:
            needs = NEEDS[action] if player.controllable else "CanControl"
            raise InvalidState(f"the media player {claim(player.identity)} cannot "
                               f"{CANNOT[action]} now (its MPRIS {needs} is false)")
        async with session_bus() as bus:
            try:
                await call(bus, player.address, PATH, PLAYER_IFACE, METHODS[action])
            except AgentError as exc:  # its words, quoted: agentd's reply is trusted
                raise Unavailable(f"the media player {claim(player.identity)} did not "
                                  f"{CANNOT[action]}: “{source_name(str(exc))}”") from None


async def _player_names(bus: MessageBus) -> list[str]:
    (names,) = await call(bus, *DBUS, "ListNames", timeout=CHECK_TIMEOUT_S)
    return sorted(name for name in names if name.startswith(PREFIX))


async def _player(bus: MessageBus, name: str) -> Player:
    (owner,) = await call(bus, *DBUS, "GetNameOwner", "s", [name], timeout=CHECK_TIMEOUT_S)
    props = await _properties(bus, name, PLAYER_IFACE)
    try:
        root = await _properties(bus, name, ROOT_IFACE)
    except AgentError:
        root = {}
    raw = props.get("Metadata")
    metadata = {str(k): _plain(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    can_control = bool(props.get("CanControl", True))
    can = {action for action, needs in NEEDS.items()
           if can_control and bool(props.get(needs, False))}
    artists = metadata.get("xesam:artist", [])
    status = str(props.get("PlaybackStatus", "Stopped")).lower()
    return Player(
        identity=str(root.get("Identity") or name.removeprefix(PREFIX).split(".")[0]),
        address=name,
        status=status if status in STATUSES else "stopped",
        order=_order(str(owner)),
        title=str(metadata.get("xesam:title") or _file_name(metadata.get("xesam:url"))),
        artists=tuple(str(a) for a in artists) if isinstance(artists, list) else (),
        album=str(metadata.get("xesam:album") or ""),
        can=frozenset(can), controllable=can_control)


async def _properties(bus: MessageBus, name: str, interface: str) -> dict[str, Any]:
    """``GetAll``, with the short timeout: a hung player must not hold up the others."""
    (props,) = await call(bus, name, PATH, PROPERTIES, "GetAll", "s", [interface],
                          timeout=CHECK_TIMEOUT_S)
    if not isinstance(props, dict):
        raise AgentError(f"{name} answered GetAll with {type(props).__name__}")
    return {str(key): _plain(value) for key, value in props.items()}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Variant) else value


def _order(unique_name: str) -> tuple[int, ...]:
    """``:1.42`` → (1, 42): later connections have larger numbers."""
    try:
        return tuple(int(part) for part in unique_name.lstrip(":").split("."))
    except ValueError:
        return ()


def _file_name(url: object) -> str:
    if not isinstance(url, str) or not url:
        return ""
    path = urllib.parse.urlparse(url).path
    return urllib.parse.unquote(path.rsplit("/", 1)[-1])

