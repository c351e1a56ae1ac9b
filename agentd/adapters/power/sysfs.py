"""Backend "sysfs-battery": ``/sys/class/power_supply/*`` with ``type`` ``Battery``.

``capacity`` is the charge in percent; ``status`` is Charging, Discharging, Full or
Not charging. Used where UPower does not run.
"""

from __future__ import annotations

from pathlib import Path

from agentd.adapters.base import Availability
from agentd.adapters.power import CAPABILITY, NO_BATTERY, Battery
from agentd.errors import Unavailable

STATES = {"Charging": "charging", "Discharging": "discharging", "Full": "full",
          "Not charging": "not charging"}


class SysfsBattery:
    name = "sysfs-battery"
    capability = CAPABILITY
    test = False

    def __init__(self, sysfs: Path = Path("/sys")) -> None:
        self.root = sysfs / "class" / "power_supply"

    def supply(self) -> Path | None:
        for path in sorted(self.root.glob("*")):
            try:
                if (path / "type").read_text().strip() != "Battery":
                    continue
                present = path / "present"
                if present.exists() and present.read_text().strip() == "0":
                    continue
            except OSError:
                continue
            if (path / "capacity").exists():
                return path
        return None

    async def availability(self) -> Availability:
        try:
            battery = await self.battery()
        except Unavailable as exc:
            return Availability.no(str(exc))
        return Availability.yes(f"{battery.percent}% {battery.state}")

    async def battery(self) -> Battery:
        supply = self.supply()
        if supply is None:
            raise Unavailable(f"{NO_BATTERY} in {self.root}")
        try:
            percent = int((supply / "capacity").read_text())
            status = (supply / "status").read_text().strip() \
                if (supply / "status").exists() else ""
        except (OSError, ValueError) as exc:
            raise Unavailable(f"{NO_BATTERY} readable in {supply} ({exc})") from None
        return Battery(max(0, min(100, percent)), STATES.get(status, "unknown"))
