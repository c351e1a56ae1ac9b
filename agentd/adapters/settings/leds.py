"""Backend "leds": the flashlight through the kernel's LED class in sysfs.

The torch is ``/sys/class/leds/NAME`` whose name has ``torch`` (preferred) or ``flash``
in it (e.g. ``white:flash``, ``led:torch``): ``brightness`` 0 is off, ``max_brightness``
full on. Writing needs a udev rule giving the session user the file (postmarketOS ships
one) or root.
"""

from __future__ import annotations

from pathlib import Path

from agentd.adapters.base import Availability
from agentd.adapters.settings import CAPABILITY, SettingValue
from agentd.errors import Unavailable


class LedFlashlight:
    name = "leds"
    capability = CAPABILITY
    test = False
    settings = frozenset({"flashlight"})

    def __init__(self, sysfs: Path = Path("/sys")) -> None:
        self.root = sysfs / "class" / "leds"

    def led(self) -> Path | None:
        for word in ("torch", "flash"):
            for path in sorted(self.root.glob(f"*{word}*")):
                if (path / "brightness").exists() and (path / "max_brightness").exists():
                    return path
        return None

    async def availability(self) -> Availability:
        led = self.led()
        if led is None:
            return Availability.no(f"no flash or torch LED in {self.root}")
        return Availability.yes(f"{led.name}")

    async def supports(self, setting: str) -> Availability:
        return await self.availability()

    def _led(self) -> Path:
        led = self.led()
        if led is None:
            raise Unavailable(f"no flash or torch LED in {self.root}")
        return led

    async def get(self, setting: str) -> SettingValue:
        return int((self._led() / "brightness").read_text()) > 0

    async def set(self, setting: str, value: SettingValue) -> None:
        led = self._led()
        level = (led / "max_brightness").read_text().strip() if value else "0"
        try:
            (led / "brightness").write_text(level)
        except PermissionError:
            raise Unavailable(f"{led / 'brightness'} is not writable for agentd (a udev "
                              "rule must give it to the session user)") from None
