"""The settings capability: radios, theme, notifications, location, brightness, volume,
flashlight.

Settings live in different places on a phone, so each backend covers some of them
(``settings``) and says, per setting, whether it can serve it here (``supports``). The
tools pick, for the setting asked about, the first backend that can.
"""

from __future__ import annotations

from typing import Protocol

from agentd.adapters.base import Availability
from agentd.errors import InvalidRequest
from agentd.tools.catalogue import LEVEL_SETTINGS, TOGGLE_SETTINGS

CAPABILITY = "settings"
SettingValue = bool | int

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
    """``value`` as the type ``setting`` takes, or ``InvalidRequest`` saying why not."""
    if setting in TOGGLE_SETTINGS:
        if not isinstance(value, bool):
            raise InvalidRequest(f"{setting} is on or off (true/false), not {value!r}")
        return value
    if setting in LEVEL_SETTINGS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRequest(f"{setting} is a percentage 0-100, not {value!r}")
        if not 0 <= value <= 100:
            raise InvalidRequest(f"{setting} is a percentage 0-100, not {value}")
        return value
    raise InvalidRequest(f"there is no setting called {setting!r}")


def percent_of(raw: int, maximum: int) -> int:
    return max(0, min(100, round(raw * 100 / maximum))) if maximum > 0 else 0
