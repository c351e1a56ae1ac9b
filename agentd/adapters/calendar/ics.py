"""Backend "ics-folder": the .ics files under ``$XDG_DATA_HOME/calendars``.

The vdir layout vdirsyncer and khal keep: ``~/.local/share/calendars/<calendar>/*.ics``,
one event (with its recurrence exceptions) per file. Parsed and written with
``icalendar``; recurrence (RRULE, RDATE, EXDATE, moved occurrences) is expanded with
``recurring-ical-events``. A file that cannot be read is skipped with a warning naming it.

New events go to the default calendar (the ``calendar`` setting, else the first folder
by name, else a new ``personal`` folder), one new file named after its UID, written to a
temporary file first and renamed into place.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import logging
import os
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events

from agentd.adapters.base import Availability
from agentd.adapters.calendar import CAPABILITY, Event
from agentd.errors import PermissionDenied

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 1 << 20
NEW_CALENDAR = "personal"
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


class IcsFolder:
    name = "ics-folder"
    capability = CAPABILITY
    test = False

    def __init__(self, root: Path, default: str = "", zone: dt.tzinfo | None = None) -> None:
        self.root = root
        self.default = default
        self.zone = zone or local_zone()

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ,
                         default: str = "") -> IcsFolder:
        home = Path(env.get("HOME") or Path.home())
        data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
        return cls(data / "calendars", default, local_zone(env))

    async def availability(self) -> Availability:
        files = await asyncio.to_thread(self._files)
        if not files:
            # Still usable: calendar.add creates the first calendar.
            return Availability.yes(f"no events yet in {self.root} (calendar.add creates "
                                    f"{self.root / NEW_CALENDAR})")
        return Availability.yes(f"{len(files)} .ics file(s) in {self.root}")

    async def events_on(self, day: dt.date) -> list[Event]:
        return await asyncio.to_thread(self._events_on, day)

    async def add(self, title: str, start: dt.datetime | dt.date,
                  end: dt.datetime | dt.date) -> tuple[Event, str]:
        return await asyncio.to_thread(self._add, title, start, end)

    # -- reading ---------------------------------------------------------------

    def _files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.rglob("*.ics") if p.is_file())

    def _events_on(self, day: dt.date) -> list[Event]:
        start = dt.datetime.combine(day, dt.time(), self.zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), self.zone)
        events: list[Event] = []
        for file in self._files():
            try:
                if file.stat().st_size > MAX_FILE_BYTES:
                    raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
                calendar = icalendar.Calendar.from_ical(file.read_bytes())
                found = recurring_ical_events.of(calendar).between(start, end)
                events += [self._event(c, file) for c in found]
            except Exception as exc:  # any broken file is skipped, named
                log.warning("calendar: skipped %s: %s", file, exc)
        return sorted(events, key=_order)

    def _event(self, component: icalendar.Event, file: Path) -> Event:
        start = self._local(component.decoded("DTSTART"))
        if "DTEND" in component:
            end = self._local(component.decoded("DTEND"))
        elif "DURATION" in component:
            end = start + component.decoded("DURATION")
        else:
            end = start + dt.timedelta(days=1) if not isinstance(start, dt.datetime) \
                else start
        calendar = file.parent.relative_to(self.root).as_posix() \
            if file.parent != self.root else ""
        return Event(str(component.get("SUMMARY", "")).strip() or "(no title)", start, end,
                     calendar, str(component.get("LOCATION", "")).strip())

    def _local(self, value: dt.datetime | dt.date) -> dt.datetime | dt.date:
        if not isinstance(value, dt.datetime):
            return value
        if value.tzinfo is None:  # floating time: the phone's
            return value.replace(tzinfo=self.zone)
        return value.astimezone(self.zone)

    # -- writing ---------------------------------------------------------------

    def default_folder(self) -> Path:
        if self.default:
            return self.root / self.default
        folders = sorted(p for p in self.root.iterdir() if p.is_dir()) \
            if self.root.is_dir() else []
        return folders[0] if folders else self.root / NEW_CALENDAR

    def _add(self, title: str, start: dt.datetime | dt.date,
             end: dt.datetime | dt.date) -> tuple[Event, str]:
        folder = self.default_folder()
        uid = f"{uuid.uuid4()}@agentd"
        event = icalendar.Event()
        event.add("UID", uid)
        event.add("DTSTAMP", dt.datetime.now(dt.UTC))
        event.add("SUMMARY", title)
        if isinstance(start, dt.datetime):  # in UTC: every reader converts it right
            event.add("DTSTART", start.astimezone(dt.UTC))
            event.add("DTEND", end.astimezone(dt.UTC))  # type: ignore[union-attr]
        else:
            event.add("DTSTART", start)
            event.add("DTEND", end)
        calendar = icalendar.Calendar()
        calendar.add("PRODID", PRODID)
        calendar.add("VERSION", "2.0")
        calendar.add_component(event)
        target = folder / f"{uid}.ics"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(descriptor, "wb") as file:
                    file.write(calendar.to_ical())
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except PermissionError as exc:
            raise _read_only(folder, exc) from None
        except OSError as exc:
            if exc.errno == errno.EROFS:
                raise _read_only(folder, exc) from None
            raise
        return Event(title, start, end, folder.name), str(target)


def _read_only(folder: Path, exc: OSError) -> PermissionDenied:
    return PermissionDenied(
        f"the calendar folder {folder} is read-only ({exc.strerror}): make it writable "
        "(chmod u+w), or choose another calendar with the calendar_default setting "
        "(`agentd --print-config`)")


def _order(event: Event) -> tuple[int, str, str]:
    if isinstance(event.start, dt.datetime):
        return (1, event.start.isoformat(), event.title)
    return (0, "", event.title)
