"""The calendar from the user's .ics folder, through the real daemon on a private bus.

The events are real .ics files in the vdirsyncer/khal layout under the test's
``$XDG_DATA_HOME/calendars`` (one event per file); the daemon runs in Europe/Berlin
(``TZ``), so "today" and the times it says are Berlin's. Days are relative to the day
the test runs, so a weekly event, an all-day one and one in New York's time zone are
placed around it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from testkit.bus import Bus, Daemon
from testkit.helpers import audit, gdbus_ask, wait_state

from agentd.adapters.calendar import resolve_day
from agentd.tools.registry import WEEKDAYS

pytestmark = pytest.mark.services

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def ics(*lines: str) -> str:
    return "\r\n".join(("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT",
                        *lines, "END:VEVENT", "END:VCALENDAR", ""))


def today() -> dt.date:
    return dt.datetime.now(BERLIN).date()


def stamp(day: dt.date, hour: int, minute: int = 0) -> str:
    return f"{day:%Y%m%d}T{hour:02d}{minute:02d}00"


def fill(root: Path) -> None:
    """Two calendars, "home" (first by name: the default) and "work"."""
    home, work = root / "home", root / "work"
    home.mkdir(parents=True)
    work.mkdir()
    day = today()
    (home / "dentist.ics").write_text(ics(
        "UID:dentist", "SUMMARY:Dentist", "LOCATION:Main Street 5",
        f"DTSTART;TZID=Europe/Berlin:{stamp(day, 9)}", f"DTEND;TZID=Europe/Berlin:"
        f"{stamp(day, 9, 45)}"))
    holiday = day + dt.timedelta(days=1)
    (home / "holiday.ics").write_text(ics(
        "UID:holiday", "SUMMARY:Holiday", f"DTSTART;VALUE=DATE:{holiday:%Y%m%d}",
        f"DTEND;VALUE=DATE:{holiday + dt.timedelta(days=1):%Y%m%d}"))
    # A call at 9:00 in New York, tomorrow: Berlin time is what the phone says.
    (work / "call.ics").write_text(ics(
        "UID:call", "SUMMARY:Call with the New York office",
        f"DTSTART;TZID=America/New_York:{stamp(holiday, 9)}",
        f"DTEND;TZID=America/New_York:{stamp(holiday, 10)}"))
    # Weekly, on the weekday three days from now, since four weeks ago, UTC times.
    first = day + dt.timedelta(days=3 - 28)
    (work / "weekly.ics").write_text(ics(
        "UID:weekly", "SUMMARY:Team meeting", f"DTSTART:{stamp(first, 7)}Z",
        f"DTEND:{stamp(first, 8)}Z", "RRULE:FREQ=WEEKLY"))
    (work / "broken.ics").write_text("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:tomorrowish\n")


@pytest.fixture
def calendar_daemon(bus: Bus) -> Iterator[Daemon]:
    fill(bus.root / "data" / "calendars")
    daemon = Daemon(bus, extra_env={"TZ": "Europe/Berlin"}).start()
    yield daemon
    if daemon.alive():
        daemon.kill(15)


def ask(bus: Bus, text: str) -> dict[str, Any]:
    return wait_state(bus, gdbus_ask(bus, text))


def listed(bus: Bus, text: str) -> str:
    task = ask(bus, text)
    (step,) = task["steps"]
    assert step["tool"] == "calendar.list" and step["state"] == "done", task
    return str(step["result"])


def calendar_rows(bus: Bus) -> dict[str, dict[str, Any]]:
    """`agentctl doctor`'s calendar rows by backend, in order."""
    out = bus.agentctl("doctor", "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["backend"]: r for r in json.loads(out.stdout) if r["capability"] == "calendar"}
    assert list(rows) == ["ics-folder", "eds"], rows
    return rows


def berlin(day: dt.date, hour: int, zone: ZoneInfo) -> str:
    return dt.datetime.combine(day, dt.time(hour), zone).astimezone(BERLIN).strftime("%H:%M")


def test_today_tomorrow_and_a_weekday(bus: Bus, calendar_daemon: Daemon) -> None:
    day = today()
    assert listed(bus, "what's on my calendar today") == \
        f"Today ({day:%A} {day.day} {day:%B}): 09:00–09:45 Dentist at Main Street 5."
    tomorrow = day + dt.timedelta(days=1)
    call = f"{berlin(tomorrow, 9, NEW_YORK)}–{berlin(tomorrow, 10, NEW_YORK)}"
    assert listed(bus, "what do I have tomorrow") == (  # all day first; NY time in Berlin's
        f"Tomorrow ({tomorrow:%A} {tomorrow.day} {tomorrow:%B}): all day Holiday; "
        f"{call} Call with the New York office.")
    assert call.startswith(("14:", "15:"))
    weekly = day + dt.timedelta(days=3)
    said = f"{weekly:%A} {weekly.day} {weekly:%B}"
    assert listed(bus, f"do I have anything on {weekly:%A}") == \
        f"{said}: {berlin(weekly, 7, ZoneInfo('UTC'))}–{berlin(weekly, 8, ZoneInfo('UTC'))} " \
        "Team meeting."
    other = day + dt.timedelta(days=2)
    assert listed(bus, f"am I busy on {other:%A}") == \
        f"Nothing on the calendar on {other:%A} {other.day} {other:%B}."
    # The malformed file is skipped, named in the log; the daemon answers on.
    assert "calendar: skipped " in calendar_daemon.logs()
    assert "broken.ics" in calendar_daemon.logs()
    assert calendar_daemon.alive()


def test_the_weekly_event_shows_every_week_with_a_date(bus: Bus,
                                                       calendar_daemon: Daemon) -> None:
    weekly = today() + dt.timedelta(days=3 + 7)
    task = ask(bus, f"what's my schedule for the {weekly.day} of {weekly:%B}")
    (step,) = task["steps"]
    assert step["args"] == {"day": f"{weekly:%m-%d}"}, step
    assert str(step["result"]).endswith(" Team meeting."), step


def test_list_taints_the_task(bus: Bus, calendar_daemon: Daemon) -> None:
    listed(bus, "what's on my calendar today")
    (taint,) = [t for r in audit(bus) if r.get("tool") == "calendar.list"
                for t in r.get("taint", [])]
    assert taint == "calendar.list: calendar events (invitations come from others) in " \
        "“home”", taint  # the calendar today's dentist is in


def test_add_then_list(bus: Bus, calendar_daemon: Daemon) -> None:
    task = ask(bus, "schedule a meeting with Sam tomorrow at 10")
    (step,) = task["steps"]
    assert step["tool"] == "calendar.add" and step["state"] == "done", task
    tomorrow = today() + dt.timedelta(days=1)
    assert step["result"] == (f"Added “meeting with Sam” on tomorrow ({tomorrow:%A} "
                              f"{tomorrow.day} {tomorrow:%B}) at 10:00 to the home calendar.")
    (written,) = [p for p in (bus.root / "data" / "calendars" / "home").glob("*.ics")
                  if p.name not in ("dentist.ics", "holiday.ics")]
    text = written.read_text()
    assert "UID:" in text and "SUMMARY:meeting with Sam" in text
    assert written.name == text.split("UID:")[1].split()[0] + ".ics"
    assert not list(written.parent.glob(".*"))  # no temporary file left
    assert "10:00–11:00 meeting with Sam" in listed(bus, "what do I have tomorrow")
    # An all-day event: no time said.
    task = ask(bus, "add mom's birthday on the 1st of january")
    assert task["steps"][0]["result"].endswith(" (all day) to the home calendar."), task
    assert listed(bus, "what's on my calendar on january 1st").endswith(
        "all day mom's birthday.")


def test_no_calendar_folder_makes_personal(bus: Bus, daemon: Daemon) -> None:
    assert "Nothing on the calendar" in listed(bus, "what's on my calendar")
    task = ask(bus, "add dentist to my calendar on friday at 3 pm")
    assert task["state"] == "done", task
    (written,) = (bus.root / "data" / "calendars" / "personal").glob("*.ics")
    assert "SUMMARY:dentist" in written.read_text()
    rows = calendar_rows(bus)
    assert (rows["ics-folder"]["available"], rows["ics-folder"]["selected"]) == (True, True)
    assert rows["ics-folder"]["reason"].startswith("1 .ics file(s) in "), rows


def test_doctor_shows_the_ics_folder(bus: Bus, calendar_daemon: Daemon) -> None:
    rows = calendar_rows(bus)
    row = rows["ics-folder"]
    assert (row["available"], row["selected"]) == (True, True)
    assert row["reason"].startswith("5 .ics file(s) in ") and "calendars" in row["reason"]
    # Evolution Data Server is not on this private bus: the folder serves either way.
    assert rows["eds"]["available"] is False and not rows["eds"]["selected"]
    assert "Evolution Data Server is not on the session bus" in rows["eds"]["reason"]


@pytest.fixture
def read_only(bus: Bus) -> Iterator[Path]:
    """A calendar folder that cannot be written, even by root (immutable, chattr +i)."""
    folder = bus.root / "data" / "calendars" / "home"
    folder.mkdir(parents=True)
    immutable = shutil.which("chattr") is not None and subprocess.run(
        ["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    if not immutable:
        folder.chmod(0o555)
        probe = folder / "probe"
        try:
            probe.touch()
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("cannot make a read-only folder here")
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o755)


def test_read_only_calendar_is_a_named_error(bus: Bus, read_only: Path,
                                             daemon: Daemon) -> None:
    task = ask(bus, "add dentist on friday at 3 pm")
    (step,) = task["steps"]
    assert step["error"].startswith("io.agentd.Error.PermissionDenied: the calendar folder "
                                    f"{read_only} is read-only"), step
    assert "make it writable" in step["error"] and "calendar_default" in step["error"]
    assert daemon.alive()


@pytest.mark.parametrize(("said", "expected"), [
    ("today", "2026-12-03"), ("tomorrow", "2026-12-04"), ("friday", "2026-12-04"),
    ("thursday", "2026-12-10"), ("wednesday", "2026-12-09"), ("12-03", "2026-12-03"),
    ("12-02", "2027-12-02"), ("02-29", "2028-02-29"), ("2027-01-05", "2027-01-05"),
])
def test_resolve_day(said: str, expected: str) -> None:
    assert WEEKDAYS[dt.date(2026, 12, 3).weekday()] == "thursday"
    assert resolve_day(said, dt.date(2026, 12, 3)) == dt.date.fromisoformat(expected)


@pytest.mark.parametrize("said", ["02-30", "yesterday", "13-01"])
def test_resolve_day_refuses_what_is_no_day(said: str) -> None:
    with pytest.raises(ValueError):
        resolve_day(said, dt.date(2026, 12, 3))
