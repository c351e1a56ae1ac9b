"""Backend "eds": the calendars of Evolution Data Server on the session bus.

What GNOME Calendar uses on Phosh. A source of the registry (``agentd.adapters.evolution``)
whose key file has a ``[Calendar]`` group and is enabled is a calendar; those not
``Selected`` (hidden in GNOME Calendar) are not listed. ``CalendarFactory.OpenCalendar(uid)``
gives a ``Calendar`` object for this connection (gone when it closes); after ``Open()``,
``GetObjectList`` with an EDS time-range query answers the VEVENTs that may fall on the
day (a recurring event as its master), ``GetTimezone`` the VTIMEZONE of each TZID they
use, and the shared iCalendar code (``ical.occurrences``, as for .ics files) expands the
recurrences and says each time in the phone's zone.

New events go to the default calendar: the ``calendar_default`` setting (a calendar's
name or UID), else the desktop's (GSettings ``org.gnome.Evolution.DefaultSources
default-calendar``, what GNOME Calendar and Evolution set), else EDS's built-in
``system-calendar`` ("Personal"); ``CreateObjects`` adds one VEVENT there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import shutil
from collections.abc import Mapping

import icalendar
from dbus_fast.aio import MessageBus

from agentd.adapters.base import Availability
from agentd.adapters.calendar import CAPABILITY, Event
from agentd.adapters.calendar.ical import (
    PRODID,
    day_bounds,
    in_order,
    local_zone,
    new_event,
    occurrences,
)
from agentd.adapters.commands import run_command
from agentd.adapters.dbuscalls import (
    PROPERTIES,
    CallFailed,
    call,
    has_service,
    session_bus,
)
from agentd.adapters.evolution import EDS, Source, sources
from agentd.errors import AgentError, NotFound, PermissionDenied, Unavailable

log = logging.getLogger(__name__)
CALENDARS_NAME = f"{EDS}.Calendar8"
FACTORY_PATH = "/org/gnome/evolution/dataserver/CalendarFactory"
FACTORY_IFACE = f"{EDS}.CalendarFactory"
CALENDAR_IFACE = f"{EDS}.Calendar"
BUILTIN = "system-calendar"  # EDS's own fallback for the default calendar
DEFAULTS = ("org.gnome.Evolution.DefaultSources", "default-calendar")
# E_CLIENT_ERROR_PERMISSION_DENIED, as EDS 3.46 sends it (an unmapped GError).
PERMISSION_DENIED = "_e_2dclient_2derror_2dquark.Code8"
OPEN_TIMEOUT_S = 20.0  # the first open starts the factory and its backend
GSETTINGS_TIMEOUT_S = 5.0
MARGIN = dt.timedelta(days=1)  # EDS reads floating and all-day times in its own zone


def time_range(start: dt.datetime, end: dt.datetime) -> str:
    """The EDS query for the objects that occur between ``start`` and ``end``."""
    def utc(moment: dt.datetime) -> str:
        return f'(make-time "{moment.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}")'
    return f"(occur-in-time-range? {utc(start)} {utc(end)})"


def _tzids(objects: list[str]) -> set[str]:
    unfolded = _unfolded("\n".join(objects))
    return {match.strip('"') for match in re.findall(r';TZID=("[^"]*"|[^;:]*)', unfolded)}


def _gvariant_string(text: str) -> str:
    """The string ``gsettings get`` printed ('system-calendar'), or "" if not one."""
    text = text.strip()
    if len(text) < 2 or text[0] != text[-1] or text[0] not in "'\"":
        return ""
    return re.sub(r"\\(.)", r"\1", text[1:-1])


class EdsCalendar:
    name = "eds"
    capability = CAPABILITY
    test = False

    def __init__(self, default: str = "", env: Mapping[str, str] = os.environ,
                 zone: dt.tzinfo | None = None) -> None:
        self.default = default
        self.env = env
        self.zone = zone or local_zone(env)

    async def availability(self) -> Availability:
        try:
            async with session_bus() as bus:
                calendars = await self._calendars(bus)
        except Unavailable as exc:
            return Availability.no(str(exc))
        return Availability.yes("Evolution Data Server: " +
                                ", ".join(c.name for c in calendars))

    async def events_on(self, day: dt.date) -> list[Event]:
        async with session_bus() as bus:
            shown = [c for c in await self._calendars(bus) if c.flag("Calendar", "Selected")]
            start, end = day_bounds(day, self.zone)
            query = time_range(start - MARGIN, end + MARGIN)
            read = await asyncio.gather(*(self._events(bus, c, query, day) for c in shown),
                                        return_exceptions=True)
        events: list[Event] = []
        failed: list[str] = []
        for source, result in zip(shown, read, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result  # cancelled
                log.warning("calendar: skipped the calendar %s: %s", source.name, result)
                failed.append(f"“{source.name}”: {result}")
            else:
                events += result
        if failed and len(failed) == len(shown):
            raise Unavailable(f"no calendar of Evolution Data Server could be read "
                              f"({'; '.join(failed)})")
        return in_order(events)

    async def add(self, title: str, start: dt.datetime | dt.date,
                  end: dt.datetime | dt.date) -> tuple[Event, str]:
        async with session_bus() as bus:
            target = await self._default(await self._calendars(bus))
            owner, path = await self._open(bus, target)
            try:
                writable = (await call(bus, owner, path, PROPERTIES, "Get", "ss",
                                       [CALENDAR_IFACE, "Writable"]))[0].value
            except AgentError as exc:
                raise Unavailable(f"the calendar “{target.name}” did not answer ({exc})") \
                    from None
            if not writable:
                raise _read_only(target)
            event = new_event(title, start, end)
            try:
                (uids,) = await call(bus, owner, path, CALENDAR_IFACE, "CreateObjects", "asu",
                                     [[event.to_ical().decode()], 0], timeout=OPEN_TIMEOUT_S)
            except CallFailed as exc:
                if exc.error_name.endswith(PERMISSION_DENIED):
                    raise _read_only(target) from None
                raise AgentError(f"Evolution Data Server did not add the event to the "
                                 f"calendar “{target.name}”: {exc.detail}") from None
        uid = str(uids[0]) if uids else str(event["UID"])
        return Event(title, start, end, target.name), f"eds:{target.uid}/{uid}"

    # -- sources ---------------------------------------------------------------

    async def _calendars(self, bus: MessageBus) -> list[Source]:
        """The enabled calendars; ``Unavailable`` when EDS cannot serve any."""
        calendars = await sources(bus, "Calendar")
        if not await has_service(bus, CALENDARS_NAME):
            raise Unavailable(f"the Evolution calendar factory ({CALENDARS_NAME}) is not on "
                              "the session bus (Debian package evolution-data-server)")
        if not calendars:
            raise Unavailable("Evolution Data Server has no enabled calendar")
        return calendars

    async def _default(self, calendars: list[Source]) -> Source:
        if self.default:
            for source in calendars:
                if source.called(self.default):
                    return source
            raise NotFound(
                f"the calendar_default setting names “{self.default}”, which is not a "
                f"calendar of Evolution Data Server ({', '.join(c.name for c in calendars)}): "
                "change the setting (`agentd --print-config`), or empty it for the "
                "desktop's default calendar")
        wanted = await self._desktop_default()
        for uid in (wanted, BUILTIN):
            for source in calendars:
                if source.uid == uid:
                    return source
        raise Unavailable(f"Evolution Data Server has no default calendar ({BUILTIN}, "
                          "“Personal”, is disabled): choose one in GNOME Calendar, or name "
                          "one with the calendar_default setting (`agentd --print-config`)")

    async def _desktop_default(self) -> str:
        """The default calendar's UID as GNOME Calendar and Evolution set it, or ""."""
        gsettings = shutil.which("gsettings", path=self.env.get("PATH"))
        if gsettings is None:
            return ""
        answer = await run_command([gsettings, "get", *DEFAULTS], self.env,
                                   GSETTINGS_TIMEOUT_S)
        if answer is None or answer[0] != 0:
            log.debug("calendar: no desktop default calendar: %s", answer)
            return ""
        return _gvariant_string(answer[1])

    # -- reading ---------------------------------------------------------------

    async def _open(self, bus: MessageBus, source: Source) -> tuple[str, str]:
        """The calendar object (bus name, path) for this connection, opened."""
        try:
            path, owner = await call(bus, CALENDARS_NAME, FACTORY_PATH, FACTORY_IFACE,
                                     "OpenCalendar", "s", [source.uid],
                                     timeout=OPEN_TIMEOUT_S)
            await call(bus, owner, path, CALENDAR_IFACE, "Open", timeout=OPEN_TIMEOUT_S)
        except AgentError as exc:
            raise Unavailable(f"the calendar “{source.name}” could not be opened ({exc})") \
                from None
        return str(owner), str(path)

    async def _events(self, bus: MessageBus, source: Source, query: str,
                      day: dt.date) -> list[Event]:
        owner, path = await self._open(bus, source)
        (objects,) = await call(bus, owner, path, CALENDAR_IFACE, "GetObjectList", "s",
                                [query], timeout=OPEN_TIMEOUT_S)
        texts = [str(text) for text in objects]
        timezones: list[str] = []
        for tzid in sorted(_tzids(texts)):
            try:
                (vtimezone,) = await call(bus, owner, path, CALENDAR_IFACE, "GetTimezone",
                                          "s", [tzid])
            except AgentError as exc:  # then icalendar knows the zone by name, or not
                log.debug("calendar: no VTIMEZONE for %s in %s: %s", tzid, source.name, exc)
                continue
            timezones.append(str(vtimezone))
        return await asyncio.to_thread(expand, timezones, texts, day, self.zone, source.name)


def expand(timezones: list[str], objects: list[str], day: dt.date, zone: dt.tzinfo,
           name: str) -> list[Event]:
    """The events on ``day`` among EDS's ``objects`` (VEVENT texts; a recurring event's
    moved occurrences have its UID), their TZIDs defined by ``timezones`` (VTIMEZONE
    texts). An event that cannot be read is skipped, named in the log; the others answer."""
    try:
        return occurrences(_calendar(timezones, objects), day, zone, name)
    except Exception:  # any error: find the broken event(s), each UID on its own
        pass
    by_uid: dict[str, list[str]] = {}
    for text in objects:
        by_uid.setdefault(_uid(text), []).append(text)
    events: list[Event] = []
    for uid, texts in by_uid.items():
        try:
            events += occurrences(_calendar(timezones, texts), day, zone, name)
        except Exception as exc:  # any broken event is skipped, named
            log.warning("calendar: skipped the event %s of the calendar %s: %s", uid, name,
                        exc)
    return events


def _calendar(timezones: list[str], objects: list[str]) -> icalendar.Calendar:
    text = "".join(("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", f"PRODID:{PRODID}\r\n",
                    *(t if t.endswith("\n") else t + "\r\n" for t in timezones + objects),
                    "END:VCALENDAR\r\n"))
    return icalendar.Calendar.from_ical(text)


def _unfolded(text: str) -> str:
    return re.sub(r"\r?\n[ \t]", "", text)


def _uid(text: str) -> str:
    match = re.search(r"^UID:(.*?)\r?$", _unfolded(text), re.MULTILINE)
    return match.group(1) if match else "(no UID)"


def _read_only(source: Source) -> PermissionDenied:
    return PermissionDenied(
        f"the calendar “{source.name}” is read-only (Evolution Data Server): choose a "
        "writable default calendar in GNOME Calendar, or name one with the "
        "calendar_default setting (`agentd --print-config`)")
