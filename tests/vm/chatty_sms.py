"""SMS written into Chatty's history database with Chatty 0.7's own statements.

Without a modem Chatty cannot receive an SMS itself; ``ChattySms`` runs the statements
Chatty 0.7 runs for one (chatty-history.c, ``history_add_message``: the thread's owner
and account, ``insert_or_ignore_thread``, the member and sender ``users`` rows, then the
``messages`` row), one transaction each, on a connection without a busy timeout, as
Chatty's. The database itself is always Chatty's: made by the real Chatty, never a
schema typed here. The tests (``testkit.chatty``) and the phone image's scenarios
(``scenarios.py``, installed next to this file) both use it, so it needs only the
standard library.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path

CHATTY_VERSION = 4  # chatty-history.c HISTORY_VERSION in Chatty 0.7
MM_NUMBER = "invalid-0000000000000000"  # chatty-history.c: the SMS account's user
ID_PHONE, PROTOCOL_MMS_SMS, DIRECT_CHAT, TYPE_TEXT = 1, 1, 0, 1
IN, OUT, STATUS_SENT = 1, -1, 3


class ChattySms:
    """Writes SMS into a Chatty history database with Chatty 0.7's own statements."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def receive(self, number: str, text: str, when: dt.datetime) -> None:
        """An SMS from ``number`` (as Chatty stores it: E.164, or a sender ID)."""
        self._add(number, text, when, IN)

    def receive_many(self, messages: list[tuple[str, str, dt.datetime]]) -> None:
        """Many SMS at once, each with Chatty's statements, in one transaction (a long
        history in a moment)."""
        db = sqlite3.connect(self.db, timeout=0, isolation_level=None)
        try:
            db.execute("BEGIN TRANSACTION;")
            for number, text, when in messages:
                self._insert(db, number, text, when, IN)
            db.execute("END TRANSACTION;")
        finally:
            db.close()

    def send(self, number: str, text: str, when: dt.datetime) -> None:
        """An SMS the user sent to ``number``."""
        self._add(number, text, when, OUT)

    def _add(self, number: str, text: str, when: dt.datetime, direction: int) -> None:
        # No busy timeout, as Chatty's sqlite3_open; one transaction per message.
        db = sqlite3.connect(self.db, timeout=0, isolation_level=None)
        try:
            db.execute("BEGIN TRANSACTION;")
            self._insert(db, number, text, when, direction)
            db.execute("END TRANSACTION;")
        finally:
            db.close()

    def _insert(self, db: sqlite3.Connection, number: str, text: str, when: dt.datetime,
                direction: int) -> None:
        """history_add_message's statements for one SMS."""
        thread = self._thread(db, number)
        # history_add_message: an outgoing message's sender is the chat's own user.
        who = MM_NUMBER if direction == OUT else number
        sender = self._user(db, who)
        if direction == IN:
            db.execute("INSERT OR IGNORE INTO thread_members(thread_id,user_id) "
                       "VALUES(?1,?2)", (thread, sender))
        db.execute(
            "INSERT INTO messages(uid,thread_id,sender_id,body,body_type,direction,time,"
            "preview_id,encrypted,status,subject) VALUES(?1,?2,?3,?4,?5,?6,?7,?9,?10,?11,"
            "?12) ON CONFLICT (uid,thread_id,body,time) DO UPDATE SET status=?11",
            (str(uuid.uuid4()), thread, sender, text, TYPE_TEXT, direction,
             int(when.timestamp()), None, None, 0,
             STATUS_SENT if direction == OUT else None, None))

    @staticmethod
    def _user(db: sqlite3.Connection, who: str) -> int:
        """insert_or_ignore_user: a phone user (type 1), its alias left as it is."""
        db.execute("INSERT OR IGNORE INTO users(username,type,alias) VALUES(?1,?2,?3) "
                   "ON CONFLICT(username,type) DO UPDATE SET alias=coalesce(?3,alias)",
                   (who, ID_PHONE, None))
        (user,) = db.execute("SELECT users.id FROM users WHERE users.username=? AND type=?;",
                             (who, ID_PHONE)).fetchone()
        return int(user)

    def _thread(self, db: sqlite3.Connection, number: str) -> int:
        """insert_or_ignore_thread for a one-to-one SMS chat named after ``number``."""
        owner = self._user(db, MM_NUMBER)
        db.execute("INSERT OR IGNORE INTO accounts(user_id,protocol) VALUES(?,?);",
                   (owner, PROTOCOL_MMS_SMS))
        (account,) = db.execute("SELECT accounts.id FROM accounts WHERE user_id=? AND "
                                "protocol=?;", (owner, PROTOCOL_MMS_SMS)).fetchone()
        db.execute("INSERT INTO threads(name,alias,account_id,type,visibility,encrypted,"
                   "avatar_id) VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(name,account_id,type) "
                   "DO UPDATE SET alias=?2, visibility=?5, encrypted=?6, avatar_id=?7",
                   (number, None, account, DIRECT_CHAT, 0, 0, None))
        (thread,) = db.execute("SELECT threads.id FROM threads WHERE name=? AND "
                               "account_id=? AND type=?;",
                               (number, account, DIRECT_CHAT)).fetchone()
        # The chat's one member (history_add_phone_user): named by its number.
        db.execute("INSERT OR IGNORE INTO users(username,alias,type) VALUES(?,?,1);",
                   (number, number))
        (member,) = db.execute("SELECT users.id FROM users WHERE users.username=? AND "
                               "type=1;", (number,)).fetchone()
        db.execute("INSERT OR IGNORE INTO thread_members(thread_id,user_id) VALUES(?,?);",
                   (thread, member))
        return int(thread)


def main() -> None:
    """``chatty_sms.py DB NUMBER TEXT``: one SMS from NUMBER received now (the image's
    messages scenario runs it as the phone user, so the file stays the user's)."""
    import sys

    db, number, text = sys.argv[1:4]
    ChattySms(Path(db)).receive(number, text, dt.datetime.now(dt.UTC))


if __name__ == "__main__":
    main()
