"""Adapter benchmarks on a phone-sized headless desktop, as ratios against a baseline
measured in the same run.

A private session bus, headless phoc at 720x1440 (pixman) with a GTK 3 window on screen,
xdg-desktop-portal (-wlr, -gtk), mako and the real agentd are started; then:

1. screen capture + encode at 720x1440, against raw ``grim -l 1 FILE.png`` (the baseline,
   at the PNG compression level agentd uses):
   - agentd's ``grim`` backend: ``GrimScreen.capture_png()`` then ``save_screenshot``
     (Pillow decodes, checks and encodes the PNG that screen.capture saves);
   - agentd's ``portal`` backend: the Screenshot call (Request/Response) then the same save.
2. notifications with mako as the server, against a bare ``Notify`` call to mako:
   - ``Ask("send a notification saying ...")`` → ``Finished`` (notifications.send);
   - another app's ``Notify`` → seen in the reply of ``Ask("read my notifications")``
     (the bus monitor's history, notifications.list).

    .venv/bin/python bench/adapters.py [--shots N] [--notes N]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from dbus_fast import Message, MessageType, Variant  # noqa: E402
from dbus_fast.aio import MessageBus  # noqa: E402
from fixtures_desktop import DesktopMissing, check_desktop, gtk_app  # noqa: E402
from run import report  # noqa: E402
from test_adapters_screen import COLOUR, owned, phone_desktop, portal_missing  # noqa: E402

from agentd.adapters.screen.grim import GrimScreen  # noqa: E402
from agentd.adapters.screen.portal import PortalScreen  # noqa: E402
from agentd.adapters.screen.tools import save_screenshot  # noqa: E402
from agentd.bus.names import AGENT_IFACE, AGENT_PATH, BUS_NAME, TASK_IFACE  # noqa: E402

NOTIFICATIONS = "org.freedesktop.Notifications"


@contextmanager
def session(root: Path) -> Iterator[dict[str, str]]:
    """A private session bus and the environment of a session on it."""
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                            f"--address=unix:path={root}/bus"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    assert bus.stdout is not None
    address = bus.stdout.readline().decode().strip()
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "HOME": str(root / "home"),
           "XDG_STATE_HOME": f"{root}/state", "XDG_CONFIG_HOME": f"{root}/config",
           "XDG_DATA_HOME": f"{root}/data", "AGENTD_SYSCONFDIR": f"{root}/etc",
           "AGENTD_LOG_LEVEL": "warning", "AGENTD_EXPORTED_TASKS": "50"}
    (root / "home" / "Pictures").mkdir(parents=True)
    try:
        yield env
    finally:
        bus.terminate()
        bus.wait()


@contextmanager
def process(argv: list[str], env: dict[str, str], ready: str) -> Iterator[None]:
    """A program on the session bus, once it owns the bus name ``ready``."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not owned(env, ready):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} did not take {ready}")
            time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait()


def bench_screenshots(env: dict[str, str], folder: Path, shots: int) -> None:
    grim = GrimScreen(env)
    portal = PortalScreen()  # uses this process's DBUS_SESSION_BUS_ADDRESS
    raw, via_grim, via_portal = [], [], []
    for n in range(shots):
        start = time.perf_counter()
        subprocess.run(["grim", "-t", "png", "-l", "1", str(folder / f"raw-{n}.png")], env=env,
                       check=True)
        raw.append(time.perf_counter() - start)
        now = dt.datetime.now()
        start = time.perf_counter()
        save_screenshot(grim.capture_png(), folder, now)
        via_grim.append(time.perf_counter() - start)
        start = time.perf_counter()
        save_screenshot(portal.capture_png(), folder, now)
        via_portal.append(time.perf_counter() - start)
    print("screen capture + encode at 720x1440 (headless phoc, pixman)")
    report("  agentd grim backend + save", via_grim, raw, "raw grim to a file")
    report("  agentd portal backend + save", via_portal, raw, "raw grim to a file")


async def _notification_round_trips(address: str, notes: int
                                    ) -> tuple[list[float], list[float], list[float]]:
    conn = await MessageBus(bus_address=address).connect()
    other_app = await MessageBus(bus_address=address).connect()
    finished: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    def on_message(msg: Message) -> None:
        if msg.message_type is MessageType.SIGNAL and msg.member == "Finished":
            finished.put_nowait((msg.path or "", str(msg.body[1])))

    conn.add_message_handler(on_message)
    await conn.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                            interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                            body=[f"type='signal',interface='{TASK_IFACE}'"]))

    async def ask(text: str) -> str:
        reply = await conn.call(Message(destination=BUS_NAME, path=AGENT_PATH,
                                        interface=AGENT_IFACE, member="Ask",
                                        signature="sa{sv}", body=[text, {}]))
        assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply
        while True:
            path, answer = await finished.get()
            if path == reply.body[0]:
                return answer

    async def notify(bus: MessageBus, app: str, summary: str) -> None:
        reply = await bus.call(Message(
            destination=NOTIFICATIONS, path="/org/freedesktop/Notifications",
            interface=NOTIFICATIONS, member="Notify", signature="susssasa{sv}i",
            body=[app, 0, "", summary, "", [], {"urgency": Variant("y", 1)}, 5000]))
        assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply

    await ask("read my notifications")  # warm up; empties the history
    send, seen, bare = [], [], []
    for n in range(notes):
        start = time.perf_counter()
        answer = await ask(f"send a notification saying bench {n}")
        send.append(time.perf_counter() - start)
        assert answer == f"Showed the notification “bench {n}”.", answer
        start = time.perf_counter()
        await notify(other_app, "Signal", f"message {n}")
        answer = await ask("read my notifications")
        seen.append(time.perf_counter() - start)
        assert answer.endswith(f"Signal: message {n}"), answer  # after the bare one
        start = time.perf_counter()
        await notify(conn, "bench", f"bare {n}")
        bare.append(time.perf_counter() - start)
    conn.disconnect()
    other_app.disconnect()
    return send, seen, bare


def bench_notifications(env: dict[str, str], notes: int) -> None:
    send, seen, bare = asyncio.run(_notification_round_trips(
        env["DBUS_SESSION_BUS_ADDRESS"], notes))
    print("notifications with mako (each agentd figure is a whole Ask -> Finished task)")
    report("  notifications.send", send, bare, "bare Notify to mako")
    report("  Notify -> seen in notifications.list", seen, bare, "bare Notify to mako")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=20, help="screenshots per method")
    parser.add_argument("--notes", type=int, default=50, help="notification round trips")
    args = parser.parse_args()
    try:
        check_desktop()
    except DesktopMissing as exc:
        sys.exit(str(exc))
    missing = portal_missing() + [t for t in ("mako",) if shutil.which(t) is None]
    if missing:
        sys.exit(f"missing: apt install {' '.join(missing)}")
    print(f"agentd adapter benchmarks, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        root = Path(tmp)
        env = stack.enter_context(session(root))
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = env["DBUS_SESSION_BUS_ADDRESS"]
        stack.enter_context(phone_desktop(env, root))
        stack.enter_context(gtk_app(env, root, "color_window.py", bytes(COLOUR).hex()))
        stack.enter_context(process(["mako"], env, NOTIFICATIONS))
        stack.enter_context(process([str(Path(sys.executable).parent / "agentd")], env,
                                    BUS_NAME))
        folder = root / "shots"
        folder.mkdir()
        bench_screenshots(env, folder, args.shots)
        bench_notifications(env, args.notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
