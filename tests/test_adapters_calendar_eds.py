"""The calendar from Evolution Data Server, through the real daemon on a private bus.

The real source registry and calendar factory (``testkit.evolution``) run on the test's
session bus; the events are made with EDS's own ``CreateObjects``, in EDS's built-in
"Personal" calendar and in calendars made with the registry's ``CreateSources``, and
what agentd adds is read back with EDS's ``GetObjectList``. The daemon runs in
Europe/Berlin (``TZ``), as in the .ics folder's tests; days are relative to the day the
test runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from testkit.bus import Bus, Daemon
from testkit.evolution import create_events, create_source, events_in, modify_events
from testkit.helpers import audit, gdbus_ask, wait_state

from agentd.adapters.calendar.eds import EdsCalendar, expand
from agentd.errors import Unavailable

pytestmark = pytest.mark.services

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC
# As Evolution and GNOME Calendar write zones (libical's built-in time zones).
NEW_YORK_TZID = "/freeassociation.sourceforge.net/America/New_York"
TIMEOUT_S = 60  # the first open of a calendar starts its backend
# GSettings in a file under the test's XDG_CONFIG_HOME (no dconf service on a private bus).
KEYFILE = {"GSETTINGS_BACKEND": "keyfile"}


def vevent(uid: str, summary: str, *lines: str) -> str:
    return "\r\n".join(("BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{summary}", *lines,
                        "END:VEVENT", ""))


def today() -> dt.date:
    return dt.datetime.now(BERLIN).date()


def local(day: dt.date, hour: int, minute: int = 0) -> str:
    return f"{day:%Y%m%d}T{hour:02d}{minute:02d}00"


def utc(day: dt.date, hour: int, minute: int = 0, zone: ZoneInfo = BERLIN) -> str:
    """``hour`` on ``day`` in ``zone``, as a UTC time."""
    moment = dt.datetime.combine(day, dt.time(hour, minute), zone).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%S}Z"


def berlin(day: dt.date, hour: int, zone: ZoneInfo) -> str:
    return dt.datetime.combine(day, dt.time(hour), zone).astimezone(BERLIN).strftime("%H:%M")


def said(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def calendar_source(name: str, selected: bool = True) -> str:
    """A local calendar's key file, as GNOME Calendar writes one."""
    return (f"[Data Source]\nDisplayName={name}\nEnabled=true\nParent=local-stub\n\n"
            f"[Calendar]\nBackendName=local\nSelected={'true' if selected else 'false'}\n")


def fill(bus: Bus) -> None:
    """Personal (EDS's built-in calendar), Work, and Hidden (not selected), around today."""
    day = today()
    create_events(bus.address, [
        vevent("dentist", "Dentist", "LOCATION:Main Street 5",  # a plain event, UTC times
               f"DTSTART:{utc(day, 9)}", f"DTEND:{utc(day, 9, 45)}"),
        vevent("holiday", "Holiday", f"DTSTART;VALUE=DATE:{day:%Y%m%d}",  # all day
               f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}"),
        vevent("weekly", "Team meeting", "RRULE:FREQ=WEEKLY",  # since four weeks ago
               f"DTSTART;TZID=Europe/Berlin:{local(day - dt.timedelta(days=28), 10)}",
               f"DTEND;TZID=Europe/Berlin:{local(day - dt.timedelta(days=28), 11)}"),
        vevent("late", "Late show",  # yesterday evening: in EDS's query, not today
               f"DTSTART:{utc(day - dt.timedelta(days=1), 23)}",
               f"DTEND:{utc(day - dt.timedelta(days=1), 23, 30)}"),
    ])
    week = day + dt.timedelta(days=7)  # next week's meeting moved to noon
    modify_events(bus.address, [vevent(
        "weekly", "Team meeting (moved)", f"RECURRENCE-ID;TZID=Europe/Berlin:{local(week, 10)}",
        f"DTSTART;TZID=Europe/Berlin:{local(week, 12)}",
        f"DTEND;TZID=Europe/Berlin:{local(week, 13)}")])
    create_source(bus.address, "work", calendar_source("Work"))
    create_events(bus.address, [vevent(  # 9:00 in New York: said in Berlin's time
        "call", "Call with the New York office", f"DTSTART;TZID={NEW_YORK_TZID}:"
        f"{local(day, 9)}", f"DTEND;TZID={NEW_YORK_TZID}:{local(day, 10)}")], "work")
    create_source(bus.address, "hidden", calendar_source("Hidden", selected=False))
    create_events(bus.address, [vevent("secret", "Secret", f"DTSTART:{utc(day, 12)}",
                                       f"DTEND:{utc(day, 13)}")], "hidden")


def eds_daemon(bus: Bus, **env: str) -> Daemon:
    return Daemon(bus, extra_env={"TZ": "Europe/Berlin", **KEYFILE, **env}).start()


@pytest.fixture
def calendar_daemon(bus: Bus, evolution: None) -> Iterator[Daemon]:
    fill(bus)
    daemon = eds_daemon(bus)
    yield daemon
    if daemon.alive():
        daemon.kill(15)


def ask(bus: Bus, text: str) -> dict[str, Any]:
    return wait_state(bus, gdbus_ask(bus, text), timeout=TIMEOUT_S)


def step_of(bus: Bus, text: str, tool: str) -> dict[str, Any]:
    (step,) = ask(bus, text)["steps"]
    assert step["tool"] == tool, step
    return step  # type: ignore[no-any-return]


def listed(bus: Bus, text: str) -> str:
    step = step_of(bus, text, "calendar.list")
    assert step["state"] == "done", step
    return str(step["result"])


def calendar_rows(bus: Bus) -> dict[str, dict[str, Any]]:
    out = bus.agentctl("doctor", "--json")
    assert out.returncode == 0, out.stderr
    return {r["backend"]: r for r in json.loads(out.stdout) if r["capability"] == "calendar"}


def test_what_is_on_my_calendar_today(bus: Bus, calendar_daemon: Daemon) -> None:
    day = today()
    call = f"{berlin(day, 9, NEW_YORK)}–{berlin(day, 10, NEW_YORK)}"
    assert listed(bus, "what's on my calendar today") == (
        f"Today ({said(day)}): all day Holiday; 09:00–09:45 Dentist at Main Street 5; "
        f"10:00–11:00 Team meeting; {call} Call with the New York office.")
    assert call.startswith(("14:", "15:", "16:"))  # not New York's 09:00
    # The weekly event on the same weekday in two weeks, asked by date; next week's was
    # moved to noon (one occurrence changed in EDS).
    later = day + dt.timedelta(days=14)
    step = step_of(bus, f"what's my schedule for the {later.day} of {later:%B}",
                   "calendar.list")
    assert step["result"] == f"{said(later)}: 10:00–11:00 Team meeting.", step
    week = day + dt.timedelta(days=7)
    step = step_of(bus, f"what's my schedule for the {week.day} of {week:%B}", "calendar.list")
    assert step["result"] == f"{said(week)}: 12:00–13:00 Team meeting (moved).", step
    tomorrow = day + dt.timedelta(days=1)
    assert listed(bus, "what do I have tomorrow") == \
        f"Nothing on the calendar for tomorrow ({said(tomorrow)})."
    # Untrusted: the taint names the calendars the events came from.
    taints = [t for r in audit(bus) if r.get("tool") == "calendar.list"
              for t in r.get("taint", [])]
    assert "calendar.list: calendar events (invitations come from others) in “Personal”, " \
           "“Work”" in taints, taints
    # doctor and the catalogue name the backend that serves.
    rows = calendar_rows(bus)
    assert list(rows) == ["ics-folder", "eds"]
    assert rows["eds"]["available"] and rows["eds"]["selected"], rows
    assert rows["eds"]["reason"].startswith("Evolution Data Server: ")
    assert {"Personal", "Work", "Hidden"} <= set(rows["eds"]["reason"].split(": ")[1]
                                                 .split(", "))
    assert not rows["ics-folder"]["available"]  # no calendars folder: it steps aside
    assert "(eds serves the calendar; " in rows["ics-folder"]["reason"], rows
    out = bus.agentctl("tools", "--json")
    tools = {t["name"]: t for t in json.loads(out.stdout)}
    assert tools["calendar.list"]["backend"] == tools["calendar.add"]["backend"] == "eds"
    assert calendar_daemon.alive()


def added(bus: Bus, calendar: str, title: str) -> str:
    """The one VEVENT called ``title`` in an EDS calendar, read back through EDS."""
    (found,) = [o for o in events_in(bus.address, calendar)
                if f"\r\nSUMMARY:{title}\r\n" in o]
    return found


def test_add_goes_to_the_default_calendar(bus: Bus, calendar_daemon: Daemon) -> None:
    tomorrow = today() + dt.timedelta(days=1)
    step = step_of(bus, "add dentist tomorrow at 3 pm", "calendar.add")
    assert step["result"] == (f"Added “dentist” on tomorrow ({said(tomorrow)}) at 15:00 to "
                              "the Personal calendar."), step
    event = added(bus, "system-calendar", "dentist")  # EDS's built-in calendar
    assert f"DTSTART:{utc(tomorrow, 15)}" in event and f"DTEND:{utc(tomorrow, 16)}" in event
    assert "UID:" in event and "@agentd" in event
    assert "15:00–16:00 dentist" in listed(bus, "what do I have tomorrow")
    # The desktop's default calendar (what GNOME Calendar sets) is the next one's.
    out = subprocess.run(["gsettings", "set", "org.gnome.Evolution.DefaultSources",
                          "default-calendar", "work"], env={**bus.env, **KEYFILE},
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    step = step_of(bus, "add lunch to my calendar tomorrow at 1 pm", "calendar.add")
    assert step["result"].endswith(" at 13:00 to the Work calendar."), step
    assert f"DTSTART:{utc(tomorrow, 13)}" in added(bus, "work", "lunch")
    # An all-day event: no time said.
    step = step_of(bus, "add mom's birthday on the 1st of january", "calendar.add")
    assert step["result"].endswith(" (all day) to the Work calendar."), step
    assert "DTSTART;VALUE=DATE:" in added(bus, "work", "mom's birthday")
    calendar_daemon.kill(15)
    # agentd's calendar_default setting wins, by a calendar's name (or its UID).
    daemon = eds_daemon(bus, AGENTD_CALENDAR_DEFAULT="personal")
    try:
        step = step_of(bus, "add yoga tomorrow at 7 pm", "calendar.add")
        assert step["result"].endswith(" at 19:00 to the Personal calendar."), step
        assert f"DTSTART:{utc(tomorrow, 19)}" in added(bus, "system-calendar", "yoga")
    finally:
        daemon.kill(15)


def test_a_read_only_or_unknown_default_calendar_refuses_by_name(
        bus: Bus, calendar_daemon: Daemon) -> None:
    calendar_daemon.kill(15)
    # EDS's birthdays calendar is made from the address books: it cannot take events.
    daemon = eds_daemon(bus, AGENTD_CALENDAR_DEFAULT="Birthdays & Anniversaries")
    try:
        step = step_of(bus, "add dentist tomorrow at 3 pm", "calendar.add")
        assert step["state"] == "failed", step
        assert step["error"].startswith("io.agentd.Error.PermissionDenied: the calendar "
                                        "“Birthdays & Anniversaries” is read-only"), step
        assert "calendar_default" in step["error"] and "GNOME Calendar" in step["error"]
        assert daemon.alive()
        assert not [o for o in events_in(bus.address, "birthdays") if "dentist" in o]
    finally:
        daemon.kill(15)
    daemon = eds_daemon(bus, AGENTD_CALENDAR_DEFAULT="Holidays")
    try:
        step = step_of(bus, "add dentist tomorrow at 3 pm", "calendar.add")
        assert step["error"].startswith("io.agentd.Error.NotFound: the calendar_default "
                                        "setting names “Holidays”, which is not a calendar "
                                        "of Evolution Data Server ("), step
        assert "Personal" in step["error"] and "Work" in step["error"]
        assert daemon.alive()
    finally:
        daemon.kill(15)


def test_the_ics_folder_wins_when_there_is_one(bus: Bus, evolution: None) -> None:
    create_events(bus.address, [vevent("eds-only", "From EDS", f"DTSTART:{utc(today(), 9)}",
                                       f"DTEND:{utc(today(), 10)}")])
    folder = bus.root / "data" / "calendars" / "home"
    folder.mkdir(parents=True)
    (folder / "gym.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:gym\r\n"
        f"SUMMARY:Gym\r\nDTSTART:{utc(today(), 18)}\r\nDTEND:{utc(today(), 19)}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n")
    daemon = eds_daemon(bus)
    try:
        assert listed(bus, "what's on my calendar today").endswith(": 18:00–19:00 Gym.")
        step = step_of(bus, "add dentist tomorrow at 3 pm", "calendar.add")
        assert step["result"].endswith(" to the home calendar."), step
        assert len(list(folder.glob("*.ics"))) == 2
        assert not [o for o in events_in(bus.address) if "dentist" in o]
        rows = calendar_rows(bus)
        assert rows["ics-folder"]["selected"] and not rows["eds"]["selected"], rows
        assert rows["eds"]["available"], rows  # serves, but the folder is chosen
    finally:
        daemon.kill(15)


def test_without_evolution_data_server(bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    """EDS not on the bus: the backend says so, and the daemon answers from the (empty)
    calendars folder instead, as before."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    backend = EdsCalendar(env=bus.env)
    state = asyncio.run(backend.availability())
    assert not state.ok and state.reason == ("Evolution Data Server is not on the session "
                                             "bus (Debian package evolution-data-server)")
    for work in (backend.events_on(today()),
                 backend.add("dentist", dt.datetime.now(BERLIN), dt.datetime.now(BERLIN))):
        with pytest.raises(Unavailable, match="Evolution Data Server is not on the session"):
            asyncio.run(work)
    daemon = eds_daemon(bus)
    try:
        assert listed(bus, "what's on my calendar today").startswith("Nothing on the calendar")
        rows = calendar_rows(bus)
        assert rows["ics-folder"]["selected"], rows
        assert not rows["eds"]["available"]
        assert "Evolution Data Server is not on the session bus" in rows["eds"]["reason"]
        assert daemon.alive()
    finally:
        daemon.kill(15)


def test_events_that_cannot_be_read_are_skipped_and_zones_come_from_eds(
        caplog: pytest.LogCaptureFixture) -> None:
    """What EDS answers, read as the backend reads it: a broken event among good ones is
    skipped (named in the log), the others answer; a TZID no zone database knows is read
    from the VTIMEZONE EDS gives for it (GetTimezone)."""
    day = dt.date(2026, 12, 3)
    custom = ("BEGIN:VTIMEZONE\r\nTZID:Office time\r\nBEGIN:STANDARD\r\nTZNAME:OT\r\n"
              "TZOFFSETFROM:-0300\r\nTZOFFSETTO:-0300\r\nDTSTART:19700101T000000\r\n"
              "END:STANDARD\r\nEND:VTIMEZONE\r\n")
    objects = [vevent("good", "Good", f"DTSTART:{local(day, 9)}Z", f"DTEND:{local(day, 10)}Z"),
               vevent("bad", "Bad", "DTSTART:tomorrowish"),
               vevent("office", "Office", f"DTSTART;TZID=Office time:{local(day, 9)}",
                      f"DTEND;TZID=Office time:{local(day, 10)}")]
    with caplog.at_level("WARNING"):
        events = expand([custom], objects, day, BERLIN, "Personal")
    assert [(e.title, e.start.isoformat(), e.calendar) for e in events] == [
        ("Good", "2026-12-03T10:00:00+01:00", "Personal"),
        ("Office", "2026-12-03T13:00:00+01:00", "Personal")]  # 09:00 at UTC-3 is 13:00
    assert "skipped the event bad of the calendar Personal" in caplog.text
