"""Backend "rfkill": Bluetooth and airplane mode through the kernel's rfkill switches.

State is read from ``/sys/class/rfkill/rfkillN/{type,soft,hard}``. Changes go through
``/dev/rfkill`` (an ``RFKILL_OP_CHANGE_ALL`` event per radio type; udev's ``uaccess``
rule lets the active session write it), or, where that cannot be opened, the sysfs
``soft`` files (root). Airplane mode is "every radio soft-blocked"; turning it off
unblocks every radio.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from agentd.adapters.base import Availability
from agentd.adapters.settings import CAPABILITY, SettingValue
from agentd.errors import Unavailable

TYPE_ALL, TYPE_BLUETOOTH = 0, 2
OP_CHANGE_ALL = 3
EVENT = struct.Struct("<IBBBB")  # struct rfkill_event: idx, type, op, soft, hard


@dataclass(frozen=True)
class Radio:
    path: Path  # /sys/class/rfkill/rfkillN
    kind: str  # wlan, bluetooth, wwan, gps, nfc, ...
    soft: bool  # blocked by software
    hard: bool  # blocked by a hardware switch


class RfkillSettings:
    name = "rfkill"
    capability = CAPABILITY
    test = False
    settings = frozenset({"bluetooth", "airplane_mode"})

    def __init__(self, sysfs: Path = Path("/sys"), device: Path = Path("/dev/rfkill")) -> None:
        self.root = sysfs / "class" / "rfkill"
        self.device = device

    def radios(self) -> list[Radio]:
        found = []
        for path in sorted(self.root.glob("rfkill*")):
            try:
                kind = (path / "type").read_text().strip()
                soft = (path / "soft").read_text().strip() == "1"
                hard_file = path / "hard"
                hard = hard_file.exists() and hard_file.read_text().strip() == "1"
            except OSError:
                continue  # went away while we looked
            found.append(Radio(path, kind, soft, hard))
        return found

    async def availability(self) -> Availability:
        radios = self.radios()
        if not radios:
            return Availability.no(f"no radio switches in {self.root} (no rfkill devices)")
        return Availability.yes(", ".join(f"{r.kind} {'off' if r.soft or r.hard else 'on'}"
                                          for r in radios))

    async def supports(self, setting: str) -> Availability:
        if setting == "bluetooth" and not self._bluetooth():
            return Availability.no(f"no Bluetooth adapter in {self.root}")
        return await self.availability()

    async def get(self, setting: str) -> SettingValue:
        if setting == "bluetooth":
            radios = self._bluetooth()
            if not radios:
                raise Unavailable(f"no Bluetooth adapter in {self.root}")
            return any(not r.soft and not r.hard for r in radios)
        radios = self.radios()
        if not radios:
            raise Unavailable(f"no radio switches in {self.root} (no rfkill devices)")
        return all(r.soft for r in radios)

    async def set(self, setting: str, value: SettingValue) -> None:
        if setting == "bluetooth":
            radios, kind, block = self._bluetooth(), TYPE_BLUETOOTH, not value
        else:
            radios, kind, block = self.radios(), TYPE_ALL, bool(value)
        if not radios:
            raise Unavailable(f"no {'Bluetooth adapter' if kind else 'radio switches'} "
                              f"in {self.root}")
        if not self._write_event(kind, block):
            self._write_sysfs(radios, block)
        if not block and (stuck := [r for r in radios if r.hard]):
            raise Unavailable(f"{', '.join(r.kind for r in stuck)} is blocked by a "
                              "hardware switch")

    def _bluetooth(self) -> list[Radio]:
        return [r for r in self.radios() if r.kind == "bluetooth"]

    def _write_event(self, kind: int, block: bool) -> bool:
        """Change every radio of ``kind`` through /dev/rfkill; False if it cannot be opened."""
        try:
            fd = os.open(self.device, os.O_WRONLY | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            os.write(fd, EVENT.pack(0, kind, OP_CHANGE_ALL, int(block), 0))
        finally:
            os.close(fd)
        return True

    def _write_sysfs(self, radios: list[Radio], block: bool) -> None:
        for radio in radios:
            try:
                (radio.path / "soft").write_text("1" if block else "0")
            except PermissionError:
                raise Unavailable(f"agentd may not change the radios: {self.device} cannot "
                                  f"be opened and {radio.path / 'soft'} is not writable "
                                  "(udev gives the active session /dev/rfkill)") from None
