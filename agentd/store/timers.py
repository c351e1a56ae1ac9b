"""Timers and alarms in the journal's file, so they fire after a restart (``Scheduler``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from agentd.store.database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS timers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    due REAL NOT NULL,
    state TEXT NOT NULL,
    task_id INTEGER,
    created REAL NOT NULL,
    fired REAL
);
CREATE INDEX IF NOT EXISTS timers_by_state ON timers(state);
"""


@dataclass(frozen=True)
class TimerRecord:
    id: int
    kind: str  # "timer" or "alarm"
    label: str
    due: float
    state: str  # "pending", "fired", "cancelled"
    task_id: int | None


class TimerStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure(SCHEMA)

    def add(self, kind: str, label: str, due: float, task_id: int | None) -> TimerRecord:
        with self._db.write() as db:
            cur = db.execute(
                "INSERT INTO timers (kind, label, due, state, task_id, created) "
                "VALUES (?,?,?,?,?,?)", (kind, label, due, "pending", task_id, time.time()))
        assert cur.lastrowid is not None
        return TimerRecord(cur.lastrowid, kind, label, due, "pending", task_id)

    def pending(self, kind: str | None = None) -> list[TimerRecord]:
        sql = "SELECT id, kind, label, due, state, task_id FROM timers WHERE state='pending'"
        params: tuple[Any, ...] = ()
        if kind:
            sql += " AND kind=?"
            params = (kind,)
        return [TimerRecord(*r) for r in self._db.read(sql + " ORDER BY due", params)]

    def set_state(self, timer_id: int, state: str) -> None:
        with self._db.write() as db:
            db.execute("UPDATE timers SET state=?, fired=? WHERE id=?",
                       (state, time.time() if state == "fired" else None, timer_id))

    def get(self, timer_id: int) -> TimerRecord | None:
        rows = self._db.read("SELECT id, kind, label, due, state, task_id FROM timers "
                             "WHERE id=?", (timer_id,))
        return TimerRecord(*rows[0]) if rows else None
