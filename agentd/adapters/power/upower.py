"""Backend "upower": the battery through UPower's display device on the system bus.

``/org/freedesktop/UPower/devices/DisplayDevice`` (``org.freedesktop.UPower.Device``) is
the composite battery the shell shows: ``IsPresent``, ``Percentage`` (double) and
``State`` (1 charging, 2 discharging, 3 empty, 4 fully charged, 5 pending charge,
6 pending discharge). A machine without a battery has ``IsPresent`` false.
"""

from __future__ import annotations

from agentd.adapters.base import Availability
from agentd.adapters.dbuscalls import get_properties, has_service, system_bus
from agentd.adapters.power import CAPABILITY, NO_BATTERY, Battery
from agentd.errors import AgentError, Unavailable

UPOWER = "org.freedesktop.UPower"
DISPLAY_DEVICE = "/org/freedesktop/UPower/devices/DisplayDevice"
DEVICE_IFACE = "org.freedesktop.UPower.Device"
STATES = {1: "charging", 2: "discharging", 3: "discharging", 4: "full",
          5: "not charging", 6: "discharging"}


class UPowerBattery:
    name = "upower"
    capability = CAPABILITY
    test = False

    async def availability(self) -> Availability:
        try:
            battery = await self.battery()
        except (Unavailable, AgentError) as exc:
            return Availability.no(str(exc))
        return Availability.yes(f"UPower: {battery.percent}% {battery.state}")

    async def battery(self) -> Battery:
        try:
            async with system_bus() as bus:
                if not await has_service(bus, UPOWER):
                    raise Unavailable(f"{NO_BATTERY} known: UPower is not running on the "
                                      "system bus (Debian package upower)")
                props = await get_properties(bus, UPOWER, DISPLAY_DEVICE, DEVICE_IFACE)
        except Unavailable as exc:
            if str(exc).startswith(NO_BATTERY):
                raise
            raise Unavailable(f"{NO_BATTERY} known: {exc}") from None
        except AgentError as exc:
            raise Unavailable(f"{NO_BATTERY} known: UPower did not answer ({exc})") from None
        if not props.get("IsPresent"):
            raise Unavailable(f"{NO_BATTERY}: UPower runs but reports no battery")
        return Battery(round(float(props.get("Percentage", 0.0))),
                       STATES.get(int(props.get("State", 0)), "unknown"))
