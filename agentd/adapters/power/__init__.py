"""The power capability: the battery's charge and whether it is charging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from agentd.adapters.base import Capability

CAPABILITY = "power"
NO_BATTERY = "no battery"  # every "this device has none" reason starts so


@dataclass(frozen=True)
class Battery:
    """The battery now."""

    percent: int
    state: str  # charging, discharging, full, not charging, unknown

    def sentence(self) -> str:
        doing = {"charging": ", charging", "discharging": "", "full": ", fully charged",
                 "not charging": ", plugged in but not charging"}.get(self.state, "")
        return f"The battery is at {self.percent}%{doing}."

    def to_json(self) -> dict[str, Any]:
        return {"percent": self.percent, "state": self.state,
                "charging": self.state == "charging"}


class Power(Protocol):
    """Read the battery."""

    name: str

    async def battery(self) -> Battery:
        """The battery now; ``Unavailable`` starting "no battery" when there is none."""
        ...


# The typed handle tools select backends with (``AdapterRegistry.select``).
POWER_CAPABILITY = Capability[Power](CAPABILITY)
