"""The introspection XML shipped in system/dbus/ is generated from the code, and is live."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from testkit.bus import Bus, Daemon

from agentd.bus.introspect import interface_xml

pytestmark = pytest.mark.daemon

SYSTEM_DBUS = Path(__file__).parent.parent / "system" / "dbus"


def _members(xml: str, iface: str) -> set[tuple[str, str, str]]:
    root = ET.fromstring(xml.split("-->", 1)[-1] if "<!--" in xml else xml)
    node = root.find(f"interface[@name='{iface}']")
    assert node is not None, iface
    members = set()
    for child in node:
        sig = "".join(f"{a.get('direction', '')}:{a.get('type')}" for a in child.iter("arg"))
        members.add((child.tag, child.get("name", ""), sig or child.get("type", "")))
    return members


def test_shipped_xml_is_up_to_date() -> None:
    for name, text in interface_xml().items():
        shipped = (SYSTEM_DBUS / name).read_text()
        assert shipped == text, (f"{name} drifted from the code; regenerate with "
                                 "`python -m agentd.bus.introspect system/dbus`")


def test_check_command_detects_drift(tmp_path: Path) -> None:
    for name, text in interface_xml().items():
        (tmp_path / name).write_text(text.replace('name="Ask"', 'name="AskOld"'))
    out = subprocess.run([sys.executable, "-m", "agentd.bus.introspect", "--check",
                          str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 1 and "out of date" in out.stderr
    ok = subprocess.run([sys.executable, "-m", "agentd.bus.introspect", "--check",
                         str(SYSTEM_DBUS)], capture_output=True, text=True)
    assert ok.returncode == 0


def test_live_introspection_matches_shipped_xml(bus: Bus, daemon: Daemon) -> None:
    path = "/io/agentd/Agent1"
    out = bus.run("gdbus", "introspect", "--session", "--xml", "--dest", "io.agentd.Agent1",
                  "--object-path", path)
    assert out.returncode == 0, out.stderr
    shipped = (SYSTEM_DBUS / "io.agentd.Agent1.xml").read_text()
    assert _members(out.stdout, "io.agentd.Agent1") == _members(shipped, "io.agentd.Agent1")
    bus.agentctl("ask", "what time is it")
    out = bus.run("gdbus", "introspect", "--session", "--xml", "--dest", "io.agentd.Agent1",
                  "--object-path", path + "/task/1")
    shipped = (SYSTEM_DBUS / "io.agentd.Task1.xml").read_text()
    assert _members(out.stdout, "io.agentd.Task1") == _members(shipped, "io.agentd.Task1")
