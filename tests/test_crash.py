"""Nothing is lost: kill -9 of the daemon, restarts, timers and alarms that outlive it."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus
from testkit.bus import AGENTCTL, AGENTD, Bus, Daemon, wait_for
from testkit.helpers import AGENT_PATH, gdbus_ask, raw_call, run_in_terminal, task_json, wait_state

from agentd.records import Caller, StepRecord, StepState, TaskState
from agentd.store.journal import Journal
from agentd.tools.registry import Risk

pytestmark = pytest.mark.daemon


def journal_path(bus: Bus) -> Path:
    return bus.root / "state" / "agentd" / "journal.sqlite3"


def test_kill_while_awaiting_confirmation_comes_back_interrupted(bus: Bus) -> None:
    daemon = Daemon(bus).start()
    path = gdbus_ask(bus, "text mom I'm running late")
    wait_state(bus, path, "awaiting-confirmation")
    daemon.kill()  # SIGKILL: no chance to clean up

    Daemon(bus).start()
    task = task_json(bus, path)  # the same object path answers after the restart
    assert task["state"] == "interrupted"
    assert task["request"] == "text mom I'm running late"
    assert task["steps"][0]["state"] == "not-run"
    assert "nothing was re-run" in task["reply"]
    listing = bus.agentctl("tasks")
    assert "interrupted" in listing.stdout and "text mom" in listing.stdout
    # Confirming it now must not send anything.
    code, seen = run_in_terminal(bus, [AGENTCTL, "confirm", path.rsplit("/", 1)[1]])
    assert code == 2 and b"is interrupted, not awaiting confirmation" in seen, seen
    assert task_json(bus, path)["steps"][0]["state"] == "not-run"


def test_step_running_at_crash_is_unknown_and_never_rerun(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    task = journal.create_task("text mom hi", {}, Caller(":1.1", 1000, 42, "/usr/bin/x"))
    task.state = TaskState.ACTING
    task.steps = [StepRecord(0, "clock.time", {}, Risk.READ, "Tell the time", StepState.DONE),
                  StepRecord(1, "sms.send", {"to": "mom", "text": "hi"}, Risk.EXTERNAL,
                             "Send a text message to mom: “hi”"),
                  StepRecord(2, "clock.time", {}, Risk.READ, "Tell the time")]
    journal.save_plan(task)
    task.steps[1].state = StepState.RUNNING
    journal.save_step(task.id, task.steps[1])
    journal.close()  # as good as a crash: nothing else is written

    reopened = Journal(tmp_path / "j.sqlite3")
    assert reopened.recover() == [task.id]
    again = reopened.load_task(task.id)
    assert again is not None
    assert again.state is TaskState.INTERRUPTED
    assert [s.state for s in again.steps] == [StepState.DONE, StepState.UNKNOWN,
                                              StepState.NOT_RUN]
    assert "Check whether this happened: Send a text message to mom" in again.reply
    assert reopened.recover() == []  # recovery is idempotent


async def _watch_timers(address: str, seconds: float) -> list[list[object]]:
    conn = await MessageBus(bus_address=address).connect()
    fired: list[list[object]] = []

    def on_message(msg: Message) -> None:
        if msg.message_type is MessageType.SIGNAL and msg.member == "TimerFired":
            fired.append(list(msg.body))

    conn.add_message_handler(on_message)
    await conn.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                            interface="org.freedesktop.DBus", member="AddMatch",
                            signature="s",
                            body=["type='signal',interface='io.agentd.Agent1'"]))
    await asyncio.sleep(seconds)
    conn.disconnect()
    return fired


def test_timer_survives_kill_and_fires_after_restart(bus: Bus) -> None:
    daemon = Daemon(bus).start()
    task = wait_state(bus, gdbus_ask(bus, "set a timer for 2 seconds called tea"))
    assert task["state"] == "done"
    daemon.kill()
    time.sleep(2.5)  # it falls due while agentd is down

    restarted = Daemon(bus).start()
    fired = asyncio.run(_watch_timers(bus.address, 1.0))
    with sqlite3.connect(journal_path(bus)) as db:
        rows = db.execute("SELECT kind, label, state FROM timers").fetchall()
    assert rows == [("timer", "tea", "fired")]
    # The signal went out at start, possibly before the watcher connected; the log says so.
    assert fired == [] or fired[0][:2] == ["timer", "tea"]
    assert "timer 1 (tea) fired" in restarted.logs()


def test_alarm_is_rearmed_after_restart(bus: Bus) -> None:
    daemon = Daemon(bus).start()
    task = wait_state(bus, gdbus_ask(bus, "wake me up at 6:30 am"))
    assert task["steps"][0]["args"] == {"time": "06:30"}
    daemon.kill()
    # Pretend the clock moved on: the alarm falls due a moment after the restart.
    with sqlite3.connect(journal_path(bus)) as db:
        db.execute("UPDATE timers SET due=? WHERE kind='alarm'", (time.time() + 1.5,))
    Daemon(bus).start()
    fired = asyncio.run(_watch_timers(bus.address, 3.0))
    assert fired and fired[0][:2] == ["alarm", ""]
    with sqlite3.connect(journal_path(bus)) as db:
        assert db.execute("SELECT state FROM timers").fetchall() == [("fired",)]


def test_cancelled_timer_does_not_fire_after_restart(bus: Bus) -> None:
    daemon = Daemon(bus).start()
    wait_state(bus, gdbus_ask(bus, "set a timer for 1 second"))
    # (it fires, then a second one is started and cancelled)
    wait_for(lambda: "fired" in daemon.logs())
    wait_state(bus, gdbus_ask(bus, "set an egg timer for 2 seconds"))
    assert wait_state(bus, gdbus_ask(bus, "cancel the egg timer"))["state"] == "done"
    daemon.kill()
    time.sleep(2.2)
    restarted = Daemon(bus).start()
    time.sleep(0.5)
    assert "egg) fired" not in restarted.logs()
    with sqlite3.connect(journal_path(bus)) as db:
        states = dict(db.execute("SELECT label, state FROM timers").fetchall())
    assert states == {"": "fired", "egg": "cancelled"}


def test_dbus_activation_starts_agentd(bus: Bus) -> None:
    bus.install_activation_file()
    out = bus.agentctl("status")
    assert out.returncode == 0, out.stderr
    assert "agentd 0.1.0: ready" in out.stdout
    assert bus.name_has_owner()
    bus.gdbus_call(AGENT_PATH, "org.freedesktop.DBus.Peer.Ping")


def test_agentctl_says_how_to_start_agentd(bus: Bus) -> None:
    out = bus.agentctl("ask", "what time is it")
    assert out.returncode == 3
    assert "agentd is not running" in out.stderr
    assert "systemctl --user start agentd" in out.stderr
    env = {k: v for k, v in bus.env.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["XDG_RUNTIME_DIR"] = str(bus.root / "no-runtime")
    from testkit.bus import AGENTCTL
    out2 = subprocess.run([AGENTCTL, "status"], env=env, capture_output=True, text=True,
                          timeout=30)
    assert out2.returncode == 3
    assert "dbus-run-session" in out2.stderr


def test_corrupt_journal_is_a_clear_error(bus: Bus) -> None:
    path = journal_path(bus)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    out = subprocess.run([AGENTD], env=bus.env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "cannot open the task journal" in out.stderr
    assert "Move the file away" in out.stderr


def test_full_disk_gives_a_named_error_and_the_daemon_stays_up(bus: Bus) -> None:
    """The journal on a 256 KiB tmpfs (own mount namespace): it fills up for real."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("unshare (util-linux) is needed for the full-disk test")
    state = bus.root / "state"
    state.mkdir()
    script = (f"mount -t tmpfs -o size=256k tmpfs {state} || exit 99; "
              f"exec {AGENTD} --debug")
    log = open(bus.root / "agentd.log", "w")  # noqa: SIM115
    process = subprocess.Popen([unshare, "--mount", "sh", "-c", script], env=bus.env,
                               stdout=log, stderr=log)
    try:
        wait_for(lambda: bus.name_has_owner() or process.poll() is not None)
        if process.poll() == 99:
            pytest.fail("cannot mount a tmpfs in a new mount namespace (needs CAP_SYS_ADMIN)")
        errors: list[tuple[str, str]] = []
        done = 0
        for n in range(300):
            error, text = raw_call(bus, "Ask", "sa{sv}", [f"what time is it {n} " + "x" * 3000,
                                                        {}])
            if error:
                errors.append((error, text))
                break
            done += 1
        assert errors, "the 256 KiB disk never filled up"
        assert errors[0][0] == "io.agentd.Error.StorageFailed"
        assert "is full" in errors[0][1] and "Free some space" in errors[0][1]
        assert done > 0
        assert process.poll() is None  # still up, still answering
        assert raw_call(bus, "ListTasks", "", [])[0] == ""
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
