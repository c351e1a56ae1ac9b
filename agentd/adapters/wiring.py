"""Which backends exist, in which order of preference, and the tools built on them."""

from __future__ import annotations

import os
from collections.abc import Mapping

from agentd.adapters.apps.launch import ExecLauncher, GioLauncher, SystemdRunLauncher
from agentd.adapters.apps.tools import install_app_tools
from agentd.adapters.base import AdapterRegistry, Availability
from agentd.adapters.files.tools import install_file_tools
from agentd.adapters.files.xdg import XdgFolders
from agentd.adapters.notifications.freedesktop import FreedesktopNotifications
from agentd.adapters.notifications.tools import install_notification_tools
from agentd.adapters.screen.grim import GrimScreen
from agentd.adapters.screen.tools import install_screen_tools
from agentd.adapters.telephony.modemmanager import ModemManagerTelephony
from agentd.adapters.telephony.tools import install_telephony_tools
from agentd.tools.registry import ToolRegistry


class FixtureBackend:
    """The test backends of ``testing.py``, as `doctor` shows them (never selected here)."""

    name = "test-fixture"
    test = True

    def __init__(self, capability: str, fixture: str) -> None:
        self.capability = capability
        self.fixture = fixture

    async def availability(self) -> Availability:
        return Availability.yes(f"TEST BACKEND from the test_fixture setting ({self.fixture})")


FIXTURE_CAPABILITIES = ("notifications", "accessibility", "files", "telephony")


def build_adapters(tools: ToolRegistry, test_fixture: str = "",
                   env: Mapping[str, str] = os.environ) -> AdapterRegistry:
    """Every backend this agentd has, by capability, preferred first."""
    capabilities = sorted({spec.capability for spec in tools if spec.capability != "core"})
    adapters = AdapterRegistry(capabilities, allow_test_backends=bool(test_fixture))
    if test_fixture:
        for capability in FIXTURE_CAPABILITIES:
            adapters.register(FixtureBackend(capability, test_fixture))
    adapters.register(XdgFolders.from_environment(env))
    adapters.register(SystemdRunLauncher(env))  # first: under systemd, apps must not
    adapters.register(GioLauncher(env))  # inherit agentd's sandbox
    adapters.register(ExecLauncher(env))
    adapters.register(ModemManagerTelephony())
    adapters.register(FreedesktopNotifications())  # started with the session bus
    adapters.register(GrimScreen(env))
    return adapters


def install_adapter_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    """Handlers for every tool whose capability has a backend (chosen on each call)."""
    install_file_tools(tools, adapters)
    install_app_tools(tools, adapters)
    install_telephony_tools(tools, adapters)
    install_notification_tools(tools, adapters)
    install_screen_tools(tools, adapters)
