"""screen.read, input.tap (by name) and input.type through AT-SPI2, against the real thing:
headless phoc, the real accessibility bus (at-spi-bus-launcher, at-spi2-registryd) and a
GTK 3 app (tests/support/a11y_app.py) exporting its widgets through the atk-bridge; the
requests go through the real agentd with agentctl."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from testkit.bus import Bus, Daemon, wait_for
from testkit.desktop import (
    SUPPORT,
    DesktopMissing,
    accessibility_bus,
    check_desktop,
    gtk_app,
    headless_phoc,
)
from testkit.helpers import ask_and_allow

from agentd.adapters.accessibility.atspi import REGISTRY, AtspiAccessibility
from agentd.adapters.accessibility.tree import ACCESSIBLE, call, read_app

pytestmark = pytest.mark.services

APP = "a11y_app.py"


def need_desktop() -> None:
    try:
        check_desktop(accessibility=True)
    except DesktopMissing as exc:
        pytest.fail(str(exc))


@pytest.fixture
def a11y_bus(bus: Bus) -> Iterator[None]:
    """phoc and the accessibility bus, no app yet."""
    need_desktop()
    with headless_phoc(bus.env, bus.root), accessibility_bus(bus.env, bus.root):
        yield


@pytest.fixture
def desktop(bus: Bus, a11y_bus: None) -> Iterator[Path]:
    """... and the GTK app; yields the file where the app records what happened to it."""
    marker = bus.root / "marker"
    marker.touch()
    with gtk_app(bus.env, bus.root, APP, str(marker)):
        yield marker


@pytest.fixture
def agentd(bus: Bus) -> Iterator[Daemon]:
    daemon = Daemon(bus).start()
    yield daemon
    daemon.kill(signal.SIGTERM)


def ask(bus: Bus, text: str) -> dict[str, Any]:
    """As the user at a terminal, saying yes to the tap or the typing (input.* asks)."""
    return ask_and_allow(bus, text)


def step_error(task: dict[str, Any]) -> str:
    (step,) = task["steps"]
    return str(step["error"])


def doctor(bus: Bus, capability: str) -> dict[str, dict[str, Any]]:
    rows = json.loads(bus.agentctl("doctor", "--json").stdout)
    return {r["backend"]: r for r in rows if r["capability"] == capability}


def test_screen_read_names_the_app_and_its_visible_text(bus: Bus, desktop: Path,
                                                         agentd: Daemon) -> None:
    task = ask(bus, "what's on the screen")
    assert task["state"] == "done", task
    (step,) = task["steps"]
    assert step["tool"] == "screen.read"
    reply = task["reply"]
    assert reply.startswith(f"Agentd Test App ({APP}) is open"), reply
    for text in ("Nothing pressed yet", "Press me (push button)", "Cancel (push button)",
                 "Message (text): ", "Setting number 1", "Setting number 20"):
        assert text in reply, (text, reply)
    assert "Hidden button" not in reply  # exists, never shown
    assert reply.index("Nothing pressed yet") < reply.index("Press me")  # tree order
    rows = doctor(bus, "accessibility")
    assert rows["atspi"]["selected"] and "1 app(s) registered" in rows["atspi"]["reason"]


def test_tap_by_name_presses_the_button(bus: Bus, desktop: Path, agentd: Daemon) -> None:
    task = ask(bus, "tap the press me button")
    assert task["state"] == "done", task
    assert task["reply"] == f"Tapped “Press me” (push button) in {APP}.", task
    wait_for(lambda: desktop.read_text() == "pressed\n")
    assert "Pressed 1 time(s)" in ask(bus, "what's on the screen")["reply"]
    task = ask(bus, "tap cancel")
    assert task["state"] == "done", task
    wait_for(lambda: desktop.read_text() == "pressed\ncancelled\n")


def test_unknown_target_is_not_found_with_close_names(bus: Bus, desktop: Path,
                                                      agentd: Daemon) -> None:
    task = ask(bus, "tap pres me")
    assert step_error(task) == ("io.agentd.Error.NotFound: no widget named “pres me” is on "
                                "screen; close names: Press me"), task
    task = ask(bus, "tap the button called hidden button")  # not showing: not tappable
    assert step_error(task).startswith(
        "io.agentd.Error.NotFound: no widget named “hidden button” is on screen"), task
    assert desktop.read_text() == ""


def test_type_fills_the_text_field(bus: Bus, desktop: Path, agentd: Daemon) -> None:
    task = ask(bus, "type hello world")
    assert task["state"] == "done", task
    assert task["reply"] == f"Typed 11 character(s) into “Message” in {APP}.", task
    wait_for(lambda: "entry: hello world\n" in desktop.read_text())
    assert "Message (text): hello world" in ask(bus, "what's on the screen")["reply"]


def test_no_app_registered(bus: Bus, a11y_bus: None, agentd: Daemon) -> None:
    error = step_error(ask(bus, "what's on the screen"))
    assert error.startswith("io.agentd.Error.Unavailable: no accessibility backend works "
                            "here (atspi: no app is registered on the accessibility bus"), error
    assert not doctor(bus, "accessibility")["atspi"]["available"]


def test_no_accessibility_bus(bus: Bus, agentd: Daemon) -> None:
    error = step_error(ask(bus, "what's on the screen"))
    assert error.startswith("io.agentd.Error.Unavailable: no accessibility backend works "
                            "here (atspi: no accessibility bus: org.a11y.Bus is not on the "
                            "session bus"), error
    error = step_error(ask(bus, "tap the send button"))
    assert error.startswith("io.agentd.Error.Unavailable: nothing here can tap a widget by "
                            "its name (atspi: no accessibility bus"), error
    assert "uinput: cannot tap a widget by its name" in error
    rows = doctor(bus, "input")
    assert not rows["atspi"]["available"] and "uinput" in rows


@contextmanager
def hostile_app(bus: Bus, mode: str) -> Iterator[None]:
    app = subprocess.Popen([sys.executable, str(SUPPORT / "hostile_a11y_app.py"), mode,
                            _a11y_address(bus)], stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout is not None and app.stdout.readline().strip() == "ready"
        yield
    finally:
        app.terminate()
        app.wait(timeout=10)


def test_a_hung_app_does_not_hang_agentd(bus: Bus, desktop: Path, agentd: Daemon) -> None:
    """An app registered on the registry that never answers is skipped after the call
    timeout; the GTK app is still read."""
    with hostile_app(bus, "hung"):
        started = time.monotonic()
        task = ask(bus, "what's on the screen")
        elapsed = time.monotonic() - started
        assert task["state"] == "done", task
        assert "Nothing pressed yet" in task["reply"], task
        assert elapsed < 8, elapsed  # one 1 s call timeout, not a hang
        rows = doctor(bus, "accessibility")
        assert "2 app(s) registered" in rows["atspi"]["reason"], rows


def test_an_endless_tree_is_cut(bus: Bus, desktop: Path, agentd: Daemon) -> None:
    """A window whose tree loops and never ends (and claims to be the active one) is read
    up to the node cap, and said to be cut; taps still find the GTK app's buttons."""
    with hostile_app(bus, "endless"):
        started = time.monotonic()
        task = ask(bus, "what's on the screen")
        elapsed = time.monotonic() - started
        assert task["state"] == "done", task
        reply = task["reply"]
        assert reply.startswith("Endless (hostile) is open. It shows: Button /b/0 "
                                "(push button) | Button /b/0/0 (push button)"), reply[:200]
        assert len(reply) < 7000  # MAX_SCREEN_CHARS of lines
        assert reply.endswith(" …(more not read)"), reply[-200:]
        assert elapsed < 10, elapsed
        task = ask(bus, "tap cancel")
        assert task["reply"] == f"Tapped “Cancel” (push button) in {APP}.", task
        wait_for(lambda: desktop.read_text() == "cancelled\n")


def test_walk_bounds_keep_what_was_read(bus: Bus, desktop: Path) -> None:
    """The node cap stops the walk and marks it truncated; the first levels are kept."""
    async def walk() -> tuple[bool, int, list[str], bool, int]:
        backend = AtspiAccessibility()
        from dbus_fast.aio import MessageBus
        session = await MessageBus(bus_address=bus.address).connect()
        await backend.start(session)
        try:
            conn = await backend._connection()
            (apps,) = await call(conn, REGISTRY, ACCESSIBLE, "GetChildren")
            ref = (str(apps[0][0]), str(apps[0][1]))
            small = await read_app(conn, ref, max_nodes=10)
            full = await read_app(conn, ref)
            roles = [n.role for n in small.root.walk()]
            return small.truncated, small.nodes, roles, full.truncated, full.nodes
        finally:
            await backend.stop()
            session.disconnect()

    truncated, nodes, roles, full_truncated, full_nodes = asyncio.run(walk())
    assert truncated and nodes == 10, (nodes, roles)
    assert roles[:2] == ["application", "frame"], roles
    assert not full_truncated and full_nodes > 90, full_nodes


def _a11y_address(bus: Bus) -> str:
    out = bus.run("gdbus", "call", "--session", "--dest", "org.a11y.Bus", "--object-path",
                  "/org/a11y/bus", "--method", "org.a11y.Bus.GetAddress")
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().removeprefix("('").removesuffix("',)")
