"""Chatty's SMS history for tests: the database made by the real Chatty, and messages
written into it the way Chatty writes them.

``make_history`` runs the installed Chatty (Debian's chatty 0.7, a GTK 3 app) headless
on the test's private session bus in a headless phoc, with ``HOME`` the test's, until it
has created ``~/.purple/chatty/db/chatty-history.db`` with its schema; the schema is
Chatty's own, never typed here. ``ChattySms`` then adds messages with the statements
Chatty 0.7 runs for an SMS (chatty-history.c, ``history_add_message``: the thread's owner
and account, ``insert_or_ignore_thread``, the member and sender ``users`` rows, then the
``messages`` row), one transaction each, on a connection without a busy timeout, as
Chatty's. ``chatty_loaded_chats`` runs Chatty again and reads how many chats it loaded
from the file, so a test can check that Chatty itself takes those rows as its own.

Without a modem Chatty cannot receive an SMS itself; these statements stand in for
ModemManager's side only, and are checked against Chatty reading them back.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from testkit.desktop import headless_phoc

from agentd.adapters.messages.chatty import HISTORY
from agentd.adapters.messages.snapshot import file_state

CHATTY = "/usr/bin/chatty"
CHATTY_VERSION = 4  # chatty-history.c HISTORY_VERSION in Chatty 0.7
MM_NUMBER = "invalid-0000000000000000"  # chatty-history.c: the SMS account's user
ID_PHONE, PROTOCOL_MMS_SMS, DIRECT_CHAT, TYPE_TEXT = 1, 1, 0, 1
IN, OUT, STATUS_SENT = 1, -1, 3
LOADED = re.compile(r"Loaded (\d+) chats from history db")


def chatty_env(env: dict[str, str], home: Path) -> dict[str, str]:
    """Chatty's environment: the test's bus and compositor, the test's home."""
    return {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"), "GDK_BACKEND": "wayland",
            "GSETTINGS_BACKEND": "memory", "NO_AT_BRIDGE": "1"}


@contextmanager
def running_chatty(env: dict[str, str], home: Path, log: Path,
                   *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """Chatty in daemon mode (no window) with every account disabled (``-n``); ``env``
    must hold a compositor (``headless_phoc``)."""
    if not os.access(CHATTY, os.X_OK):
        pytest.fail("Chatty is not installed (apt install chatty; scripts/debian-deps.sh)")
    with open(log, "ab") as out:
        chatty = subprocess.Popen([CHATTY, "--daemon", "-n", *args],
                                  env=chatty_env(env, home), stdout=out, stderr=out,
                                  start_new_session=True)
        try:
            yield chatty
        finally:
            os.killpg(chatty.pid, signal.SIGTERM)
            chatty.wait(timeout=10)


def make_history(env: dict[str, str], home: Path, root: Path, timeout: float = 30) -> Path:
    """``home``'s Chatty history database, created by Chatty itself."""
    db, env, log = home / HISTORY, dict(env), root / "chatty.log"
    with headless_phoc(env, root), running_chatty(env, home, log) as chatty:
        deadline = time.monotonic() + timeout
        while not _created(db):  # read without a lock: Chatty sets no busy timeout
            if chatty.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Chatty did not create {db}:\n"
                            f"{log.read_text(errors='replace')}")
            time.sleep(0.05)
    return db


def _created(db: Path) -> bool:
    try:
        state = file_state(db)
    except OSError:
        return False
    return state.user_version == CHATTY_VERSION and not state.journal


def chatty_loaded_chats(env: dict[str, str], home: Path, root: Path,
                        timeout: float = 30) -> int:
    """How many chats Chatty loads from ``home``'s history (its own trace log); ``root``
    is a fresh folder for its compositor and log."""
    root.mkdir(parents=True, exist_ok=True)
    env, log = {**env, "G_MESSAGES_DEBUG": "all"}, root / "chatty.log"
    with headless_phoc(env, root), running_chatty(env, home, log, "-vvvv") as chatty:
        deadline = time.monotonic() + timeout
        while not (found := LOADED.search(log.read_text(errors="replace"))):
            if chatty.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Chatty did not load its chats:\n{log.read_text()}")
            time.sleep(0.05)
    return int(found.group(1))


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


def copy_history(db: Path, to: Path) -> Path:
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(db, to)
    return to
