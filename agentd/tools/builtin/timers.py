"""timer.start, timer.cancel and alarm.set, over the persistent scheduler."""

from __future__ import annotations

import datetime as dt
import time

from agentd.errors import InvalidRequest, NotFound
from agentd.tools.context import ToolContext
from agentd.tools.phrases import say_clock, say_duration
from agentd.tools.registry import ArgValue, ToolResult


def _label(args: dict[str, ArgValue]) -> str:
    return str(args.get("label", "")).strip()


async def start_timer(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
    seconds = int(args["duration_s"])
    label = _label(args)
    timer = ctx.scheduler.add("timer", label, time.time() + seconds, ctx.task.id)
    named = f"{label} timer" if label else "timer"
    return ToolResult(f"Started a {named} for {say_duration(seconds)}.",
                      {"timer_id": timer.id, "due": timer.due, "label": label})


async def cancel_timer(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
    label = _label(args)
    running = ctx.scheduler.pending("timer")
    if label:
        matching = [t for t in running if t.label.casefold() == label.casefold()]
        if not matching:
            names = ", ".join(t.label or "unnamed" for t in running) or "none"
            raise NotFound(f"no running timer is called {label!r} (running: {names})")
    elif len(running) > 1:
        names = ", ".join(t.label or "unnamed" for t in running)
        raise InvalidRequest(f"{len(running)} timers are running ({names}); say which one")
    else:
        matching = running
    if not matching:
        raise NotFound("no timer is running")
    for timer in matching:
        ctx.scheduler.cancel(timer)
    named = f"{label} timer" if label else "timer"
    return ToolResult(f"Cancelled the {named}.", {"timer_ids": [t.id for t in matching]})


def next_occurrence(hhmm: str, now: dt.datetime) -> dt.datetime:
    """The next local time at HH:MM strictly after ``now``."""
    hour, minute = (int(p) for p in hhmm.split(":"))
    when = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if when <= now:
        when += dt.timedelta(days=1)
    return when


async def set_alarm(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
    label = _label(args)
    now = dt.datetime.now().astimezone()
    when = next_occurrence(str(args["time"]), now)
    alarm = ctx.scheduler.add("alarm", label, when.timestamp(), ctx.task.id)
    day = "today" if when.date() == now.date() else "tomorrow"
    named = f" ({label})" if label else ""
    return ToolResult(f"Alarm set for {say_clock(when)} {day}{named}.",
                      {"alarm_id": alarm.id, "due": alarm.due, "label": label})
