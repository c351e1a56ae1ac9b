"""Which backends exist, in which order of preference, and the tools built on them."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from agentd.adapters.accessibility.atspi import AtspiAccessibility
from agentd.adapters.accessibility.tools import install_accessibility_tools
from agentd.adapters.apps.launch import ExecLauncher, GioLauncher, SystemdRunLauncher
from agentd.adapters.apps.tools import install_app_tools
from agentd.adapters.base import AdapterRegistry, Backend
from agentd.adapters.calendar.eds import EdsCalendar
from agentd.adapters.calendar.ics import IcsFolder
from agentd.adapters.calendar.tools import install_calendar_tools
from agentd.adapters.contacts.eds import EdsContacts
from agentd.adapters.contacts.tools import install_contacts_tools
from agentd.adapters.contacts.vdir import VCardFolder
from agentd.adapters.files.tools import install_file_tools
from agentd.adapters.files.xdg import XdgFolders
from agentd.adapters.input.atspi import AtspiInput
from agentd.adapters.input.tools import install_input_tools
from agentd.adapters.input.uinput import UinputInput
from agentd.adapters.location.geoclue import GeoClueLocation
from agentd.adapters.location.tools import install_location_tools
from agentd.adapters.media.mpris import MprisMedia
from agentd.adapters.media.tools import install_media_tools
from agentd.adapters.messages.chatty import ChattyHistory
from agentd.adapters.messages.tools import install_messages_tools
from agentd.adapters.notifications.freedesktop import FreedesktopNotifications
from agentd.adapters.notifications.tools import install_notification_tools
from agentd.adapters.power.sysfs import SysfsBattery
from agentd.adapters.power.tools import install_power_tools
from agentd.adapters.power.upower import UPowerBattery
from agentd.adapters.screen.framebuffer import FramebufferScreen
from agentd.adapters.screen.grim import GrimScreen
from agentd.adapters.screen.portal import PortalScreen
from agentd.adapters.screen.tools import install_screen_tools
from agentd.adapters.settings.backlight import LogindBrightness, SysfsBrightness
from agentd.adapters.settings.gsettings import GSettingsSettings
from agentd.adapters.settings.leds import LedFlashlight
from agentd.adapters.settings.networkmanager import NetworkManagerSettings
from agentd.adapters.settings.rfkill import RfkillSettings
from agentd.adapters.settings.tools import install_settings_tools
from agentd.adapters.settings.volume import PactlVolume, WpctlVolume
from agentd.adapters.telephony.modemmanager import ModemManagerTelephony
from agentd.adapters.telephony.tools import install_telephony_tools
from agentd.tools.registry import ToolRegistry


def build_adapters(tools: ToolRegistry, test_backends: Sequence[Backend] = (),
                   env: Mapping[str, str] = os.environ,
                   calendar_default: str = "",
                   location_timeout_s: float = 30.0) -> AdapterRegistry:
    """Every backend this agentd has, by capability, preferred first; test backends
    (``agentd.testing``, only with the ``test_fixture`` setting) are listed first."""
    capabilities = sorted({spec.capability for spec in tools if spec.capability != "core"})
    adapters = AdapterRegistry(capabilities, allow_test_backends=bool(test_backends))
    for backend in test_backends:
        adapters.register(backend)
    adapters.register(XdgFolders.from_environment(env))
    adapters.register(SystemdRunLauncher(env))  # first: under systemd, apps must not
    adapters.register(GioLauncher(env))  # inherit agentd's sandbox
    adapters.register(ExecLauncher(env))
    adapters.register(ModemManagerTelephony())
    adapters.register(VCardFolder.from_environment(env))  # contacts: a vdir is chosen,
    adapters.register(EdsContacts())  # EDS may just be installed (Phosh)
    eds_calendar = EdsCalendar(calendar_default, env)  # GNOME Calendar's
    adapters.register(IcsFolder.from_environment(  # calendar: a folder of .ics files is
        env, calendar_default, step_aside_for=eds_calendar))  # chosen; else EDS, if it runs
    adapters.register(eds_calendar)
    adapters.register(ChattyHistory.from_environment(env))  # Phosh's SMS history, read-only
    accessibility = AtspiAccessibility()  # started with the session bus
    adapters.register(accessibility)
    adapters.register(AtspiInput(accessibility))  # input: widgets by name, text fields
    adapters.register(UinputInput())  # input: points, keys, a virtual keyboard
    adapters.register(FreedesktopNotifications())  # started with the session bus
    adapters.register(GrimScreen(env))
    adapters.register(PortalScreen())
    adapters.register(FramebufferScreen())
    adapters.register(NetworkManagerSettings())  # settings: each backend serves some
    adapters.register(RfkillSettings())
    adapters.register(GSettingsSettings(env))
    adapters.register(LogindBrightness())  # no root needed; sysfs only if writable
    adapters.register(SysfsBrightness())
    adapters.register(WpctlVolume(env))
    adapters.register(PactlVolume(env))
    adapters.register(LedFlashlight())
    adapters.register(UPowerBattery())
    adapters.register(SysfsBattery())
    adapters.register(MprisMedia())  # players on the session bus
    adapters.register(GeoClueLocation(location_timeout_s))  # GeoClue on the system bus
    return adapters


def install_adapter_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    """Handlers for every tool whose capability has a backend (chosen on each call)."""
    install_file_tools(tools, adapters)
    install_app_tools(tools, adapters)
    install_telephony_tools(tools, adapters)
    install_contacts_tools(tools, adapters)
    install_calendar_tools(tools, adapters)
    install_messages_tools(tools, adapters)
    install_notification_tools(tools, adapters)
    install_accessibility_tools(tools, adapters)
    install_input_tools(tools, adapters)
    install_screen_tools(tools, adapters)
    install_settings_tools(tools, adapters)
    install_power_tools(tools, adapters)
    install_media_tools(tools, adapters)
    install_location_tools(tools, adapters)
