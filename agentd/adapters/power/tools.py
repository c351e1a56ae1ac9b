"""device.battery over the selected power backend."""

from __future__ import annotations

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.power import POWER_CAPABILITY
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult


def install_power_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def battery(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        power = await adapters.select(POWER_CAPABILITY)
        state = await power.battery()
        return ToolResult(state.sentence(), {**state.to_json(), "backend": power.name})

    tools.implement("device.battery", battery)
