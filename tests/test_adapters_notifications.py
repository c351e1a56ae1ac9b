"""Notifications on the private session bus: send, history of other apps', clear.

The server is ``tests/support/notification_server.py``, a peer speaking the real
org.freedesktop.Notifications protocol (a real server such as mako needs a Wayland
compositor; see docs/adapters.md). The "other app" is ``notify-send`` (libnotify), a
real client; agentd sees its notifications through its bus monitor.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.bus import Bus, Daemon, wait_for
from testkit.helpers import agentctl_ask as ask
from testkit.helpers import wait_state

pytestmark = pytest.mark.services

SUPPORT = Path(__file__).parent / "support"


@pytest.fixture
def server_log(bus: Bus) -> Iterator[Path]:
    log = bus.root / "notifications.jsonl"
    server = subprocess.Popen([sys.executable, str(SUPPORT / "notification_server.py"),
                               str(log), "none"], env=bus.env, stdout=subprocess.PIPE,
                              text=True)
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    yield log
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def notify_daemon(bus: Bus, server_log: Path) -> Iterator[Daemon]:
    daemon = Daemon(bus).start()
    yield daemon
    daemon.kill(signal.SIGTERM)


def calls(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def notify_send(bus: Bus, app: str, summary: str, body: str) -> None:
    tool = shutil.which("notify-send")
    if tool is None:
        pytest.fail("notify-send is missing (apt install libnotify-bin)")
    out = bus.run(tool, "--app-name", app, summary, body)
    assert out.returncode == 0, out.stderr


def test_send_reaches_the_server(bus: Bus, notify_daemon: Daemon, server_log: Path) -> None:
    task = ask(bus, "send a notification saying buy milk")
    assert task["state"] == "done", task
    assert task["reply"] == "Showed the notification “buy milk”."
    (call,) = calls(server_log)
    assert (call["call"], call["app"], call["summary"]) == ("Notify", "agentd", "buy milk")


def test_history_of_other_apps_read_once(bus: Bus, notify_daemon: Daemon,
                                         server_log: Path) -> None:
    assert ask(bus, "read my notifications")["reply"] == "No new notifications."
    notify_send(bus, "Signal", "Alex", "Running late")
    notify_send(bus, "Calendar", "Dentist", "at 15:00")
    ask(bus, "send a notification saying not in the history")  # agentd's own: left out
    task = ask(bus, "read my notifications")
    assert task["state"] == "done", task
    assert task["reply"] == ("2 notification(s). Signal: Alex: Running late | "
                             "Calendar: Dentist: at 15:00")
    assert ask(bus, "any new notifications?")["reply"] == "No new notifications."
    notify_send(bus, "Signal", "Sam", "ok")
    assert ask(bus, "read my notifications")["reply"] == "1 notification(s). Signal: Sam: ok"


def test_clear_closes_what_is_open(bus: Bus, notify_daemon: Daemon, server_log: Path) -> None:
    notify_send(bus, "Signal", "Alex", "hi")
    ask(bus, "send a notification saying mine")
    task = ask(bus, "clear all notifications")
    assert task["reply"] == "Dismissed 2 notification(s).", task
    closed = sorted(c["id"] for c in calls(server_log)  # type: ignore[type-var]
                    if c["call"] == "CloseNotification")
    assert closed == [1, 2]
    assert ask(bus, "read my notifications")["reply"] == "No new notifications."


def test_no_server_means_unavailable(bus: Bus, daemon: Daemon) -> None:
    task = ask(bus, "send a notification saying hello")
    assert task["state"] == "failed"
    error = task["steps"][0]["error"]  # type: ignore[index]
    assert error.startswith("io.agentd.Error.Unavailable: no notifications backend works here "
                            "(freedesktop: no notification server on the session bus")
    rows = json.loads(bus.agentctl("doctor", "--json").stdout)
    (row,) = [r for r in rows if r["capability"] == "notifications"]
    assert row["backend"] == "freedesktop" and not row["available"]


def test_doctor_names_the_server(bus: Bus, notify_daemon: Daemon) -> None:
    rows = json.loads(bus.agentctl("doctor", "--json").stdout)
    (row,) = [r for r in rows if r["capability"] == "notifications"]
    assert row["available"] and row["selected"]
    assert row["reason"] == ("server agentd-test-notifications 1 (agentd); "
                             "history from a bus monitor")


# -- a real notification server: mako, in a headless phoc (wlroots) ---------------------------

HEADLESS = {"WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1"}


@pytest.fixture
def mako(bus: Bus) -> Iterator[None]:
    """mako on the private session bus, inside phoc with the headless backend."""
    missing = [t for t in ("phoc", "mako", "makoctl", "Xwayland", "notify-send")
               if shutil.which(t) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: apt install phoc mako-notifier xwayland "
                    "libnotify-bin (scripts/debian-deps.sh)")
    runtime = bus.root / "run"
    runtime.mkdir(mode=0o700)
    bus.env["XDG_RUNTIME_DIR"] = str(runtime)
    log = open(bus.root / "phoc.log", "w")  # noqa: SIM115 (closed below)
    phoc = subprocess.Popen(["phoc", "-E", "mako"], env={**bus.env, **HEADLESS},
                            stdout=log, stderr=log, start_new_session=True)
    try:
        wait_for(lambda: "mako" in bus.gdbus_call(
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications.GetServerInformation",
            dest="org.freedesktop.Notifications").stdout, timeout=20, interval=0.2)
        yield
    finally:
        os.killpg(phoc.pid, signal.SIGTERM)
        phoc.wait(timeout=10)
        log.close()


def mako_list(bus: Bus) -> list[dict[str, object]]:
    out = bus.run("makoctl", "list")
    assert out.returncode == 0, out.stderr
    return [{k: v["data"] for k, v in n.items()} for n in json.loads(out.stdout)["data"][0]]


def test_with_mako(bus: Bus, mako: None) -> None:
    daemon = Daemon(bus).start()
    try:
        rows = json.loads(bus.agentctl("doctor", "--json").stdout)
        (row,) = [r for r in rows if r["capability"] == "notifications"]
        assert row["selected"] and row["reason"].startswith("server mako "), row
        assert ask(bus, "send a notification saying buy milk")["state"] == "done"
        notify_send(bus, "Signal", "Alex", "Running late")
        shown = mako_list(bus)
        assert sorted((n["app-name"], n["summary"]) for n in shown) == [
            ("Signal", "Alex"), ("agentd", "buy milk")]
        assert ask(bus, "read my notifications")["reply"] == \
            "1 notification(s). Signal: Alex: Running late"
        assert ask(bus, "clear all notifications")["reply"] == "Dismissed 2 notification(s)."
        wait_for(lambda: mako_list(bus) == [], timeout=5)
    finally:
        daemon.kill(signal.SIGTERM)


@pytest.mark.parametrize(("action", "state", "confirmed"), [("allow", "done", True),
                                                            ("deny", "cancelled", False)])
def test_consent_through_mako_actions(bus: Bus, mako: None, action: str, state: str,
                                      confirmed: bool) -> None:
    """The confirmation notification, answered in a real notification server."""
    sent = bus.root / "sent.jsonl"
    fixture = bus.root / "fixture.json"
    fixture.write_text(json.dumps({"sent": str(sent)}))  # telephony recorded, not sent
    daemon = Daemon(bus, {"AGENTD_TEST_FIXTURE": str(fixture),
                          "AGENTD_CONFIRMATION_TIMEOUT_S": "20"}).start()
    try:
        out = bus.gdbus_call("/io/agentd/Agent1", "io.agentd.Agent1.Ask",
                             "text 555 0100 on my way", "{}")
        path = out.stdout.split("'")[1]
        question: list[dict[str, object]] = []

        def shown() -> bool:
            question[:] = [n for n in mako_list(bus) if n["app-name"] == "agentd"]
            return bool(question)

        wait_for(shown, timeout=10)
        assert question[0]["body"] == ("Send a text message to 5550100: “on my way”?\n"
                                       "“Always allow” lets /usr/bin/gdbus use sms.send "
                                       "without asking again.")
        invoke = bus.run("makoctl", "invoke", "-n", str(question[0]["id"]), action)
        assert invoke.returncode == 0, invoke.stderr
        task = wait_state(bus, path)
        assert task["state"] == state
        assert task["steps"][0]["confirmed"] is confirmed
        records = [json.loads(line) for line in sent.read_text().splitlines()] \
            if sent.exists() else []
        assert len(records) == (1 if confirmed else 0)
        wait_for(lambda: not shown(), timeout=5)  # agentd took the question away
    finally:
        daemon.kill(signal.SIGTERM)
