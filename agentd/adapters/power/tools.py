"""device.battery over the selected power backend."""

from __future__ import annotations

from typing import cast

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.power import CAPABILITY, Power
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult


def install_power_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def battery(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        power = cast(Power, await adapters.select(CAPABILITY))
        state = await power.battery()
        return ToolResult(state.sentence(), {**state.to_json(), "backend": power.name})

    tools.implement("device.battery", battery)
