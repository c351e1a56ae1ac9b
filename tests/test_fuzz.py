"""Fuzzing the D-Bus surface: 10,000+ malformed calls from a real client, daemon stays up.

Hypothesis drives a dbus-fast connection against the real daemon on a private bus:
wrong signatures, wrong types, huge and binary strings, random option dictionaries,
unknown members and paths, property writes. Every call must get a reply with a name
from the expected set (never an internal error), and afterwards the daemon answers,
the journal is intact, and no task it accepted is lost.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from typing import Any

import pytest
from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from testkit.bus import Bus, Daemon

from agentd.bus.names import AGENT_IFACE, AGENT_PATH, BUS_NAME, TASK_IFACE

CALLS = 10_000
ALLOWED_ERRORS = {
    "io.agentd.Error.InvalidRequest", "io.agentd.Error.NotFound",
    "io.agentd.Error.InvalidState", "io.agentd.Error.Busy",
    "io.agentd.Error.PermissionDenied",  # another program's task, grants, the log
    "org.freedesktop.DBus.Error.UnknownMethod", "org.freedesktop.DBus.Error.UnknownProperty",
    "org.freedesktop.DBus.Error.UnknownInterface", "org.freedesktop.DBus.Error.UnknownObject",
    "org.freedesktop.DBus.Error.InvalidArgs", "org.freedesktop.DBus.Error.PropertyReadOnly",
    "org.freedesktop.DBus.Error.InvalidSignature",
    "org.freedesktop.DBus.Error.AccessDenied",  # the bus policy file, before agentd
}
# No NUL (D-Bus forbids it in strings) and no lone surrogates (not encodable).
text = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
               max_size=300) | st.text(alphabet="ab \x01\x7f\u202e\ufffd", min_size=4000,
                                       max_size=20_000)
scalar = st.one_of(
    st.tuples(st.just("s"), text), st.tuples(st.just("b"), st.booleans()),
    st.tuples(st.just("i"), st.integers(-2**31, 2**31 - 1)),
    st.tuples(st.just("u"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("x"), st.integers(-2**63, 2**63 - 1)),
    st.tuples(st.just("d"), st.floats(allow_nan=True)),
    st.tuples(st.just("ay"), st.binary(max_size=2000)),
    st.tuples(st.just("as"), st.lists(text, max_size=5)),
)

pytestmark = pytest.mark.daemon
option_key = st.sampled_from(["dry_run", "templates_only", "sudo", ""]) | text.filter(bool)
options = st.dictionaries(option_key, scalar.map(lambda t: Variant(*t)), max_size=8)
task_path = st.integers(0, 10**18).map(lambda n: f"{AGENT_PATH}/task/{n}") | st.sampled_from(
    [f"{AGENT_PATH}/task/1", f"{AGENT_PATH}/task", f"{AGENT_PATH}/nothing", "/", "/io"])


@st.composite
def calls(draw: st.DrawFn) -> Message:
    kind = draw(st.sampled_from(["ask", "agent", "task", "props", "random"]))
    if kind == "ask":
        sig = draw(st.sampled_from(["sa{sv}", "s", "", "sa{sv}s", "i"]))
        if sig == "sa{sv}":
            return _msg(AGENT_PATH, AGENT_IFACE, "Ask", sig, [draw(text), draw(options)])
        values = draw(st.lists(scalar, min_size=len(sig) and 1, max_size=3))
        return _msg(AGENT_PATH, AGENT_IFACE, "Ask", "".join(s for s, _ in values),
                    [v for _, v in values])
    if kind == "agent":
        member = draw(st.sampled_from(["ListTools", "ListTasks", "ListGrants", "RevokeGrant",
                                       "ReadLog", "VerifyLog"]))
        if member == "RevokeGrant" and draw(st.booleans()):
            return _msg(AGENT_PATH, AGENT_IFACE, member, "ss", [draw(text), draw(text)])
        if member == "ReadLog" and draw(st.booleans()):
            return _msg(AGENT_PATH, AGENT_IFACE, member, "du",
                        [draw(st.floats()), draw(st.integers(0, 2**32 - 1))])
        values = draw(st.lists(scalar, max_size=3))
        return _msg(AGENT_PATH, AGENT_IFACE, member, "".join(s for s, _ in values),
                    [v for _, v in values])
    if kind == "task":
        member = draw(st.sampled_from(["Confirm", "Deny", "Cancel", "AllowAlways"]))
        values = draw(st.lists(scalar, max_size=2))
        return _msg(draw(task_path), TASK_IFACE, member, "".join(s for s, _ in values),
                    [v for _, v in values])
    if kind == "props":
        iface = draw(st.sampled_from([AGENT_IFACE, TASK_IFACE, "org.nope.X1"]))
        prop = draw(st.sampled_from(["Version", "State", "Model", "Steps", "Nope"]))
        member = draw(st.sampled_from(["Get", "GetAll", "Set"]))
        path = draw(st.sampled_from([AGENT_PATH]) | task_path)
        if member == "Set":
            sig, value = draw(scalar)
            return _msg(path, "org.freedesktop.DBus.Properties", "Set", "ssv",
                        [iface, prop, Variant(sig, value)])
        if member == "Get":
            return _msg(path, "org.freedesktop.DBus.Properties", "Get", "ss", [iface, prop])
        return _msg(path, "org.freedesktop.DBus.Properties", "GetAll", "s", [iface])
    member = draw(st.from_regex(r"[A-Z][A-Za-z0-9_]{0,30}", fullmatch=True))
    values = draw(st.lists(scalar, max_size=3))
    return _msg(AGENT_PATH, AGENT_IFACE, member, "".join(s for s, _ in values),
                [v for _, v in values])


def _msg(path: str, iface: str, member: str, signature: str, body: list[Any]) -> Message:
    return Message(destination=BUS_NAME, path=path, interface=iface, member=member,
                   signature=signature, body=body)


@pytest.mark.slow
def test_fuzz_the_bus_api(bus: Bus) -> None:
    daemon = Daemon(bus, {"AGENTD_CONFIRMATION_TIMEOUT_S": "0.2",
                          "AGENTD_CONFIRM_BY_NOTIFICATION": "false"}).start()
    loop = asyncio.new_event_loop()

    async def connect() -> MessageBus:
        return await MessageBus(bus_address=bus.address).connect()

    conn = loop.run_until_complete(connect())
    outcomes: Counter[str] = Counter()
    accepted: list[str] = []
    bad: list[tuple[Message, str]] = []

    @settings(max_examples=CALLS, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(calls())
    def send(msg: Message) -> None:
        reply = loop.run_until_complete(asyncio.wait_for(conn.call(msg), 10))
        assert reply is not None
        if reply.message_type is MessageType.ERROR:
            outcomes[reply.error_name or "?"] += 1
            if reply.error_name not in ALLOWED_ERRORS:
                bad.append((msg, f"{reply.error_name}: {reply.body}"))
        else:
            outcomes["ok"] += 1
            if msg.member == "Ask":
                accepted.append(reply.body[0])

    try:
        send()
        assert sum(outcomes.values()) >= CALLS
        print(f"\nfuzz: {sum(outcomes.values())} calls: {dict(outcomes.most_common())}")
        assert not bad, bad[:5]
        assert daemon.alive()
        # Still answering, and nothing it accepted was lost or corrupted.
        ask = _msg(AGENT_PATH, AGENT_IFACE, "Ask", "sa{sv}", ["what time is it", {}])
        reply = loop.run_until_complete(conn.call(ask))
        assert reply is not None and reply.message_type is MessageType.METHOD_RETURN
    finally:
        conn.disconnect()
        loop.close()
    daemon.kill()
    db = sqlite3.connect(bus.root / "state" / "agentd" / "journal.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    ids = {int(p.rsplit("/", 1)[1]) for p in accepted}
    stored = dict(db.execute("SELECT id, state FROM tasks").fetchall())
    assert ids <= set(stored), "a task the daemon accepted is missing from the journal"
    unfinished = [i for i in ids if stored[i] not in ("done", "failed", "cancelled")]
    assert len(unfinished) <= 1, unfinished  # at most the last one, killed mid-flight
