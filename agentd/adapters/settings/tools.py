"""settings.get and settings.set: the first backend that can serve the setting asked about."""

from __future__ import annotations

from typing import cast

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.settings import CAPABILITY, LABELS, SettingsBackend, SettingValue, check_value
from agentd.errors import InvalidRequest, Unavailable
from agentd.tools.catalogue import SETTINGS, TOGGLE_SETTINGS
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult


async def backend_for(adapters: AdapterRegistry, setting: str) -> SettingsBackend:
    """The first real backend that serves ``setting`` here, or ``Unavailable`` saying why
    none does."""
    if setting not in SETTINGS:
        raise InvalidRequest(f"there is no setting called {setting!r}")
    reasons = []
    for candidate in adapters.backends(CAPABILITY):
        backend = cast(SettingsBackend, candidate)
        if backend.test or setting not in backend.settings:
            continue
        state = await backend.supports(setting)
        if state.ok:
            return backend
        reasons.append(f"{backend.name}: {state.reason}")
    if not reasons:
        raise Unavailable(f"agentd has no backend for {LABELS[setting]}")
    raise Unavailable(f"{LABELS[setting]} cannot be used here ({'; '.join(reasons)})")


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
