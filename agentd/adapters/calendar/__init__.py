"""The calendar capability: the events of a day, and adding one to the default calendar.

Days reach the tools as the user said them (``shared/TOOLS-v2.md``, "Days") and are
resolved here, when the step runs, in the phone's time zone (``resolve_day``). Backends
give events already in the phone's local time: a time-zoned event (TZID) is converted,
an all-day event keeps its date, a recurring one (RRULE) shows on each day it falls on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from agentd.adapters.base import Capability
from agentd.tools.registry import WEEKDAYS

CAPABILITY = "calendar"


@dataclass(frozen=True)
class Event:
    title: str
    start: dt.datetime | dt.date  # aware local time, or a date for an all-day event
    end: dt.datetime | dt.date
    calendar: str  # the folder (calendar) it is in
    location: str = ""

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, dt.datetime)


class Calendar(Protocol):
    """Read and add the user's events."""

    name: str
    zone: dt.tzinfo  # the phone's time zone, that days and times are in

    async def events_on(self, day: dt.date) -> list[Event]:
        """The events that happen on ``day`` (local time), all-day ones first."""
        ...

    async def add(self, title: str, start: dt.datetime | dt.date,
                  end: dt.datetime | dt.date) -> tuple[Event, str]:
        """Add an event to the default calendar; the event and where it was written."""
        ...


def resolve_day(said: str, today: dt.date) -> dt.date:
    """A TOOLS-v2 day as a date: "today", "tomorrow", a weekday (the next one, today
    excluded), "MM-DD" (the next such date, today included), "YYYY-MM-DD". ``ValueError``
    for anything else, or a date that does not exist ("02-30")."""
    word = said.strip().lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + dt.timedelta(days=1)
    if word in WEEKDAYS:
        ahead = (WEEKDAYS.index(word) - today.weekday()) % 7 or 7
        return today + dt.timedelta(days=ahead)
    parts = word.split("-")
    if len(parts) == 3:
        return dt.date.fromisoformat(word)
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        month, day = int(parts[0]), int(parts[1])
        for year in range(today.year, today.year + 9):  # 02-29: the next leap year
            try:
                date = dt.date(year, month, day)
            except ValueError:
                continue
            if date >= today:
                return date
    raise ValueError(f"not a day: {said!r}")


# The typed handle tools select backends with (``AdapterRegistry.select``).
CALENDAR_CAPABILITY = Capability[Calendar](CAPABILITY)
