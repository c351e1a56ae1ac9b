"""Reading another program's SQLite file without ever taking a lock on it.

Chatty opens its history with ``sqlite3_open`` and sets no busy timeout (chatty-history.c,
``history_open_db``), in SQLite's default rollback-journal mode. A reader holding the
usual shared lock at the moment Chatty commits makes that commit fail at once with
SQLITE_BUSY; Chatty does not retry, and the message stays in an open transaction that a
restart of Chatty rolls back (after it was deleted from the modem). So agentd never locks
the file: it opens it ``immutable`` (no locks, no change detection) and checks around the
read that nothing wrote to it meanwhile, reading again when something did.

In rollback-journal mode the database file changes only while a ``-journal`` file with
content exists beside it (it holds the old pages until the commit or rollback is done),
and every commit changes the file's header (its change counter) and modification time. A
read counts when, before and after it, there is no journal and the header, size, inode and
modification time are the same. A writer that is in the middle of a transaction makes the
read wait (polling, never blocking it) up to ``wait_s``, then ``Busy``; a journal left
behind by a crash does the same until the owning program opens the file again.

A database in WAL mode (header bytes 18-19 are 2) is read the ordinary way, read-only with
a busy timeout: in WAL mode readers never block the writer.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from agentd.errors import Busy, Unavailable

T = TypeVar("T")
HEADER = b"SQLite format 3\x00"
HEADER_BYTES = 100
POLL_S = 0.02


@dataclass(frozen=True)
class FileState:
    """What must not change while a read runs."""

    inode: int
    size: int
    mtime_ns: int
    header: bytes
    journal: bool  # a rollback journal with content exists: a write is under way

    @property
    def wal(self) -> bool:
        return self.header[18:20] == b"\x02\x02"

    @property
    def user_version(self) -> int:
        return int.from_bytes(self.header[60:64], "big")


def file_state(path: Path) -> FileState:
    """The database file's state; ``OSError`` when it cannot be read."""
    with open(path, "rb") as file:
        stat = os.fstat(file.fileno())
        header = file.read(HEADER_BYTES)
    try:
        journal = os.stat(f"{path}-journal").st_size > 0
    except FileNotFoundError:
        journal = False
    return FileState(stat.st_ino, stat.st_size, stat.st_mtime_ns, header, journal)


def read_snapshot(path: Path, read: Callable[[sqlite3.Connection], T], what: str,
                  wait_s: float = 2.0) -> T:
    """``read(connection)`` on a consistent state of the SQLite file ``path``, taking no
    lock on it. ``what`` names the file in errors ("Chatty's message history").

    ``Unavailable`` when the file is missing, unreadable or not a database (or ``read``
    finds it damaged); ``Busy`` when a write stays under way for ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        before = _state(path, what)
        if before.wal:
            return _read_wal(path, read, what, wait_s)
        if not before.journal:
            error: sqlite3.DatabaseError | None = None
            try:
                result = _read_immutable(path, read)
            except sqlite3.DatabaseError as exc:  # a torn read, or a damaged file
                error = exc
            if _state(path, what) == before:
                if error is not None:
                    raise Unavailable(f"{what} at {path} cannot be read: {error}") from None
                return result
        if time.monotonic() >= deadline:
            raise Busy(f"{what} at {path} is being written and stayed so for {wait_s:g} s "
                       "(a journal file is beside it); ask again in a moment. If it stays, "
                       "a crash left it half-written: opening the app that owns it "
                       "finishes or undoes that write")
        time.sleep(POLL_S)


def _state(path: Path, what: str) -> FileState:
    try:
        state = file_state(path)
    except FileNotFoundError:
        raise Unavailable(f"{what} is not there ({path} does not exist)") from None
    except OSError as exc:
        raise Unavailable(f"{what} at {path} cannot be read: {exc.strerror or exc}") \
            from None
    if not state.header.startswith(HEADER):
        raise Unavailable(f"{what} at {path} is not an SQLite database "
                          f"({state.size} bytes that do not start with its header)")
    return state


def _uri(path: Path, **options: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in options.items())
    return f"{path.absolute().as_uri()}?{query}"


def _read_immutable(path: Path, read: Callable[[sqlite3.Connection], T]) -> T:
    connection = sqlite3.connect(_uri(path, mode="ro", immutable="1"), uri=True)
    try:
        return read(connection)
    finally:
        connection.close()


def _read_wal(path: Path, read: Callable[[sqlite3.Connection], T], what: str,
              wait_s: float) -> T:
    try:
        connection = sqlite3.connect(_uri(path, mode="ro"), uri=True, timeout=wait_s)
    except sqlite3.Error as exc:
        raise Unavailable(f"{what} at {path} cannot be opened: {exc}") from None
    try:
        return read(connection)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise Busy(f"{what} at {path} stayed locked for {wait_s:g} s; ask again in a "
                       "moment") from None
        raise Unavailable(f"{what} at {path} cannot be read: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise Unavailable(f"{what} at {path} cannot be read: {exc}") from None
    finally:
        connection.close()
