"""clock.time, and the spoken forms of times and durations the other tools share."""

from __future__ import annotations

import datetime as dt

from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolResult


def say_duration(seconds: int) -> str:
    """600 -> "10 minutes", 5400 -> "1 hour 30 minutes"."""
    parts = []
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    for amount, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts) or "0 seconds"


def say_clock(when: dt.datetime) -> str:
    return when.strftime("%H:%M")


async def tell_time(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
    now = dt.datetime.now().astimezone()
    text = f"It is {say_clock(now)} on {now.strftime('%A, %-d %B %Y')}."
    return ToolResult(text, {"iso": now.isoformat(timespec="seconds")})
