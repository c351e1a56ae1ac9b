"""The tools that need no hardware, run for real against a real journal."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

import pytest

from agentd.errors import InvalidArguments, InvalidRequest, NotFound
from agentd.records import Caller
from agentd.store.audit import AuditLog
from agentd.store.journal import Journal
from agentd.store.timers import TimerRecord, TimerStore
from agentd.tools.builtin import install_builtin_tools
from agentd.tools.builtin.history import parse_since
from agentd.tools.builtin.scheduler import Scheduler
from agentd.tools.builtin.timers import next_occurrence
from agentd.tools.catalogue import CATALOGUE
from agentd.tools.context import ToolContext
from agentd.tools.registry import ToolRegistry

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 11, 25, 14, 30, tzinfo=dt.UTC)


def test_next_occurrence() -> None:
    assert next_occurrence("15:00", NOW) == NOW.replace(hour=15, minute=0)
    assert next_occurrence("14:30", NOW) == NOW.replace(hour=14, minute=30) + dt.timedelta(1)
    assert next_occurrence("06:00", NOW).day == 26


@pytest.mark.parametrize(("since", "expected"), [
    ("today", NOW.replace(hour=0, minute=0)),
    ("yesterday", NOW.replace(day=24, hour=0, minute=0)),
    ("09:15", NOW.replace(hour=9, minute=15)),
    ("2h", NOW - dt.timedelta(hours=2)),
    ("3 hours", NOW - dt.timedelta(hours=3)),
    ("", NOW - dt.timedelta(days=1)),
])
def test_parse_since(since: str, expected: dt.datetime) -> None:
    assert parse_since(since, NOW) == expected


def test_parse_since_rejects_nonsense() -> None:
    with pytest.raises(InvalidArguments, match="cannot read since"):
        parse_since("the dawn of time", NOW)


class Harness:
    def __init__(self, tmp: Path) -> None:
        self.journal = Journal(tmp / "j.sqlite3")
        self.fired: list[tuple[TimerRecord, float]] = []
        self.timers = TimerStore(self.journal)
        self.scheduler = Scheduler(self.timers, self._fired)
        self.registry = ToolRegistry(CATALOGUE)
        install_builtin_tools(self.registry)
        self.audit = AuditLog(self.journal)
        self.task = self.journal.create_task("test", {}, Caller())

    async def _fired(self, timer: TimerRecord, late: float) -> None:
        self.fired.append((timer, late))

    async def run(self, tool: str, **args: object) -> str:
        ctx = ToolContext(self.task, self.journal, self.scheduler, self.audit)
        return (await self.registry.run(ctx, tool, args)).text


def test_timers_start_fire_and_cancel(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path)
        assert await h.run("timer.start", duration_s=1, label="tea") == \
            "Started a tea timer for 1 second."
        await h.run("timer.start", duration_s=600, label="eggs")
        await h.run("timer.start", duration_s=900)
        with pytest.raises(InvalidRequest, match="3 timers are running"):
            await h.run("timer.cancel")
        with pytest.raises(NotFound, match="no running timer is called 'bread'"):
            await h.run("timer.cancel", label="bread")
        assert await h.run("timer.cancel", label="Eggs") == "Cancelled the Eggs timer."
        await asyncio.sleep(1.3)
        assert [t.label for t, _ in h.fired] == ["tea"]
        assert await h.run("timer.cancel") == "Cancelled the timer."
        with pytest.raises(NotFound, match="no timer is running"):
            await h.run("timer.cancel")
        await h.scheduler.stop()

    asyncio.run(scenario())


def test_overdue_timer_fires_late_at_start(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path)
        h.timers.add("alarm", "wake", time.time() - 120, None)
        h.scheduler.start()
        await asyncio.sleep(0.1)
        ((timer, late),) = h.fired
        assert timer.label == "wake" and late >= 119
        assert h.timers.pending() == []

    asyncio.run(scenario())


def test_alarm_and_clock(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path)
        text = await h.run("alarm.set", time="23:59", label="bins")
        assert text.startswith("Alarm set for 23:59 ") and text.endswith("(bins).")
        (alarm,) = h.timers.pending("alarm")
        assert 0 < alarm.due - time.time() <= 24 * 3600
        assert (await h.run("clock.time")).startswith("It is ")
        await h.scheduler.stop()

    asyncio.run(scenario())


def test_history_reads_the_audit_log(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path)
        mine, other = {"program": "/usr/bin/me"}, {"program": "/usr/bin/other"}
        h.task.caller = Caller(":1.5", 0, 1, "/usr/bin/me", "/usr/bin/me")
        assert await h.run("agent.history") == "I haven't done anything in that time."
        h.audit.append({"tool": "timer.start", "summary": "Start a timer for 1 minute",
                        "outcome": "done", "caller": mine})
        h.audit.append({"tool": "sms.send", "summary": "Send a text message to mom: “hi”",
                        "outcome": "denied", "caller": mine,
                        "taint": ["notifications.list: notifications from “Chat”"]})
        h.audit.append({"tool": "call.dial", "summary": "Call 5550100", "outcome": "done",
                        "caller": other})
        ctx = ToolContext(h.task, h.journal, h.scheduler, h.audit)
        result = await h.registry.run(ctx, "agent.history", {"since": "today"})
        text = result.text
        assert text.startswith("2 action(s): ")  # another program's steps are not shown
        assert "Start a timer for 1 minute;" in text
        assert "Send a text message to mom: “hi” (denied)." in text
        # What those tasks read is still untrusted here.
        assert result.data["provenance"] == ("earlier tasks, which read notifications.list: "
                                             "notifications from “Chat”")
        h.task.caller = Caller(":1.6", 0, 2, "/usr/bin/python3", "/x/agentctl",
                               agentctl=True)
        assert (await h.run("agent.history")).startswith("3 action(s): ")  # the user: all

    asyncio.run(scenario())
