"""`agentctl doctor` (Agent1.Diagnose) and the backend registry's rules."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest
from agentd_testing.backends import FixtureBackend
from testkit.bus import Bus, Daemon

from agentd.adapters.base import AdapterRegistry, Availability, Capability
from agentd.errors import Unavailable
from agentd.tools.catalogue import CATALOGUE

pytestmark = pytest.mark.daemon

CAPABILITIES = sorted({spec.capability for spec in CATALOGUE} - {"core"})


def test_doctor_table_lists_every_capability(bus: Bus, daemon: Daemon) -> None:
    out = bus.agentctl("doctor")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["CAPABILITY", "BACKEND", "AVAILABLE", "WHY"]
    assert sorted({line.split()[0] for line in lines[1:-1]}) == CAPABILITIES
    a11y = next(line for line in lines if line.startswith("accessibility "))
    assert a11y.split()[1:3] == ["atspi", "no"] and "no accessibility bus" in a11y
    assert any(line.startswith("apps ") and "yes *" in line for line in lines)
    rows = json.loads(bus.agentctl("doctor", "--json").stdout)
    assert {r["capability"] for r in rows} == set(CAPABILITIES)
    assert not any(r["test"] for r in rows)  # no test backend without test_fixture


def test_diagnose_over_gdbus(bus: Bus, daemon: Daemon) -> None:
    out = bus.gdbus_call("/io/agentd/Agent1", "io.agentd.Agent1.Diagnose")
    assert out.returncode == 0, out.stderr
    assert "'capability': <'telephony'>" in out.stdout
    assert "'backend': <'modemmanager'>" in out.stdout


def test_test_backends_show_and_win_only_with_the_fixture(bus: Bus, tmp_path: Path) -> None:
    fixture = tmp_path / "fixture.json"
    fixture.write_text(json.dumps({"files": [], "sent": str(tmp_path / "sent.jsonl")}))
    daemon = Daemon(bus, {"AGENTD_TEST_FIXTURE": str(fixture)}).start()
    try:
        rows = json.loads(bus.agentctl("doctor", "--json").stdout)
        tele = [r for r in rows if r["capability"] == "telephony"]
        assert [(r["backend"], r["test"], r["selected"]) for r in tele] == [
            ("test-fixture", True, True), ("modemmanager", False, False)]
        assert "TEST BACKEND" in tele[0]["reason"]
    finally:
        daemon.kill(signal.SIGTERM)


class _Backend:
    capability = "things"

    def __init__(self, name: str, ok: bool, test: bool = False) -> None:
        self.name, self.ok, self.test = name, ok, test

    async def availability(self) -> Availability:
        return Availability(self.ok, "fine" if self.ok else f"{self.name} is broken")


async def _no(backend: _Backend) -> Availability | None:
    return Availability.no(f"{backend.name} is broken") if backend.name == "first" else None


def test_registry_picks_the_first_available_real_backend() -> None:
    adapters = AdapterRegistry(["things", "nothing"])
    with pytest.raises(ValueError, match="test backend"):
        adapters.register(_Backend("fake", True, test=True))
    adapters.register(_Backend("first", False))
    adapters.register(_Backend("second", True))
    adapters.register(_Backend("third", True))
    things = Capability[_Backend]("things")
    assert asyncio.run(adapters.select(things)).name == "second"
    with pytest.raises(Unavailable, match="no nothing backend is installed"):
        asyncio.run(adapters.select(Capability[_Backend]("nothing")))
    # A check about the call: "third" serves it, "second" is skipped, "first" says why not.
    async def serves(backend: _Backend) -> Availability | None:
        return None if backend.name == "second" else await backend.availability()

    assert asyncio.run(adapters.select(things, serves)).name == "third"
    usable, reasons = asyncio.run(adapters.usable(things, serves))
    assert [b.name for b in usable] == ["third"] and reasons == ["first: first is broken"]
    with pytest.raises(Unavailable, match=r"^none: first: first is broken$"):
        asyncio.run(adapters.select(things, lambda b: _no(b), lambda r: "none: " + "; ".join(r)))
    rows = asyncio.run(adapters.diagnose())
    assert [(r.capability, r.backend, r.available, r.selected) for r in rows] == [
        ("nothing", "", False, False), ("things", "first", False, False),
        ("things", "second", True, True), ("things", "third", True, False)]


def test_registry_never_selects_a_test_backend() -> None:
    adapters = AdapterRegistry(["telephony"], allow_test_backends=True)
    adapters.register(FixtureBackend("telephony", "/fixture.json"))
    broken = _Backend("broken", False)
    broken.capability = "telephony"
    adapters.register(broken)
    with pytest.raises(Unavailable, match=r"\(broken: broken is broken\)"):
        asyncio.run(adapters.select(Capability[_Backend]("telephony")))
