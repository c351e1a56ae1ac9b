"""The one SQLite file agentd keeps (``$XDG_STATE_HOME/agentd/journal.sqlite3``).

Each store creates and writes its own tables in it: the journal (tasks and steps,
``journal.py``), timers (``timers.py``), grants (``grants.py``) and the audit log
(``audit.py``). All writes commit before the call returns (WAL, ``synchronous=FULL``):
kill -9 loses nothing. A full disk or a damaged file is ``StorageError``
(``io.agentd.Error.StorageFailed``), never a lost journal.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentd.errors import AgentError

SCHEMA_VERSION = 1


class StorageError(AgentError):
    """The journal cannot be written: the disk is full or the file is damaged."""

    name = "StorageFailed"


class Database:
    """The open file, its transactions, and the schema each store adds (``ensure``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StorageError(f"{path} was written by a newer agentd (schema {version}); "
                                   "upgrade agentd or move the file away")
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open the task journal {path}: {exc}. Move the file "
                               "away to start with an empty journal") from None

    def ensure(self, schema: str) -> None:
        """Create a store's tables (``CREATE ... IF NOT EXISTS``)."""
        try:
            self._db.executescript(schema)
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open the task journal {self.path}: {exc}. Move the "
                               "file away to start with an empty journal") from None

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
        except sqlite3.OperationalError as exc:
            if "full" in str(exc):
                raise StorageError(f"the disk holding {self.path.parent} is full; agentd "
                                   "cannot record tasks. Free some space and try again") from None
            raise StorageError(f"cannot write the task journal {self.path}: {exc}") from None

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, params).fetchall()
