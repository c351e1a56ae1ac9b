"""The settings capability: radios, theme, notifications, location, brightness, volume,
flashlight.

Settings live in different places on a phone, so each backend covers some of them
(``settings``) and says, per setting, whether it can serve it here (``supports``). The
tools pick, for the setting asked about, the first backend that can.
"""

from __future__ import annotations

from typing import Protocol, cast

from agentd.adapters.base import Availability, Capability
from agentd.errors import InvalidRequest
from agentd.tools.catalogue import CATALOGUE, SETTINGS

CAPABILITY = "settings"
SettingValue = bool | int
SETTINGS_SET = next(spec for spec in CATALOGUE if spec.name == "settings.set")

LABELS = {
    "wifi": "Wi-Fi", "bluetooth": "Bluetooth", "airplane_mode": "airplane mode",
    "mobile_data": "mobile data", "location": "location services",
    "do_not_disturb": "do not disturb", "dark_mode": "dark mode", "flashlight": "the flashlight",
    "brightness": "brightness", "volume": "volume",
}


class SettingsBackend(Protocol):
    """Read and change some of the settings of ``agentd.tools.catalogue.SETTINGS``."""

    name: str
    test: bool
    settings: frozenset[str]

    async def availability(self) -> Availability:
        """Whether the backend works here at all (for `doctor`)."""
        ...

    async def supports(self, setting: str) -> Availability:
        """Whether ``setting`` (one of ``settings``) can be read and changed here."""
        ...

    async def get(self, setting: str) -> SettingValue:
        """The current value: a bool for toggles, a percent for levels."""
        ...

    async def set(self, setting: str, value: SettingValue) -> None:
        """Change ``setting``; ``value`` has passed ``check_value``."""
        ...


def check_value(setting: str, value: object) -> SettingValue:
    """``value`` as the type ``setting`` takes, or ``InvalidRequest`` saying why not: the
    catalogue's settings.set declaration decides (its variants: toggles, levels)."""
    if setting not in SETTINGS:
        raise InvalidRequest(f"there is no setting called {setting!r}")
    clean = SETTINGS_SET.validate({"setting": setting, "value": value})
    return cast(SettingValue, clean["value"])


def percent_of(raw: int, maximum: int) -> int:
    return max(0, min(100, round(raw * 100 / maximum))) if maximum > 0 else 0


# The typed handle tools select backends with (``AdapterRegistry.select``).
SETTINGS_CAPABILITY = Capability[SettingsBackend](CAPABILITY)
