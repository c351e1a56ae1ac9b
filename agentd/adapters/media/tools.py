"""media.control and media.now_playing over the selected media backend.

media.control's result is agentd's own words (the player's name quoted as its claim);
media.now_playing's quotes titles and artists from files and streams: untrusted.
"""

from __future__ import annotations

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.media import MEDIA_CAPABILITY, Player, choose
from agentd.policy.content import claim
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult

DONE = {"play": "Playing in {player}.", "pause": "Paused {player}.",
        "next": "Skipped to the next track in {player}.",
        "previous": "Went back to the previous track in {player}.",
        "stop": "Stopped {player}."}
MAX_TITLE = 200


def install_media_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def control(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        media = await adapters.select(MEDIA_CAPABILITY)
        action = str(args["action"])
        player = choose(await media.players())
        data = {"action": action, "player": player.identity, "address": player.address,
                "was": player.status, "backend": media.name}
        name = claim(player.identity)
        if action == "pause" and player.status != "playing":
            return ToolResult(f"Nothing is playing ({name} is {player.status}).", data)
        if action == "play" and player.status == "playing":
            return ToolResult(f"{name} is already playing.", data)
        await media.control(player, action)
        return ToolResult(DONE[action].format(player=name), data)

    async def now_playing(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        media = await adapters.select(MEDIA_CAPABILITY)
        player = choose(await media.players())
        return ToolResult(playing_sentence(player), {
            **player.to_json(), "backend": media.name,
            "provenance": f"what {claim(player.identity)} plays (titles from files and "
                          "streams)"})

    tools.implement("media.control", control)
    tools.implement("media.now_playing", now_playing)


def playing_sentence(player: Player) -> str:
    """'Playing “Title” by Artist in “mpv”.', or paused on it, or nothing."""
    name = claim(player.identity)
    if player.status == "stopped":
        return f"Nothing is playing ({name} is stopped)."
    if not player.title:
        return f"{name} is {player.status} something without a title."
    title = player.title if len(player.title) <= MAX_TITLE else player.title[:MAX_TITLE] + "…"
    by = f" by {', '.join(player.artists)}" if player.artists else ""
    if player.status == "playing":
        return f"Playing “{title}”{by} in {name}."
    return f"{name} is paused on “{title}”{by}."
