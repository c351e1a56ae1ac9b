"""The location capability: where the phone is, as coordinates and their accuracy.

A place name is given only when an offline source the phone carries knows one; no
backend has such a source yet, so ``place`` is None and the reply is the coordinates
alone (honest, and never a guess sent off the phone to be looked up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from agentd.adapters.base import Capability

CAPABILITY = "location"


@dataclass(frozen=True)
class Position:
    """Where the phone is: WGS 84 degrees, and the radius it lies within, in metres."""

    latitude: float
    longitude: float
    accuracy_m: float | None  # the service's estimate; None: it does not know
    altitude_m: float | None = None  # above sea level, when known
    timestamp: int | None = None  # when it was measured, seconds since the epoch
    place: str | None = None  # a place name from an offline source, when one knows it

    def within(self) -> str:
        """The accuracy as people say it: "within 30 m", "within 1.5 km", "within 25 km"
        (rounded up; a GPS's estimate of 0 m is said as 1 m)."""
        if self.accuracy_m is None:
            return "accuracy unknown"
        if self.accuracy_m < 1000:
            return f"within {max(1, math.ceil(self.accuracy_m))} m"
        km = self.accuracy_m / 1000
        return f"within {math.ceil(km * 10) / 10:g} km" if km < 10 else \
            f"within {math.ceil(km)} km"

    def sentence(self) -> str:
        """'The phone is at 52.5200, 13.4050 (within 30 m).': four decimals are ~11 m."""
        near = f", near {self.place}" if self.place else ""
        return (f"The phone is at {self.latitude:.4f}, {self.longitude:.4f}{near} "
                f"({self.within()}).")

    def to_json(self) -> dict[str, Any]:
        return {"latitude": self.latitude, "longitude": self.longitude,
                "accuracy_m": self.accuracy_m, "altitude_m": self.altitude_m,
                "timestamp": self.timestamp, "place": self.place}


class Location(Protocol):
    """Find where the phone is."""

    name: str

    async def position(self) -> Position:
        """The phone's position now; ``Unavailable`` saying why there is none (the
        service is off, agentd is not allowed, or no fix came in time)."""
        ...


# The typed handle tools select backends with (``AdapterRegistry.select``).
LOCATION_CAPABILITY = Capability[Location](CAPABILITY)
