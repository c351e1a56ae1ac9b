"""Backend "networkmanager": Wi-Fi and mobile data through NetworkManager (system bus).

``org.freedesktop.NetworkManager`` has the read-write properties ``WirelessEnabled`` and
``WwanEnabled`` (what ``nmcli radio wifi|wwan on|off`` changes); ``...HardwareEnabled``
says whether a hardware switch blocks the radio. Changing them is allowed by polkit
(``org.freedesktop.NetworkManager.enable-disable-wifi``/``-wwan``) for the active session.
"""

from __future__ import annotations

from dbus_fast import Variant
from dbus_fast.aio import MessageBus

from agentd.adapters.base import Availability
from agentd.adapters.dbuscalls import get_properties, has_service, set_property, system_bus
from agentd.adapters.settings import CAPABILITY, LABELS, SettingValue
from agentd.errors import AgentError, Unavailable

NM_NAME = "org.freedesktop.NetworkManager"
NM_PATH = "/org/freedesktop/NetworkManager"
PROPERTY = {"wifi": "WirelessEnabled", "mobile_data": "WwanEnabled"}
NOT_RUNNING = "NetworkManager is not running on the system bus (Debian package network-manager)"


class NetworkManagerSettings:
    name = "networkmanager"
    capability = CAPABILITY
    test = False
    settings = frozenset(PROPERTY)

    async def availability(self) -> Availability:
        try:
            props = await self._properties()
        except (Unavailable, AgentError) as exc:
            why = str(exc)
            return Availability.no(why if "NetworkManager" in why else f"no NetworkManager: {why}")
        return Availability.yes(f"NetworkManager {props.get('Version', '?')}: "
                                f"Wi-Fi {_word(props.get('WirelessEnabled'))}, "
                                f"mobile data {_word(props.get('WwanEnabled'))}")

    async def supports(self, setting: str) -> Availability:
        return await self.availability()

    async def get(self, setting: str) -> SettingValue:
        return bool((await self._properties())[PROPERTY[setting]])

    async def set(self, setting: str, value: SettingValue) -> None:
        async with system_bus() as bus:
            await self._check(bus)
            props = await get_properties(bus, NM_NAME, NM_PATH, NM_NAME)
            if value and props.get(PROPERTY[setting].replace("Enabled", "HardwareEnabled")) \
                    is False:
                raise Unavailable(f"{LABELS[setting]} is blocked by a hardware switch")
            await set_property(bus, NM_NAME, NM_PATH, NM_NAME, PROPERTY[setting],
                               Variant("b", bool(value)))

    async def _properties(self) -> dict[str, object]:
        async with system_bus() as bus:
            await self._check(bus)
            try:
                return await get_properties(bus, NM_NAME, NM_PATH, NM_NAME)
            except AgentError as exc:
                raise Unavailable(f"NetworkManager did not answer ({exc})") from None

    @staticmethod
    async def _check(bus: MessageBus) -> None:
        if not await has_service(bus, NM_NAME):
            raise Unavailable(NOT_RUNNING)


def _word(value: object) -> str:
    return "on" if value else "off"
