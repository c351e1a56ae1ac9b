"""iCalendar for every calendar backend: the phone's time zone, the events of a day
(recurrence expanded), and a new event.

Parsed and written with ``icalendar``; recurrence (RRULE, RDATE, EXDATE, moved
occurrences) is expanded with ``recurring-ical-events`` for the asked day, midnight to
midnight in the phone's time zone. Times with a TZID or in UTC become the phone's local
time, floating times are taken as local, all-day events keep their date.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events

from agentd.adapters.calendar import Event

PRODID = "-//agentd//calendar.add//EN"


def local_zone(env: Mapping[str, str] = os.environ) -> dt.tzinfo:
    """The phone's time zone: ``TZ``, else /etc/localtime, else the current offset."""
    name = env.get("TZ", "").lstrip(":")
    try:
        if name and not name.startswith("/"):
            return ZoneInfo(name)
        with open(name or "/etc/localtime", "rb") as file:
            return ZoneInfo.from_file(file)
    except (OSError, ValueError, ZoneInfoNotFoundError):
        zone = dt.datetime.now().astimezone().tzinfo
        assert zone is not None
        return zone


def day_bounds(day: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """Midnight to midnight of ``day`` in ``zone``."""
    return (dt.datetime.combine(day, dt.time(), zone),
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone))


def occurrences(calendar: icalendar.Calendar, day: dt.date, zone: dt.tzinfo,
                name: str) -> list[Event]:
    """The events of ``calendar`` that happen on ``day`` (each occurrence of a recurring
    one), in local time; ``name`` is the calendar they are in."""
    start, end = day_bounds(day, zone)
    return [_event(component, zone, name)
            for component in recurring_ical_events.of(calendar).between(start, end)]


def _event(component: icalendar.Event, zone: dt.tzinfo, name: str) -> Event:
    start = _local(component.decoded("DTSTART"), zone)
    if "DTEND" in component:
        end = _local(component.decoded("DTEND"), zone)
    elif "DURATION" in component:
        end = start + component.decoded("DURATION")
    else:
        end = start + dt.timedelta(days=1) if not isinstance(start, dt.datetime) else start
    return Event(str(component.get("SUMMARY", "")).strip() or "(no title)", start, end, name,
                 str(component.get("LOCATION", "")).strip())


def _local(value: dt.datetime | dt.date, zone: dt.tzinfo) -> dt.datetime | dt.date:
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is None:  # floating time: the phone's
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def in_order(events: list[Event]) -> list[Event]:
    """All-day events first (by title), then by start time."""
    def key(event: Event) -> tuple[int, str, str]:
        if isinstance(event.start, dt.datetime):
            return (1, event.start.isoformat(), event.title)
        return (0, "", event.title)
    return sorted(events, key=key)


def new_event(title: str, start: dt.datetime | dt.date,
              end: dt.datetime | dt.date) -> icalendar.Event:
    """A VEVENT with a new UID: times in UTC (every reader converts them right), or dates
    (``VALUE=DATE``) for an all-day event."""
    event = icalendar.Event()
    event.add("UID", f"{uuid.uuid4()}@agentd")
    event.add("DTSTAMP", dt.datetime.now(dt.UTC))
    event.add("SUMMARY", title)
    if isinstance(start, dt.datetime):
        event.add("DTSTART", start.astimezone(dt.UTC))
        event.add("DTEND", end.astimezone(dt.UTC))  # type: ignore[union-attr]
    else:
        event.add("DTSTART", start)
        event.add("DTEND", end)
    return event


def new_calendar(*components: icalendar.Component) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    for component in components:
        calendar.add_component(component)
    return calendar
