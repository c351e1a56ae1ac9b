"""Backend "ics-folder": the .ics files under ``$XDG_DATA_HOME/calendars``.

The vdir layout vdirsyncer and khal keep: ``~/.local/share/calendars/<calendar>/*.ics``,
one event (with its recurrence exceptions) per file, read with the shared iCalendar code
(``agentd.adapters.calendar.ical``). A file that cannot be read is skipped with a warning
naming it.

A calendars folder is the user's choice (as a vCard folder is for contacts), so this
backend serves whenever the folder exists. Without it, it steps aside for the backend it
is told to (Evolution Data Server, installed on most Phosh phones), and serves only when
that one cannot: then ``calendar.add`` makes the first calendar.

New events go to the default calendar (the ``calendar_default`` setting, else the first
folder by name, else a new ``personal`` folder), one new file named after its UID, written
to a temporary file first and renamed into place.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import icalendar

from agentd.adapters.base import Availability, Backend
from agentd.adapters.calendar import CAPABILITY, Event
from agentd.adapters.calendar.ical import (
    in_order,
    local_zone,
    new_calendar,
    new_event,
    occurrences,
)
from agentd.errors import PermissionDenied

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 1 << 20
NEW_CALENDAR = "personal"


class IcsFolder:
    name = "ics-folder"
    capability = CAPABILITY
    test = False

    def __init__(self, root: Path, default: str = "", zone: dt.tzinfo | None = None,
                 step_aside_for: Backend | None = None) -> None:
        self.root = root
        self.default = default
        self.zone = zone or local_zone()
        self.step_aside_for = step_aside_for

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ, default: str = "",
                         step_aside_for: Backend | None = None) -> IcsFolder:
        home = Path(env.get("HOME") or Path.home())
        data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
        return cls(data / "calendars", default, local_zone(env), step_aside_for)

    async def availability(self) -> Availability:
        if not await asyncio.to_thread(self.root.is_dir):
            other = self.step_aside_for
            if other is not None and (await other.availability()).ok:
                return Availability.no(f"no folder {self.root} ({other.name} serves the "
                                       "calendar; make the folder to keep .ics files instead)")
            # Still usable: calendar.add creates the first calendar.
            return Availability.yes(f"no events yet in {self.root} (calendar.add creates "
                                    f"{self.root / NEW_CALENDAR})")
        files = await asyncio.to_thread(self._files)
        if not files:
            return Availability.yes(f"no events yet in {self.root} (calendar.add writes to "
                                    f"{self.default_folder()})")
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
        events: list[Event] = []
        for file in self._files():
            try:
                if file.stat().st_size > MAX_FILE_BYTES:
                    raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
                calendar = icalendar.Calendar.from_ical(file.read_bytes())
                name = file.parent.relative_to(self.root).as_posix() \
                    if file.parent != self.root else ""
                events += occurrences(calendar, day, self.zone, name)
            except Exception as exc:  # any broken file is skipped, named
                log.warning("calendar: skipped %s: %s", file, exc)
        return in_order(events)

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
        event = new_event(title, start, end)
        target = folder / f"{event['UID']}.ics"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(descriptor, "wb") as file:
                    file.write(new_calendar(event).to_ical())
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
