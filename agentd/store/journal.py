"""The journal: every task and step in SQLite (WAL), written before anything runs.

A task unfinished when the daemon died is marked ``interrupted`` by ``recover()``;
a step that was running becomes ``unknown`` and is never re-run. The file is shared
with the other stores (``agentd.store``).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from agentd.records import Caller, StepRecord, StepState, TaskRecord, TaskState
from agentd.store.database import Database
from agentd.tools.registry import Risk

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    tier TEXT NOT NULL DEFAULT '',
    reply TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}',
    caller_name TEXT NOT NULL DEFAULT '',
    caller_uid INTEGER NOT NULL DEFAULT -1,
    caller_pid INTEGER NOT NULL DEFAULT -1,
    caller_exe TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    taint TEXT NOT NULL DEFAULT '[]',
    caller_program TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS steps (
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    idx INTEGER NOT NULL,
    tool TEXT NOT NULL,
    args TEXT NOT NULL,
    risk TEXT NOT NULL,
    summary TEXT NOT NULL,
    state TEXT NOT NULL,
    result TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    confirmed INTEGER NOT NULL DEFAULT 0,
    started REAL,
    finished REAL,
    PRIMARY KEY (task_id, idx)
);
CREATE INDEX IF NOT EXISTS tasks_by_state ON tasks(state);
"""



_UNFINISHED = tuple(s.value for s in TaskState if not s.is_final)
PRIVATE_REMOVED = "(removed: it quoted others' content; see private_result_days)"


class Journal(Database):
    """Tasks and steps. Opening the journal opens the file the other stores share."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.ensure(SCHEMA)

    # -- tasks ------------------------------------------------------------------------

    def create_task(self, request: str, options: dict[str, Any], caller: Caller) -> TaskRecord:
        now = time.time()
        with self.write() as db:
            cur = db.execute(
                "INSERT INTO tasks (request, state, options, caller_name, caller_uid, "
                "caller_pid, caller_exe, caller_program, created, updated) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                (request, TaskState.QUEUED.value, json.dumps(options), caller.bus_name,
                 caller.uid, caller.pid, caller.exe, caller.program, now, now))
        assert cur.lastrowid is not None
        return TaskRecord(id=cur.lastrowid, request=request, state=TaskState.QUEUED,
                          created=now, updated=now, caller=caller, options=options)

    def save_task(self, task: TaskRecord) -> None:
        task.updated = time.time()
        with self.write() as db:
            db.execute("UPDATE tasks SET state=?, tier=?, reply=?, taint=?, updated=? "
                       "WHERE id=?", (task.state.value, task.tier, task.reply,
                                      json.dumps(task.taint), task.updated, task.id))

    def save_plan(self, task: TaskRecord, steps: list[StepRecord] | None = None) -> None:
        """Record planned steps (all of them, or the new ``steps``) before any of them runs."""
        task.updated = time.time()
        with self.write() as db:
            db.execute("UPDATE tasks SET state=?, tier=?, updated=? WHERE id=?",
                       (task.state.value, task.tier, task.updated, task.id))
            db.executemany(
                "INSERT INTO steps (task_id, idx, tool, args, risk, summary, state) "
                "VALUES (?,?,?,?,?,?,?)",
                [(task.id, s.index, s.tool, json.dumps(s.args), s.risk.value, s.summary,
                  s.state.value) for s in (task.steps if steps is None else steps)])

    def save_step(self, task_id: int, step: StepRecord) -> None:
        now = time.time()
        started = now if step.state is StepState.RUNNING else None
        finished = now if step.state in (StepState.DONE, StepState.FAILED) else None
        with self.write() as db:
            db.execute(
                "UPDATE steps SET state=?, result=?, error=?, confirmed=?, "
                "started=COALESCE(?, started), finished=COALESCE(?, finished) "
                "WHERE task_id=? AND idx=?",
                (step.state.value, step.result, step.error, int(step.confirmed), started,
                 finished, task_id, step.index))

    def load_task(self, task_id: int) -> TaskRecord | None:
        row = self._db.execute("SELECT * FROM tasks WHERE id=?", (task_id,)).fetchone()
        return self._task_from_row(row) if row else None

    def recent_tasks(self, limit: int) -> list[TaskRecord]:
        """Every unfinished task plus the newest ``limit`` finished ones, oldest first."""
        rows = self._db.execute(
            f"SELECT * FROM tasks WHERE state IN ({','.join('?' * len(_UNFINISHED))}) "
            "UNION SELECT * FROM (SELECT * FROM tasks ORDER BY id DESC LIMIT ?) ORDER BY id",
            (*_UNFINISHED, limit)).fetchall()
        return [self._task_from_row(r) for r in rows]

    def recover(self) -> list[int]:
        """Mark what a dead daemon left unfinished; never re-run anything. Returns task ids."""
        rows = self._db.execute(
            f"SELECT id FROM tasks WHERE state IN ({','.join('?' * len(_UNFINISHED))})",
            _UNFINISHED).fetchall()
        ids = [r[0] for r in rows]
        for task_id in ids:
            task = self.load_task(task_id)
            assert task is not None
            unknown = [s for s in task.steps if s.state is StepState.RUNNING]
            for step in task.steps:
                if step.state is StepState.RUNNING:
                    step.state = StepState.UNKNOWN
                    step.error = ("agentd stopped while this step ran; "
                                  "it may or may not have happened")
                elif step.state in (StepState.PLANNED, StepState.AWAITING_CONFIRMATION):
                    step.state = StepState.NOT_RUN
                else:
                    continue
                self.save_step(task.id, step)
            task.state = TaskState.INTERRUPTED
            task.reply = "agentd stopped before this task finished; nothing was re-run."
            if unknown:
                task.reply += " Check whether this happened: " + "; ".join(
                    s.summary for s in unknown) + "."
            self.save_task(task)
            log.warning("task %d was unfinished when agentd stopped: now interrupted", task_id)
        return ids

    def prune(self, older_than: float, keep_tasks: int, private_before: float,
              private_tools: frozenset[str]) -> tuple[int, int]:
        """Remove finished tasks (and their steps) last updated before ``older_than`` or
        beyond the newest ``keep_tasks`` (0: no limit); blank the results of steps of
        ``private_tools`` that finished before ``private_before``. An unfinished task is
        never touched. Returns (tasks removed, results blanked)."""
        final = tuple(s.value for s in TaskState if s.is_final)
        marks = ",".join("?" * len(final))
        with self.write() as db:
            old = {row[0] for row in db.execute(
                f"SELECT id FROM tasks WHERE state IN ({marks}) AND updated < ?",
                (*final, older_than))}
            if keep_tasks > 0:
                old |= {row[0] for row in db.execute(
                    f"SELECT id FROM tasks WHERE state IN ({marks}) ORDER BY id DESC "
                    "LIMIT -1 OFFSET ?", (*final, keep_tasks))}
            ids = sorted(old)
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                qs = ",".join("?" * len(chunk))
                db.execute(f"DELETE FROM steps WHERE task_id IN ({qs})", chunk)
                db.execute(f"DELETE FROM tasks WHERE id IN ({qs})", chunk)
            blanked = 0
            if private_tools:
                tools = sorted(private_tools)
                blanked = db.execute(
                    f"UPDATE steps SET result=? WHERE result != '' AND result != ? AND "
                    f"finished < ? AND tool IN ({','.join('?' * len(tools))})",
                    (PRIVATE_REMOVED, PRIVATE_REMOVED, private_before, *tools)).rowcount
        return len(ids), blanked

    def _task_from_row(self, row: tuple[Any, ...]) -> TaskRecord:
        (task_id, request, state, tier, reply, options, caller_name, uid, pid, exe,
         created, updated, taint, program) = row
        steps = [self._step_from_row(r) for r in self._db.execute(
            "SELECT * FROM steps WHERE task_id=? ORDER BY idx", (task_id,))]
        return TaskRecord(id=task_id, request=request, state=TaskState(state), created=created,
                          updated=updated, caller=Caller(caller_name, uid, pid, exe, program,
                                                         program.partition(":")[0]
                                                         if ":" in program else ""),
                          options=json.loads(options), tier=tier, reply=reply, steps=steps,
                          taint=json.loads(taint))

    @staticmethod
    def _step_from_row(row: tuple[Any, ...]) -> StepRecord:
        return StepRecord(index=row[1], tool=row[2], args=json.loads(row[3]), risk=Risk(row[4]),
                          summary=row[5], state=StepState(row[6]), result=row[7],
                          error=row[8], confirmed=bool(row[9]))
