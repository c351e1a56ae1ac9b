"""Retention: old finished tasks go, unfinished ones stay, private results are blanked,
and the audit log stays verifiable across pruning (a checkpoint carries the hash)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from testkit.bus import Bus, Daemon

from agentd.config import Settings
from agentd.records import Caller, StepRecord, StepState, TaskState
from agentd.store.audit import AuditLog
from agentd.store.journal import PRIVATE_REMOVED, Journal
from agentd.tasks.retention import DAY_S, Retention
from agentd.tools.catalogue import CATALOGUE
from agentd.tools.registry import Risk, ToolRegistry

pytestmark = pytest.mark.unit


def _task(journal: Journal, request: str, state: TaskState, tool: str, result: str,
          age_days: float) -> int:
    task = journal.create_task(request, {}, Caller(":1.1", 0, 1, "/x", "/x"))
    task.state = state
    task.steps = [StepRecord(0, tool, {}, Risk.READ, request, StepState.DONE, result)]
    journal.save_plan(task)
    journal.save_step(task.id, task.steps[0])
    journal.save_task(task)
    past = time.time() - age_days * DAY_S
    with journal.write() as db:
        db.execute("UPDATE tasks SET updated=?, created=? WHERE id=?", (past, past, task.id))
        db.execute("UPDATE steps SET finished=? WHERE task_id=?", (past, task.id))
    return task.id


def test_old_tasks_go_unfinished_stay_private_results_are_blanked(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    audit = AuditLog(journal)
    old = _task(journal, "what time is it", TaskState.DONE, "clock.time", "It is 9:00", 40)
    stuck = _task(journal, "text mom", TaskState.AWAITING_CONFIRMATION, "clock.time", "x", 40)
    screen = _task(journal, "read my screen", TaskState.DONE, "screen.read",
                   "Bank: your code is 771234", 10)
    fresh = _task(journal, "what time is it", TaskState.DONE, "clock.time", "It is 10:00", 1)
    settings = Settings(retention_days=30, retention_tasks=0, private_result_days=7)
    removed = Retention(settings, journal, audit, ToolRegistry(CATALOGUE)).run_once()
    assert removed["tasks"] == 1 and removed["results"] == 1
    assert journal.load_task(old) is None
    assert journal.load_task(stuck) is not None  # never an unfinished task
    kept = journal.load_task(screen)
    assert kept is not None and kept.steps[0].result == PRIVATE_REMOVED
    fresh_task = journal.load_task(fresh)
    assert fresh_task is not None and fresh_task.steps[0].result == "It is 10:00"
    # A count limit keeps the newest finished tasks.
    Retention(Settings(retention_days=0, retention_tasks=1, private_result_days=0),
              journal, audit, ToolRegistry(CATALOGUE)).run_once()
    assert journal.load_task(screen) is None and journal.load_task(fresh) is not None
    assert journal.load_task(stuck) is not None
    journal.close()


def test_audit_log_verifies_across_pruning_and_still_names_edits(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    audit = AuditLog(journal)
    for i in range(5):
        audit.append({"tool": "clock.time", "summary": f"step {i}"})
    with journal.write() as db:  # the first three are old
        db.execute("DROP TRIGGER audit_no_update")
        db.execute(f"UPDATE audit SET time = time - {40 * DAY_S} WHERE seq <= 3")
    # (re-signed: the test moved their times, which the chain covers)
    rows = journal.read("SELECT seq, time, record FROM audit ORDER BY seq")
    from agentd.store.audit import GENESIS, _digest

    prev = GENESIS
    with journal.write() as db:
        for seq, when, text in rows:
            digest = _digest(seq, when, text, prev)
            db.execute("UPDATE audit SET prev=?, hash=? WHERE seq=?", (prev, digest, seq))
            prev = digest
    (tmp_path / "audit.head").write_text(f"5 {prev}\n")
    audit = AuditLog(journal)
    assert audit.verify()[0]
    assert audit.prune(time.time() - 30 * DAY_S) == 3
    assert [e.seq for e in audit.entries()] == [4, 5, 6]
    assert audit.entries()[-1].record["checkpoint"] == "pruned"
    assert audit.verify() == (True, "ok", 3)
    audit.append({"tool": "clock.time", "summary": "after"})
    assert audit.verify()[0]
    with sqlite3.connect(tmp_path / "j.sqlite3") as db:  # an editor drops the trigger
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("UPDATE audit SET record = replace(record, 'step 4', 'step X') "
                   "WHERE seq = 5")
    assert audit.verify() == (False, "record 5 was changed after it was written", 1)
    journal.close()


def test_pruned_records_without_a_checkpoint_are_an_alarm(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    audit = AuditLog(journal)
    for _ in range(3):
        audit.append({"tool": "clock.time"})
    with sqlite3.connect(tmp_path / "j.sqlite3") as db:
        db.execute("DROP TRIGGER audit_no_delete")
        db.execute("DELETE FROM audit WHERE seq = 1")
    ok, message, _ = AuditLog(journal).verify()
    assert not ok and message.startswith("records 1-1 are missing and no checkpoint")
    journal.close()


def test_the_daemon_applies_retention_at_start(bus: Bus) -> None:
    daemon = Daemon(bus).start()
    bus.agentctl("ask", "what time is it")
    daemon.kill()
    db_path = bus.root / "state" / "agentd" / "journal.sqlite3"
    with sqlite3.connect(db_path) as db:
        db.execute(f"UPDATE tasks SET updated = updated - {60 * DAY_S}")
    Daemon(bus).start()
    assert json.loads(bus.agentctl("--json", "tasks").stdout) == []
    assert "retention: 1 task(s) removed" in (bus.root / "agentd.log").read_text()
