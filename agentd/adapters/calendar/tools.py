"""calendar.list and calendar.add: days resolved when the step runs (TOOLS-v2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.calendar import CALENDAR_CAPABILITY, Event, resolve_day
from agentd.errors import InvalidArguments
from agentd.policy.content import claim
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult

MAX_LISTED = 20


def _day(said: str, zone: dt.tzinfo) -> dt.date:
    try:
        return resolve_day(said, dt.datetime.now(zone).date())
    except ValueError:
        raise InvalidArguments(f"there is no day {said!r}; say today, tomorrow, a weekday "
                               "or a date") from None


def say_day(day: dt.date, zone: dt.tzinfo) -> str:
    """ "today (Thursday 3 December)", "Friday 4 December", with the year if not this."""
    today = dt.datetime.now(zone).date()
    name = f"{day:%A} {day.day} {day:%B}" + (f" {day.year}" if day.year != today.year else "")
    relative = {0: "today", 1: "tomorrow"}.get((day - today).days)
    return f"{relative} ({name})" if relative else name


def _clock(value: dt.datetime | dt.date) -> str:
    return value.strftime("%H:%M") if isinstance(value, dt.datetime) else ""


def _say(event: Event, day: dt.date) -> str:
    if isinstance(event.start, dt.datetime) and isinstance(event.end, dt.datetime):
        start = _clock(event.start) if event.start.date() == day else "from earlier"
        end = _clock(event.end) if event.end.date() == day else "later"
        when = start if event.end == event.start else f"{start}–{end}"
    else:
        when = "all day"
    where = f" at {event.location}" if event.location else ""
    return f"{when} {event.title}{where}"


def _as_data(event: Event) -> dict[str, Any]:
    return {"title": event.title, "start": event.start.isoformat(),
            "end": event.end.isoformat(), "all_day": event.all_day,
            "calendar": event.calendar, "location": event.location}


def _provenance(events: list[Event]) -> str:
    """The taint note, naming the calendars the listed events are in (quoted: a shared
    calendar's name is someone else's words too)."""
    names = sorted({e.calendar for e in events if e.calendar})
    where = f" in {', '.join(map(claim, names))}" if names else ""
    return f"calendar events (invitations come from others){where}"


def install_calendar_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def list_events(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        calendar = await adapters.select(CALENDAR_CAPABILITY)
        day = _day(str(args.get("day") or "today"), calendar.zone)
        events = await calendar.events_on(day)
        said = say_day(day, calendar.zone)
        if not events:
            text = f"Nothing on the calendar {'for ' if ' (' in said else 'on '}{said}."
        else:
            shown = "; ".join(_say(e, day) for e in events[:MAX_LISTED])
            more = f" (and {len(events) - MAX_LISTED} more)" if len(events) > MAX_LISTED else ""
            text = f"{said[0].upper()}{said[1:]}: {shown}{more}."
        return ToolResult(text, {"day": day.isoformat(), "backend": calendar.name,
                                 "events": [_as_data(e) for e in events],
                                 "provenance": _provenance(events)})

    async def add(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        calendar = await adapters.select(CALENDAR_CAPABILITY)
        day = _day(str(args["day"]), calendar.zone)
        title = str(args["title"])
        start: dt.datetime | dt.date
        end: dt.datetime | dt.date
        if args.get("time"):
            hour, minute = (int(p) for p in str(args["time"]).split(":"))
            start = dt.datetime.combine(day, dt.time(hour, minute), calendar.zone)
            minutes = args.get("duration_min")
            end = start + dt.timedelta(minutes=minutes if isinstance(minutes, int) else 60)
        else:
            start, end = day, day + dt.timedelta(days=1)
        event, where = await calendar.add(title, start, end)
        at = f" at {_clock(start)}" if isinstance(start, dt.datetime) else " (all day)"
        return ToolResult(f"Added “{title}” on {say_day(day, calendar.zone)}{at} to the "
                          f"{event.calendar} calendar.", {**_as_data(event), "where": where})

    tools.implement("calendar.list", list_events)
    tools.implement("calendar.add", add)
