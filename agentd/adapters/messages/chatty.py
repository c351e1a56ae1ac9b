"""Backend "chatty": the text messages Chatty (Phosh's messaging app) keeps.

Chatty 0.7 stores every SMS it takes from ModemManager (and then deletes from the modem)
in ``~/.purple/chatty/db/chatty-history.db`` (chatty-application.c: libpurple's user
folder, ``purple_user_dir()``, is ``~/.purple``), schema version 4 (chatty-history.c,
``chatty_history_create_schema``). A received SMS is a row of ``messages`` with
``direction`` 1, ``body`` its text and ``time`` its timestamp in Unix seconds, in a
``threads`` row named after the sender's number (E.164 when Chatty could parse it, else as
the modem gave it: a short code or a sender ID such as "DHL"), whose account has the SMS
protocol (``accounts.protocol`` 1, 2 for MMS); ``sender_id`` points at the sender's
``users`` row. Hidden and blocked threads are left out, as Chatty's chat list does.

The file is Chatty's: agentd only reads it, without ever locking it
(``agentd.adapters.messages.snapshot``), because Chatty's writes fail when a reader holds
a lock at the moment it commits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

from agentd.adapters.base import Availability
from agentd.adapters.messages import CAPABILITY, SenderMatch, TextMessage
from agentd.adapters.messages.snapshot import read_snapshot

HISTORY = Path(".purple", "chatty", "db", "chatty-history.db")
WHAT = "Chatty's message history"
# chatty-history.c: MESSAGE_DIRECTION_IN, PROTOCOL_MMS_SMS and PROTOCOL_MMS,
# THREAD_VISIBILITY_HIDDEN and THREAD_VISIBILITY_BLOCKED.
DIRECTION_IN = 1
SMS_PROTOCOLS = (1, 2)
HIDDEN_OR_BLOCKED = (1, 3)
KNOWN_VERSION = 4  # Chatty 0.7's schema; another is read if it has the columns below
RECEIVED = f"""
SELECT messages.time, messages.body, coalesce(messages.subject, ''),
       coalesce(users.username, threads.name), threads.name
FROM messages
JOIN threads ON threads.id = messages.thread_id
JOIN accounts ON accounts.id = threads.account_id
LEFT JOIN users ON users.id = messages.sender_id
WHERE messages.direction = {DIRECTION_IN}
  AND accounts.protocol IN {SMS_PROTOCOLS}
  AND threads.visibility NOT IN {HIDDEN_OR_BLOCKED}
  AND (:any OR wanted(coalesce(users.username, threads.name)))
ORDER BY messages.time DESC, messages.id DESC
LIMIT :limit
"""


class ChattyHistory:
    name = "chatty"
    capability = CAPABILITY
    test = False

    def __init__(self, path: Path, wait_s: float = 2.0) -> None:
        self.path = path
        self.wait_s = wait_s

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> ChattyHistory:
        return cls(Path(env.get("HOME") or Path.home()) / HISTORY)

    async def availability(self) -> Availability:
        if not self.path.exists():
            return Availability.no(f"no Chatty history at {self.path} (Chatty, the Phosh "
                                   "messaging app, makes it when it first starts)")
        return Availability.yes(f"Chatty's history at {self.path}")

    async def received(self, limit: int, sender: SenderMatch | None = None
                       ) -> list[TextMessage]:
        return await asyncio.to_thread(self._received, limit, sender)

    def _received(self, limit: int, sender: SenderMatch | None) -> list[TextMessage]:
        def read(connection: sqlite3.Connection) -> list[tuple[int, str, str, str, str]]:
            _check_layout(connection)
            connection.create_function("wanted", 1, lambda s: bool(sender and sender(
                str(s or ""))), deterministic=True)
            rows = connection.execute(RECEIVED, {"any": sender is None, "limit": limit})
            return list(rows.fetchall())

        rows = read_snapshot(self.path, read, WHAT, self.wait_s)
        return [TextMessage(str(who), _text(body, subject), _time(when), str(thread))
                for when, body, subject, who, thread in rows]


def _check_layout(connection: sqlite3.Connection) -> None:
    """A ``DatabaseError`` naming what is missing when the file is not Chatty's layout."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    columns = {(table, row[1]) for table in ("messages", "threads", "accounts", "users")
               for row in connection.execute(f"PRAGMA table_info({table})")}
    needed = {("messages", c) for c in ("time", "body", "subject", "direction",
                                        "thread_id", "sender_id")}
    needed |= {("threads", c) for c in ("name", "account_id", "visibility")}
    needed |= {("accounts", "protocol"), ("users", "username")}
    missing = sorted(f"{t}.{c}" for t, c in needed - columns)
    if missing:
        raise sqlite3.DatabaseError(
            f"not the layout agentd reads (schema version {version}; agentd knows "
            f"{KNOWN_VERSION}, Chatty 0.7's): no {', '.join(missing)}")


def _text(body: object, subject: object) -> str:
    text = str(body or "").strip()
    subject = str(subject or "").strip()
    if subject and text:
        return f"{subject}: {text}"
    return text or subject or "(no text: an attachment)"


def _time(seconds: object) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(int(str(seconds)), dt.UTC)
    except (ValueError, OverflowError, OSError):
        return dt.datetime.fromtimestamp(0, dt.UTC)
