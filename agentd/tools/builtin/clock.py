"""clock.time."""

from __future__ import annotations

import datetime as dt

from agentd.tools.context import ToolContext
from agentd.tools.phrases import say_clock
from agentd.tools.registry import ArgValue, ToolResult


async def tell_time(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
    now = dt.datetime.now().astimezone()
    text = f"It is {say_clock(now)} on {now.strftime('%A, %-d %B %Y')}."
    return ToolResult(text, {"iso": now.isoformat(timespec="seconds")})
