"""The audit log: append-only, every record carrying the hash of the one before.

Records live in the journal database (triggers refuse UPDATE and DELETE); the hash of
the newest record is also kept in ``audit.head`` beside it, so ``verify()`` detects an
edited record, a deleted one, and a truncated tail. It fails closed: a log with records
but no ``audit.head`` does not verify.

The head is written right after each record commits. A crash between the two leaves the
log one record ahead of the head; at start agentd finds exactly that (the newest record
follows the head's hash) and moves the head on, so a crash raises no false alarm.

What the chain can and cannot show (``docs/consent.md``): it detects edits by a program
that changes the database without rewriting every later hash and the head file. A
process of the same user can do both (there is no secret key to hold back from it); the
chain makes such an edit deliberate work, not an accident or a careless script.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentd.store.database import Database, StorageError

GENESIS = "0" * 64
log = logging.getLogger(__name__)


# Append-only: triggers refuse UPDATE and DELETE (pruning drops the delete trigger for
# its own transaction, see ``prune``).
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    record TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

@dataclass(frozen=True)
class StepAudit:
    """What the audit log says about one step: who asked, what ran with which arguments,
    what came of it, and who allowed it. ``to_json`` is the stored record (stable:
    `agentctl log` and agent.history read it)."""

    task: int
    step: int
    tool: str
    args: Mapping[str, Any]
    risk: str
    summary: str
    outcome: str
    result: str
    consent: str
    policy: str
    tier: str = ""
    request: str = ""
    caller: Mapping[str, Any] = field(default_factory=dict)
    after_content: tuple[str, ...] = ()
    understood_as: str = ""
    taint: tuple[str, ...] = ()
    approved_by: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        record = dataclasses.asdict(self)
        record["after_content"], record["taint"] = list(self.after_content), list(self.taint)
        return record


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: float
    record: dict[str, Any]
    prev: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time, **self.record, "hash": self.hash}


def _digest(seq: int, when: float, record: str, prev: str) -> str:
    return hashlib.sha256(f"{seq}\n{when!r}\n{record}\n{prev}".encode()).hexdigest()


class AuditLog:
    def __init__(self, journal: Database) -> None:
        self._journal = journal
        journal.ensure(SCHEMA)
        self._head_file = journal.path.parent / "audit.head"
        rows = journal.read("SELECT seq, hash, prev FROM audit ORDER BY seq DESC LIMIT 1")
        self._seq, self._head = rows[0][:2] if rows else (0, GENESIS)
        if rows:
            self._finish_interrupted_append(rows[0][2])

    def _finish_interrupted_append(self, newest_prev: str) -> None:
        """A crash after a record committed but before its head was written: catch up."""
        head = _read_head(self._head_file)
        behind = (self._seq - 1, newest_prev) if self._seq > 1 else None
        if head == behind or (head is None and self._seq == 1):
            log.info("audit log: record %d was committed but agentd stopped before it "
                     "wrote audit.head; head moved on", self._seq)
            _write_atomically(self._head_file, f"{self._seq} {self._head}\n")

    def append(self, record: StepAudit | Mapping[str, Any]) -> AuditEntry:
        """Add one record: a step (``StepAudit``), or agentd's own (a pruning checkpoint)."""
        record = record.to_json() if isinstance(record, StepAudit) else dict(record)
        seq, when = self._seq + 1, time.time()
        text = json.dumps(record, sort_keys=True, ensure_ascii=False)
        digest = _digest(seq, when, text, self._head)
        with self._journal.write() as db:
            db.execute("INSERT INTO audit (seq, time, record, prev, hash) VALUES (?,?,?,?,?)",
                       (seq, when, text, self._head, digest))
        entry = AuditEntry(seq, when, record, self._head, digest)
        self._seq, self._head = seq, digest
        _write_atomically(self._head_file, f"{seq} {digest}\n")
        return entry

    def prune(self, older_than: float) -> int:
        """Remove the records written before ``older_than``, keeping the chain checkable:
        first a checkpoint record is appended that names the last removed record and its
        hash; the remaining chain then starts from that hash. Returns records removed."""
        rows = self._journal.read("SELECT seq, hash FROM audit WHERE time < ? "
                                  "ORDER BY seq DESC LIMIT 1", (older_than,))
        if not rows:
            return 0
        through, digest = rows[0]
        first = self._journal.read("SELECT MIN(seq) FROM audit")[0][0]
        self.append({"checkpoint": "pruned", "through": through, "hash": digest,
                     "records": through - first + 1,
                     "policy": "retention: records older than the retention setting"})
        with self._journal.write() as db:
            db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
            db.execute("DELETE FROM audit WHERE seq <= ?", (through,))
            db.execute("CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN "
                       "SELECT RAISE(ABORT, 'the audit log is append-only'); END")
        log.info("audit log: records %d-%d pruned; checkpoint %d carries their hash", first,
                 through, self._seq)
        return int(through - first + 1)

    def entries(self, since: float = 0.0, limit: int = 1000) -> list[AuditEntry]:
        rows = self._journal.read(
            "SELECT seq, time, record, prev, hash FROM (SELECT * FROM audit WHERE time >= ? "
            "ORDER BY seq DESC LIMIT ?) ORDER BY seq", (since, limit))
        return [AuditEntry(s, t, json.loads(r), p, h) for s, t, r, p, h in rows]

    def verify(self) -> tuple[bool, str, int]:
        """Recompute the chain: (intact, what is wrong or "ok", records checked)."""
        rows = self._journal.read("SELECT seq, time, record, prev, hash FROM audit "
                                  "ORDER BY seq")
        prev, expected_seq, count = GENESIS, 1, 0
        if rows and rows[0][0] != 1:  # pruned: a checkpoint must vouch for the start
            start = rows[0][0]
            vouched = [r for r in rows if _checkpoint_through(r[2]) == start - 1]
            if not vouched:
                return False, (f"records 1-{start - 1} are missing and no checkpoint says "
                               "they were pruned"), 0
            prev, expected_seq = json.loads(vouched[-1][2])["hash"], start
        for seq, when, text, stored_prev, digest in rows:
            if seq != expected_seq:
                return False, f"record {expected_seq} is missing (next is {seq})", count
            if stored_prev != prev:
                return False, f"record {seq} does not follow record {seq - 1}", count
            if _digest(seq, when, text, prev) != digest:
                return False, f"record {seq} was changed after it was written", count
            prev, expected_seq, count = digest, seq + 1, count + 1
        last = expected_seq - 1  # the chain's last record (pruned ones counted)
        head = _read_head(self._head_file)
        if head is None and last:
            return False, (f"{self._head_file.name} is missing or unreadable, so the end of "
                           f"the log ({last} records) cannot be checked: records may have "
                           "been removed from the end"), count
        if head is not None and head != (last, prev):
            return False, (f"the log ends at record {last} but record {head[0]} was "
                           "written: records were removed from the end"), count
        return True, "ok", count


def _checkpoint_through(text: str) -> int | None:
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if isinstance(record, dict) and record.get("checkpoint") == "pruned":
        through = record.get("through")
        return through if isinstance(through, int) else None
    return None


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}") from None


def _read_head(path: Path) -> tuple[int, str] | None:
    try:
        seq, digest = path.read_text().split()
        return int(seq), digest
    except (OSError, ValueError):
        return None
