"""Accessibility benchmark: how long agentd takes to read what is on screen over AT-SPI2.

A private session bus, headless phoc, the real accessibility bus and the GTK 3 test app
(tests/support/a11y_app.py, ROWS list rows: about 4 objects a row plus 25) are started;
then, in the same run and on the same tree:

- agentd: ``AtspiAccessibility.read_screen()`` (registry, every app's showing tree with
  names, roles, states, interfaces and texts, then the lines of the looked-at window);
- baseline "GetChildren walk": a plain sequential walk from the registry root that only
  calls ``GetChildren`` on every object (the least any tree reader must do);
- baseline "naive full walk": the same calls agentd makes per object (GetAll, GetRoleName,
  GetState, GetInterfaces, GetChildren), one after another, as a simple client would.

    .venv/bin/python bench/accessibility.py [--rows N] [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from dbus_fast.aio import MessageBus  # noqa: E402
from fixtures_desktop import (  # noqa: E402
    accessibility_bus,
    check_desktop,
    gtk_app,
    headless_phoc,
)

from agentd.adapters.accessibility.atspi import REGISTRY, AtspiAccessibility  # noqa: E402
from agentd.adapters.accessibility.tree import ACCESSIBLE, PROPERTIES, call  # noqa: E402


async def children_walk(conn: MessageBus, full: bool) -> int:
    """Sequential walk from the registry root; the number of objects visited."""
    stack, seen = [REGISTRY], 0
    while stack:
        ref = stack.pop()
        seen += 1
        if full:
            await call(conn, ref, PROPERTIES, "GetAll", "s", [ACCESSIBLE])
            await call(conn, ref, ACCESSIBLE, "GetRoleName")
            await call(conn, ref, ACCESSIBLE, "GetState")
            await call(conn, ref, ACCESSIBLE, "GetInterfaces")
        (children,) = await call(conn, ref, ACCESSIBLE, "GetChildren")
        stack.extend((str(b), str(p)) for b, p in children)
    return seen


async def timed(fn: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    await fn()  # warm up (first calls create the app's accessible objects)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - start)
    return times


async def measure(address: str, repeat: int) -> None:
    session = await MessageBus(bus_address=address).connect()
    backend = AtspiAccessibility()
    await backend.start(session)
    conn = await backend._connection()
    screen = await backend.read_screen()
    objects = await children_walk(conn, full=False)
    agentd = await timed(backend.read_screen, repeat)
    bare = await timed(lambda: children_walk(conn, full=False), repeat)
    naive = await timed(lambda: children_walk(conn, full=True), repeat)
    await backend.stop()
    session.disconnect()

    def ms(values: list[float]) -> str:
        return (f"median {statistics.median(values) * 1000:7.1f} ms  "
                f"min {min(values) * 1000:7.1f} ms")

    print(f"tree: {objects} objects from the registry root; screen.read gives "
          f"{len(screen.lines)} lines of {screen.window!r}; {repeat} runs each")
    print(f"agentd read_screen           {ms(agentd)}")
    print(f"baseline GetChildren walk    {ms(bare)}  ({objects} calls)")
    print(f"baseline naive full walk     {ms(naive)}  ({objects * 5} calls)")
    a, b, n = (statistics.median(v) for v in (agentd, bare, naive))
    print(f"ratio agentd / GetChildren walk: {a / b:.2f}")
    print(f"ratio agentd / naive full walk:  {a / n:.2f}")
    print(f"per object: agentd {a / objects * 1e6:.0f} µs, bare round trip "
          f"{b / objects * 1e6:.0f} µs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20,
                        help="list rows in the test app (about 4 objects each)")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    check_desktop(accessibility=True)
    with tempfile.TemporaryDirectory(prefix="agentd-bench-a11y-") as tmp:
        root = Path(tmp)
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                               stdout=subprocess.PIPE, text=True)
        try:
            assert bus.stdout is not None
            address = bus.stdout.readline().strip()
            env = {"PATH": "/usr/bin:/bin", "HOME": str(root),
                   "DBUS_SESSION_BUS_ADDRESS": address}
            with headless_phoc(env, root), accessibility_bus(env, root), \
                    gtk_app(env, root, "a11y_app.py", str(root / "marker"), str(args.rows)):
                asyncio.run(measure(address, args.repeat))
        finally:
            bus.terminate()
            bus.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
