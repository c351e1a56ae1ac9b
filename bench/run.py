"""agentd's benchmarks: figures printed as ratios against a baseline measured in the same run.

    .venv/bin/python bench/run.py [--rounds N] [--asks N]

1. Tier-1 understanding per request (p50/p95) over bench/requests_en.txt, against raw
   hassil ``recognize_best`` on the same text and templates (the baseline).
2. ``Ask`` → ``Finished`` round trip for clock.time over D-Bus against the real daemon on a
   private bus, against a bare D-Bus ``Peer.Ping`` round trip to the same daemon.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus
from hassil import recognize_best

from agentd.bus.names import AGENT_IFACE, AGENT_PATH, BUS_NAME, TASK_IFACE
from agentd.policy.consent import PolicyEngine
from agentd.records import Caller, StepRecord
from agentd.store.grants import GrantStore
from agentd.store.journal import Journal
from agentd.tools.builtin import install_builtin_tools
from agentd.tools.catalogue import CATALOGUE
from agentd.tools.context import ToolContext
from agentd.tools.registry import ToolRegistry
from agentd.understanding.templates import TemplateTier, load_intents, normalize

HERE = Path(__file__).parent


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def report(name: str, ours: list[float], base: list[float], base_name: str) -> None:
    p50, p95 = percentiles(ours)
    b50, b95 = percentiles(base)
    print(f"{name}: p50 {p50 * 1e3:.4f} ms, p95 {p95 * 1e3:.4f} ms  "
          f"| {base_name}: p50 {b50 * 1e3:.4f} ms, p95 {b95 * 1e3:.4f} ms  "
          f"| ratio p50 {p50 / b50:.2f}x, p95 {p95 / b95:.2f}x  (n={len(ours)})")


def bench_templates(rounds: int) -> None:
    requests = [line.strip() for line in (HERE / "requests_en.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    tier = TemplateTier(ToolRegistry(CATALOGUE))
    intents = load_intents("en")
    ours: list[float] = []
    base: list[float] = []
    matched = 0
    for _ in range(rounds):
        for text in requests:
            start = time.perf_counter()
            plan = tier.understand(text)
            ours.append(time.perf_counter() - start)
            matched += not plan.is_empty
            start = time.perf_counter()
            recognize_best(normalize(text), intents, language="en")
            base.append(time.perf_counter() - start)
    print(f"tier 1 over {len(requests)} requests x {rounds} rounds "
          f"({matched // rounds} with a plan)")
    report("  TemplateTier.understand", ours, base, "raw hassil recognize_best")


async def _round_trips(address: str, asks: int) -> tuple[list[float], list[float]]:
    conn = await MessageBus(bus_address=address).connect()
    finished: asyncio.Queue[str] = asyncio.Queue()

    def on_message(msg: Message) -> None:
        if msg.message_type is MessageType.SIGNAL and msg.member == "Finished":
            finished.put_nowait(msg.path or "")

    conn.add_message_handler(on_message)
    await conn.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                            interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                            body=[f"type='signal',interface='{TASK_IFACE}'"]))
    ask = Message(destination=BUS_NAME, path=AGENT_PATH, interface=AGENT_IFACE, member="Ask",
                  signature="sa{sv}", body=["what time is it", {}])
    ping = Message(destination=BUS_NAME, path=AGENT_PATH,
                   interface="org.freedesktop.DBus.Peer", member="Ping")
    ours, base = [], []
    for _ in range(asks):
        start = time.perf_counter()
        reply = await conn.call(ask)
        assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply
        path = reply.body[0]
        while await finished.get() != path:
            pass
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        await conn.call(ping)
        base.append(time.perf_counter() - start)
    conn.disconnect()
    return ours, base


def bench_round_trip(asks: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                                f"--address=unix:path={tmp}/bus"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address,
               "XDG_STATE_HOME": f"{tmp}/state", "AGENTD_SYSCONFDIR": f"{tmp}/etc",
               "AGENTD_LOG_LEVEL": "warning", "AGENTD_EXPORTED_TASKS": "50"}
        agentd = subprocess.Popen([str(Path(sys.executable).parent / "agentd")], env=env)
        try:
            subprocess.run(["gdbus", "wait", "--session", "--timeout", "20", BUS_NAME],
                           env=env, check=True)
            ours, base = asyncio.run(_round_trips(address, asks))
        finally:
            agentd.terminate()
            agentd.wait()
            bus.terminate()
            bus.wait()
    print("Ask -> Finished for clock.time over D-Bus (journaled, fsync'd)")
    report("  Ask -> Finished", ours, base, "Peer.Ping to agentd")


def bench_policy(rounds: int = 20_000) -> None:
    """The policy check every step passes, against running the cheapest tool (clock.time)."""
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "j.sqlite3")
        registry = ToolRegistry(CATALOGUE)
        install_builtin_tools(registry)
        grants = GrantStore(journal, registry)
        grants.add("sms.send", "/usr/bin/agentctl")
        policy = PolicyEngine(grants, registry)
        task = journal.create_task("x", {}, Caller(program="/usr/bin/agentctl"))
        steps = [StepRecord(0, "clock.time", {}, "read", "Tell the time"),
                 StepRecord(1, "sms.send", {"to": "mom", "text": "hi"}, "external", "Send")]
        checks: list[float] = []
        for step in steps * (rounds // 2):
            start = time.perf_counter()
            policy.check(task, step)
            checks.append(time.perf_counter() - start)
        ctx = ToolContext(task, journal, None, None)  # type: ignore[arg-type]
        runs: list[float] = []

        async def run_tool() -> None:
            for _ in range(rounds // 10):
                start = time.perf_counter()
                await registry.run(ctx, "clock.time", {})
                runs.append(time.perf_counter() - start)

        asyncio.run(run_tool())
        journal.close()
    print("policy check per step (read + granted external), against running clock.time")
    report("  PolicyEngine.check", checks, runs, "clock.time tool run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the request file")
    parser.add_argument("--asks", type=int, default=200, help="Ask round trips to time")
    args = parser.parse_args()
    print(f"agentd benchmarks, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}")
    bench_templates(args.rounds)
    bench_policy()
    bench_round_trip(args.asks)


if __name__ == "__main__":
    main()
