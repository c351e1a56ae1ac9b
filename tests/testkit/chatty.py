"""Chatty's SMS history for tests: the database made by the real Chatty, and messages
written into it the way Chatty writes them.

``make_history`` runs the installed Chatty (Debian's chatty 0.7, a GTK 3 app) headless
on the test's private session bus in a headless phoc, with ``HOME`` the test's, until it
has created ``~/.purple/chatty/db/chatty-history.db`` with its schema; the schema is
Chatty's own, never typed here. ``ChattySms`` (``tests/vm/chatty_sms.py``, which the
phone image's scenarios use too) then adds messages with the statements Chatty 0.7 runs
for an SMS. ``chatty_loaded_chats`` runs Chatty again and reads how many chats it loaded
from the file, so a test can check that Chatty itself takes those rows as its own.

Without a modem Chatty cannot receive an SMS itself; these statements stand in for
ModemManager's side only, and are checked against Chatty reading them back.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from testkit.desktop import headless_phoc
from vm.chatty_sms import CHATTY_VERSION, ChattySms

__all__ = ["ChattySms", "chatty_loaded_chats", "copy_history", "make_history"]

from agentd.adapters.messages.chatty import HISTORY
from agentd.adapters.messages.snapshot import file_state

CHATTY = "/usr/bin/chatty"
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


def copy_history(db: Path, to: Path) -> Path:
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(db, to)
    return to
