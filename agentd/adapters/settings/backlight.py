"""Backends "logind" and "sysfs-backlight": screen brightness.

Both read ``/sys/class/backlight/NAME/{brightness,max_brightness}`` (preferring a
``firmware``, then ``platform``, then ``raw`` device, as systemd-backlight does). Changes
go through logind's ``Session.SetBrightness("backlight", NAME, value)`` on the system bus
(allowed for the session's own user, no root), or, second choice, straight into the sysfs
file where agentd may write it. The screen is never set fully dark: 0 % is the lowest
visible step (raw 1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agentd.adapters.base import Availability
from agentd.adapters.dbuscalls import call, has_service, system_bus
from agentd.adapters.settings import CAPABILITY, SettingValue, percent_of
from agentd.errors import AgentError, Unavailable

LOGIND = "org.freedesktop.login1"
SESSION_PATH = "/org/freedesktop/login1/session/auto"  # the caller's (or display) session
SESSION_IFACE = "org.freedesktop.login1.Session"
TYPE_ORDER = ("firmware", "platform", "raw")


@dataclass(frozen=True)
class Backlight:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    def maximum(self) -> int:
        return int((self.path / "max_brightness").read_text())

    def raw(self) -> int:
        return int((self.path / "brightness").read_text())

    def percent(self) -> int:
        return percent_of(self.raw(), self.maximum())

    def raw_for(self, percent: int) -> int:
        """The raw level for ``percent``; at least 1, so the screen stays visible."""
        return max(1, round(percent * self.maximum() / 100))


def find_backlight(sysfs: Path) -> Backlight | None:
    root = sysfs / "class" / "backlight"
    devices = []
    for path in sorted(root.glob("*")):
        try:
            kind = (path / "type").read_text().strip()
            if int((path / "max_brightness").read_text()) <= 0:
                continue
        except (OSError, ValueError):
            continue
        devices.append((TYPE_ORDER.index(kind) if kind in TYPE_ORDER else 3, path))
    return Backlight(min(devices)[1]) if devices else None


class _BacklightBase:
    name = ""
    capability = CAPABILITY
    test = False
    settings = frozenset({"brightness"})

    def __init__(self, sysfs: Path = Path("/sys")) -> None:
        self.sysfs = sysfs

    def _device(self) -> Backlight:
        device = find_backlight(self.sysfs)
        if device is None:
            raise Unavailable(f"no backlight in {self.sysfs / 'class' / 'backlight'} "
                              "(the screen's brightness is not adjustable here)")
        return device

    async def availability(self) -> Availability:
        raise NotImplementedError

    async def supports(self, setting: str) -> Availability:
        return await self.availability()

    async def get(self, setting: str) -> SettingValue:
        return self._device().percent()


class LogindBrightness(_BacklightBase):
    name = "logind"

    async def availability(self) -> Availability:
        try:
            device = self._device()
            async with system_bus() as bus:
                if not await has_service(bus, LOGIND):
                    return Availability.no("systemd-logind is not running on the system bus")
        except Unavailable as exc:
            why = str(exc)
            return Availability.no(why if "backlight" in why else f"no systemd-logind: {why}")
        except AgentError as exc:
            return Availability.no(f"systemd-logind did not answer ({exc})")
        return Availability.yes(f"{device.name} at {device.percent()}% through logind")

    async def set(self, setting: str, value: SettingValue) -> None:
        device = self._device()
        async with system_bus() as bus:
            await call(bus, LOGIND, SESSION_PATH, SESSION_IFACE, "SetBrightness", "ssu",
                       ["backlight", device.name, device.raw_for(int(value))])


class SysfsBrightness(_BacklightBase):
    name = "sysfs-backlight"

    async def availability(self) -> Availability:
        try:
            device = self._device()
        except Unavailable as exc:
            return Availability.no(str(exc))
        if not os.access(device.path / "brightness", os.W_OK):
            return Availability.no(f"{device.path / 'brightness'} is not writable for agentd")
        return Availability.yes(f"{device.name} at {device.percent()}%")

    async def set(self, setting: str, value: SettingValue) -> None:
        device = self._device()
        try:
            (device.path / "brightness").write_text(str(device.raw_for(int(value))))
        except PermissionError:
            raise Unavailable(f"{device.path / 'brightness'} is not writable for agentd") \
                from None
