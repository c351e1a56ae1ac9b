"""The D-Bus API, driven by real clients (gdbus, busctl) against the real daemon."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from dbus_fast import Variant
from testkit.bus import AGENTCTL, Bus, Daemon
from testkit.helpers import (
    AGENT_PATH,
    answer_in_terminal,
    dbus_error,
    gdbus_ask,
    raw_call,
    run_in_terminal,
    task_json,
    wait_state,
)

from agentd.tools.catalogue import CATALOGUE

pytestmark = pytest.mark.daemon


def test_ask_clock_time_end_to_end(bus: Bus, daemon: Daemon) -> None:
    path = gdbus_ask(bus, "What time is it?")
    assert re.fullmatch(r"/io/agentd/Agent1/task/\d+", path)
    task = wait_state(bus, path)
    assert task["state"] == "done"
    assert task["tier"] == "templates"
    assert [s["tool"] for s in task["steps"]] == ["clock.time"]
    assert re.match(r"It is \d\d:\d\d on ", task["reply"])


def test_caller_identity_is_recorded(bus: Bus, daemon: Daemon) -> None:
    task = wait_state(bus, gdbus_ask(bus, "what time is it"))
    caller = task["caller"]
    assert caller["exe"].endswith("gdbus")
    assert caller["pid"] > 0 and caller["uid"] >= 0
    assert caller["bus_name"].startswith(":")


def test_list_tools_has_the_whole_catalogue(bus: Bus, daemon: Daemon) -> None:
    out = bus.gdbus_call(AGENT_PATH, "io.agentd.Agent1.ListTools")
    assert out.returncode == 0, out.stderr
    for spec in CATALOGUE:
        assert f"'{spec.name}'" in out.stdout


def test_tool_without_adapter_fails_with_named_error(bus: Bus, daemon: Daemon) -> None:
    task = wait_state(bus, gdbus_ask(bus, "take a screenshot"))
    assert task["state"] == "failed"
    (step,) = task["steps"]
    assert step["tool"] == "screen.capture" and step["state"] == "failed"
    assert step["error"].startswith("io.agentd.Error.Unavailable: ")
    assert "screen" in step["error"]


def test_unmatched_request_gets_empty_plan_and_honest_reply(bus: Bus, daemon: Daemon) -> None:
    task = wait_state(bus, gdbus_ask(bus, "order me a pizza with extra cheese"))
    assert task["state"] == "done"
    assert task["steps"] == []
    assert task["reply"].startswith("I can't do that yet. (No model to ask: no language model")


def test_multi_command_runs_steps_in_order(bus: Bus, daemon: Daemon) -> None:
    task = wait_state(bus, gdbus_ask(bus, "set a timer for 10 minutes and then what time is it"))
    assert [s["tool"] for s in task["steps"]] == ["timer.start", "clock.time"]
    assert [s["state"] for s in task["steps"]] == ["done", "done"]
    assert task["reply"].startswith("Started a timer for 10 minutes.")


def test_dry_run_option_plans_without_acting(bus: Bus, daemon: Daemon) -> None:
    task = wait_state(bus, gdbus_ask(bus, "text mom I'm late", "{'dry_run': <true>}"))
    assert task["state"] == "done"
    assert [(s["tool"], s["args"], s["state"]) for s in task["steps"]] == [
        ("sms.send", {"to": "mom", "text": "I'm late"}, "planned")]
    assert task["reply"] == "Would: Send a text message to mom: “I'm late”."


# -- bad input: named errors, and the daemon stays up ------------------------------------


def test_empty_request(bus: Bus, daemon: Daemon) -> None:
    for text in ("", "   \n\t "):
        out = bus.gdbus_call(AGENT_PATH, "io.agentd.Agent1.Ask", text, "{}")
        assert dbus_error(out.stderr) == "io.agentd.Error.InvalidRequest"
        assert "empty" in out.stderr


def test_huge_request(bus: Bus, daemon: Daemon) -> None:
    out = bus.gdbus_call(AGENT_PATH, "io.agentd.Agent1.Ask", "a" * 5000, "{}")
    assert dbus_error(out.stderr) == "io.agentd.Error.InvalidRequest"
    assert "5000 bytes; the limit is 4096" in out.stderr


def test_binary_looking_request(bus: Bus, daemon: Daemon) -> None:
    out = bus.busctl("call", "io.agentd.Agent1", AGENT_PATH, "io.agentd.Agent1", "Ask",
                     "sa{sv}", "set a timer\x01\x02\x1b[0m", "0")
    assert out.returncode != 0 and "control" in out.stderr
    error, text = raw_call(bus, "Ask", "sa{sv}", ["\x7fELF\x02\x01\x01", {}])
    assert error == "io.agentd.Error.InvalidRequest"
    assert "U+007F" in text


def test_wrong_signature(bus: Bus, daemon: Daemon) -> None:
    out = bus.busctl("call", "io.agentd.Agent1", AGENT_PATH, "io.agentd.Agent1", "Ask",
                     "i", "42")
    assert out.returncode != 0 and "takes (sa{sv}), not (i)" in out.stderr
    assert raw_call(bus, "Ask", "i", [42]) == (
        "io.agentd.Error.InvalidRequest", "io.agentd.Agent1.Ask takes (sa{sv}), not (i)")
    error, _ = raw_call(bus, "ListTasks", "s", ["extra"])
    assert error == "io.agentd.Error.InvalidRequest"
    error, _ = raw_call(bus, "Confirm", "u", [1], path="/io/agentd/Agent1/task/1",
                        interface="io.agentd.Task1")
    assert error == "io.agentd.Error.NotFound"


def test_unknown_and_mistyped_options(bus: Bus, daemon: Daemon) -> None:
    out = bus.gdbus_call(AGENT_PATH, "io.agentd.Agent1.Ask", "what time is it",
                         "{'sudo': <true>}")
    assert dbus_error(out.stderr) == "io.agentd.Error.InvalidRequest"
    assert "unknown option 'sudo'" in out.stderr
    out = bus.gdbus_call(AGENT_PATH, "io.agentd.Agent1.Ask", "what time is it",
                         "{'dry_run': <'yes'>}")
    assert dbus_error(out.stderr) == "io.agentd.Error.InvalidRequest"
    assert "must be bool" in out.stderr


def test_unknown_task_paths(bus: Bus, daemon: Daemon) -> None:
    for path in ("/io/agentd/Agent1/task/99999", "/io/agentd/Agent1/task/abc"):
        out = bus.gdbus_call(path, "io.agentd.Task1.Cancel")
        assert dbus_error(out.stderr) == "io.agentd.Error.NotFound"
    out = bus.agentctl("task", "424242")
    assert out.returncode == 1 and "there is no task" in out.stderr


def test_daemon_survives_bad_input(bus: Bus, daemon: Daemon) -> None:
    invalid = "io.agentd.Error.InvalidRequest"
    bad: list[tuple[str, str, list[Any], str]] = [("Ask", "sa{sv}", ["", {}], invalid),
           ("Ask", "s", ["x"], invalid),
           ("Ask", "sa{sv}", ["x" * 100_000, {}], invalid),
           ("Ask", "sa{sv}", ["hi", {"dry_run": Variant("s", "no")}], invalid),
           ("Ask", "sa{sv}", ["hi", {f"k{i}": Variant("b", True) for i in range(500)}], invalid),
           ("Ask", "ay", [b"\xff\xfe"], invalid),
           ("ListTools", "i", [1], invalid),
           ("Nope", "", [], "org.freedesktop.DBus.Error.UnknownMethod")]
    for member, signature, body, expected in bad:
        error, text = raw_call(bus, member, signature, body)
        assert error == expected, (member, signature, text)
        assert text
    assert daemon.alive()
    task = wait_state(bus, gdbus_ask(bus, "what time is it"))
    assert task["state"] == "done"


# -- confirmation floor ---------------------------------------------------------------------


def test_external_step_waits_and_deny_skips_it(bus: Bus, daemon: Daemon) -> None:
    path = gdbus_ask(bus, "text mom I'm running late")
    task = wait_state(bus, path, "awaiting-confirmation")
    assert task["steps"][0]["state"] == "awaiting-confirmation"
    # Another connection (this gdbus is not the one that asked) may not answer for it.
    out = bus.gdbus_call(path, "io.agentd.Task1.Deny")
    assert dbus_error(out.stderr) == "io.agentd.Error.PermissionDenied"
    assert bus.agentctl("deny", path.rsplit("/", 1)[1]).returncode == 0  # the user may
    task = wait_state(bus, path)
    assert task["state"] == "cancelled"
    assert task["steps"][0]["state"] == "denied"
    assert "Not done: you did not allow “Send a text message to mom" in task["reply"]


def test_confirmed_step_runs(bus: Bus, daemon: Daemon) -> None:
    path = gdbus_ask(bus, "call mom")
    wait_state(bus, path, "awaiting-confirmation")
    assert answer_in_terminal(bus, path) == "Confirmed."
    task = wait_state(bus, path)
    # It ran (and failed honestly: no telephony backend on this machine).
    (step,) = task["steps"]
    assert step["confirmed"] is True
    assert step["state"] == "failed" and "Unavailable" in step["error"]
    # Confirming again is an error with a name, not a crash.
    code, seen = run_in_terminal(bus, [AGENTCTL, "confirm", path.rsplit("/", 1)[1]])
    assert code == 2 and b"is failed, not awaiting confirmation" in seen, seen


def test_cancel_while_awaiting_confirmation(bus: Bus, daemon: Daemon) -> None:
    path = gdbus_ask(bus, "call 555 0100")
    wait_state(bus, path, "awaiting-confirmation")
    assert bus.agentctl("cancel", path.rsplit("/", 1)[1]).returncode == 0
    task = wait_state(bus, path)
    assert task["state"] == "cancelled"
    assert task["steps"][0]["state"] == "not-run"


def test_no_answer_in_time_means_denied(bus: Bus) -> None:
    d = Daemon(bus, {"AGENTD_CONFIRMATION_TIMEOUT_S": "0.5"}).start()
    try:
        task = wait_state(bus, gdbus_ask(bus, "call mom"))
        assert task["state"] == "cancelled"
        assert task["steps"][0]["state"] == "denied"
    finally:
        d.kill()


def test_queue_is_bounded(bus: Bus) -> None:
    d = Daemon(bus, {"AGENTD_MAX_ACTIVE_TASKS": "2"}).start()
    try:
        first = [gdbus_ask(bus, f"call {n}") for n in ("mom", "dad")]
        for path in first:
            wait_state(bus, path, "awaiting-confirmation")
        out = bus.gdbus_call(AGENT_PATH, "io.agentd.Agent1.Ask", "what time is it", "{}")
        assert dbus_error(out.stderr) == "io.agentd.Error.Busy"
        assert "limit 2" in out.stderr
        bus.agentctl("deny", first[0].rsplit("/", 1)[1])
        wait_state(bus, first[0])
        assert wait_state(bus, gdbus_ask(bus, "what time is it"))["state"] == "done"
    finally:
        d.kill()


def test_tasks_of_the_journal_stay_listed(bus: Bus, daemon: Daemon) -> None:
    paths = [gdbus_ask(bus, "what time is it") for _ in range(3)]
    for path in paths:
        wait_state(bus, path)
    # ListTasks lists a program's own tasks: each gdbus call was a new connection...
    out = bus.gdbus_call(AGENT_PATH, "io.agentd.Agent1.ListTasks")
    assert out.stdout.strip() == "(@ao [],)"
    # ...and every task for the user's agentctl.
    listed = [t["task"] for t in json.loads(bus.agentctl("--json", "tasks").stdout)]
    for path in paths:
        assert path in listed
    assert task_json(bus, paths[0].rsplit("/", 1)[1])["request"] == "what time is it"


def test_bus_policy_lets_only_the_api_through(bus: Bus, daemon: Daemon) -> None:
    error, _ = raw_call(bus, "Set", "ssv", ["io.agentd.Agent1", "State",
                                             Variant("s", "hacked")],
                        interface="org.freedesktop.DBus.Properties")
    assert error == "org.freedesktop.DBus.Error.AccessDenied"
    error, _ = raw_call(bus, "Frobnicate", "", [], interface="org.example.Other")
    assert error == "org.freedesktop.DBus.Error.AccessDenied"
    error, _ = raw_call(bus, "Get", "ss", ["io.agentd.Agent1", "Version"],
                              interface="org.freedesktop.DBus.Properties")
    assert error == ""


def test_per_caller_quota(bus: Bus) -> None:
    """One program cannot fill agentd with unanswered questions: past its quota, Busy
    names the limit, and other programs still get in."""
    import asyncio

    from dbus_fast import Message, MessageType
    from dbus_fast.aio import MessageBus

    d = Daemon(bus, {"AGENTD_MAX_TASKS_PER_CALLER": "2"}).start()

    async def scenario() -> list[str]:
        flooder = await MessageBus(bus_address=bus.address).connect()
        errors = []
        for _ in range(3):
            reply = await flooder.call(Message(
                destination="io.agentd.Agent1", path=AGENT_PATH, interface="io.agentd.Agent1",
                member="Ask", signature="sa{sv}", body=["call mom", {}]))
            assert reply is not None
            errors.append(reply.body[0] if reply.message_type is MessageType.ERROR else "")
        flooder.disconnect()
        return errors

    try:
        errors = asyncio.run(scenario())
        assert errors[:2] == ["", ""]
        assert "max_tasks_per_caller = 2" in errors[2]
        assert wait_state(bus, gdbus_ask(bus, "what time is it"))["state"] == "done"
    finally:
        d.kill()
