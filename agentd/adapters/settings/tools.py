"""settings.get and settings.set: the first backend that can serve the setting asked about."""

from __future__ import annotations

from agentd.adapters.base import AdapterRegistry, Availability
from agentd.adapters.settings import (
    LABELS,
    SETTINGS_CAPABILITY,
    SettingsBackend,
    SettingValue,
    check_value,
)
from agentd.errors import InvalidRequest
from agentd.tools.catalogue import SETTINGS, TOGGLE_SETTINGS
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult


async def backend_for(adapters: AdapterRegistry, setting: str) -> SettingsBackend:
    """The first real backend that serves ``setting`` here, or ``Unavailable`` saying why
    none does."""
    if setting not in SETTINGS:
        raise InvalidRequest(f"there is no setting called {setting!r}")

    async def serves(backend: SettingsBackend) -> Availability | None:
        return await backend.supports(setting) if setting in backend.settings else None

    def refusal(reasons: list[str]) -> str:
        if not reasons:
            return f"agentd has no backend for {LABELS[setting]}"
        return f"{LABELS[setting]} cannot be used here ({'; '.join(reasons)})"

    return await adapters.select(SETTINGS_CAPABILITY, serves, refusal)


def say(setting: str, value: SettingValue) -> str:
    label = LABELS[setting]
    if setting in TOGGLE_SETTINGS:
        return f"{label[0].upper()}{label[1:]} is {'on' if value else 'off'}."
    return f"{label[0].upper()}{label[1:]} is at {value}%."


def install_settings_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def get(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        setting = str(args["setting"])
        backend = await backend_for(adapters, setting)
        value = await backend.get(setting)
        return ToolResult(say(setting, value), {"setting": setting, "value": value,
                                                "backend": backend.name})

    async def set_(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        setting = str(args["setting"])
        value = check_value(setting, args["value"])
        backend = await backend_for(adapters, setting)
        await backend.set(setting, value)
        label = LABELS[setting]
        text = (f"Turned {label} {'on' if value else 'off'}." if setting in TOGGLE_SETTINGS
                else f"Set {label} to {value}%.")
        return ToolResult(text, {"setting": setting, "value": value,
                                 "backend": backend.name})

    tools.implement("settings.get", get)
    tools.implement("settings.set", set_)
