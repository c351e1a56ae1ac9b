"""Load: many programs asking at once, and a steady rate over time, against the real daemon.

    .venv/bin/python bench/load.py [--clients 50] [--requests 20]      # the burst
    .venv/bin/python bench/load.py --soak 600 --rate 5                  # 10 minutes

Starts a private dbus-daemon and the real agentd (the queue: ``workers`` tasks at once,
the rest queued). Burst: each of ``clients`` connections sends ``requests`` Asks at once
(half "what time is it", half dry-run plans) and waits for every ``Finished``. Reported:
errors, lost (accepted but never finished), Ask→Finished p50/p95, and agentd's RSS and
open file descriptors before and after. Soak: one client asks at ``rate`` per second for
``soak`` seconds; RSS and fds are sampled every 30 s. ``--json`` prints one object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentd.bus.names import AGENT_IFACE, AGENT_PATH, BUS_NAME, TASK_IFACE  # noqa: E402

REQUESTS = ("what time is it", "turn off wifi and turn on bluetooth")
BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path={socket}</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><allow own="*"/></policy>
<limit name="max_connections_per_user">4096</limit>
<limit name="max_replies_per_connection">4096</limit>
<limit name="reply_timeout">120000</limit>
</busconfig>"""
# The bus waits up to 5 minutes for agentd's replies: this measures whether agentd loses
# or refuses requests, and how long they take, not the bus's default 25 s patience (each
# Ask is fsync'd to the journal, which a disk busy with other writes can make slow).


def usage(pid: int) -> tuple[float, int]:
    """(RSS in MB, open file descriptors) of ``pid``."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines()
               if line.startswith("VmRSS:"))
    return rss / 1024, len(os.listdir(f"/proc/{pid}/fd"))


class Client:
    """One program: asks, and waits for the unicast Finished of each of its tasks."""

    def __init__(self, conn: MessageBus) -> None:
        self.conn = conn
        self.finished: dict[str, asyncio.Future[float]] = {}
        conn.add_message_handler(self._on_message)

    def _on_message(self, msg: Message) -> None:
        if msg.message_type is MessageType.SIGNAL and msg.interface == TASK_IFACE \
                and msg.member == "Finished" and msg.path:
            future = self.finished.setdefault(
                msg.path, asyncio.get_running_loop().create_future())
            if not future.done():
                future.set_result(time.monotonic())

    async def ask(self, text: str, dry_run: bool) -> tuple[str, float]:
        """("" or the error name, seconds from Ask to Finished)."""
        from dbus_fast import Variant

        started = time.monotonic()
        options = {"dry_run": Variant("b", True)} if dry_run else {}
        reply = await self.conn.call(Message(destination=BUS_NAME, path=AGENT_PATH,
                                             interface=AGENT_IFACE, member="Ask",
                                             signature="sa{sv}", body=[text, options]))
        assert reply is not None
        if reply.message_type is MessageType.ERROR:
            return reply.error_name or "error", 0.0
        future = self.finished.setdefault(reply.body[0],
                                          asyncio.get_running_loop().create_future())
        done = await asyncio.wait_for(future, 120)
        return "", done - started


async def burst(address: str, clients: int, requests: int) -> dict[str, Any]:
    conns = [Client(await MessageBus(bus_address=address).connect()) for _ in range(clients)]
    jobs = [c.ask(REQUESTS[i % 2], dry_run=i % 2 == 1) for c in conns for i in range(requests)]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    for c in conns:
        c.conn.disconnect()
    lost = sum(isinstance(r, BaseException) for r in results)
    ok = sorted(r[1] for r in results if not isinstance(r, BaseException) and not r[0])
    errors: dict[str, int] = {}
    for r in results:
        if not isinstance(r, BaseException) and r[0]:
            errors[r[0]] = errors.get(r[0], 0) + 1
    return {"asked": len(jobs), "finished": len(ok), "errors": sum(errors.values()),
            "error_names": errors, "lost": lost,
            "p50_ms": round(ok[len(ok) // 2] * 1000, 1) if ok else None,
            "p95_ms": round(ok[int(len(ok) * 0.95)] * 1000, 1) if ok else None}


async def soak(address: str, pid: int, seconds: float, rate: float) -> dict[str, Any]:
    client = Client(await MessageBus(bus_address=address).connect())
    samples, errors, asked = [], 0, 0
    start = next_sample = time.monotonic()
    pending: set[asyncio.Task[tuple[str, float]]] = set()
    while time.monotonic() - start < seconds:
        task = asyncio.create_task(client.ask(REQUESTS[asked % 2], dry_run=asked % 2 == 1))
        pending.add(task)
        task.add_done_callback(pending.discard)
        asked += 1
        if time.monotonic() >= next_sample:
            samples.append(usage(pid))
            next_sample += 30
        await asyncio.sleep(1 / rate)
    results = await asyncio.gather(*pending, return_exceptions=True)
    errors = sum(isinstance(r, BaseException) or bool(r[0]) for r in results)
    samples.append(usage(pid))
    client.conn.disconnect()
    rss = [s[0] for s in samples]
    fds = [s[1] for s in samples]
    return {"seconds": seconds, "asked": asked, "errors": errors,
            "rss_mb_first_last_max": [round(rss[0], 1), round(rss[-1], 1), round(max(rss), 1)],
            "fds_first_last_max": [fds[0], fds[-1], max(fds)]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--soak", type=float, default=0, help="seconds of steady load")
    parser.add_argument("--rate", type=float, default=5.0, help="soak: requests a second")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bus.conf").write_text(BUS_CONF.format(socket=root / "bus"))
        bus = subprocess.Popen(["dbus-daemon", f"--config-file={root / 'bus.conf'}",
                                "--nofork", "--print-address=1"], stdout=subprocess.PIPE)
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address,
               "XDG_STATE_HOME": str(root / "state"), "XDG_DATA_HOME": str(root / "data"),
               "XDG_CONFIG_HOME": str(root / "config"), "XDG_CACHE_HOME": str(root / "c"),
               "AGENTD_SYSCONFDIR": str(root / "etc"), "AGENTD_PLANNER": "none"}
        agentd = subprocess.Popen([str(Path(sys.executable).parent / "agentd")], env=env,
                                  stderr=open(os.environ.get("LOAD_LOG", os.devnull), "w"))  # noqa: SIM115 (lives as long as agentd)
        try:
            asyncio.run(_wait_for_agentd(address))
            asyncio.run(burst(address, 2, 2))  # warm up (templates loaded, caches filled)
            os.sync()  # other programs' pending writes would stall the journal's fsyncs
            before = usage(agentd.pid)
            result: dict[str, Any] = {"workers": "default"}
            if args.soak:
                result["soak"] = asyncio.run(soak(address, agentd.pid, args.soak, args.rate))
            else:
                started = time.monotonic()
                result["burst"] = asyncio.run(burst(address, args.clients, args.requests))
                result["burst"]["seconds"] = round(time.monotonic() - started, 1)
            after = usage(agentd.pid)
            result.update({"rss_mb_before": round(before[0], 1),
                           "rss_mb_after": round(after[0], 1),
                           "rss_growth_mb": round(after[0] - before[0], 1),
                           "fds_before": before[1], "fds_after": after[1],
                           "agentd_alive": agentd.poll() is None})
        finally:
            agentd.terminate()
            agentd.wait(timeout=20)
            bus.terminate()
            bus.wait(timeout=10)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


async def _wait_for_agentd(address: str) -> None:
    conn = await MessageBus(bus_address=address).connect()
    for _ in range(400):
        reply = await conn.call(Message(destination="org.freedesktop.DBus",
                                        path="/org/freedesktop/DBus",
                                        interface="org.freedesktop.DBus",
                                        member="NameHasOwner", signature="s",
                                        body=[BUS_NAME]))
        if reply is not None and reply.body and reply.body[0]:
            conn.disconnect()
            return
        await asyncio.sleep(0.05)
    raise SystemExit("agentd did not take its bus name")


if __name__ == "__main__":
    sys.exit(main())
