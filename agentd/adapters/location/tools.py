"""location.get over the selected location backend: agentd's own words (trusted)."""

from __future__ import annotations

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.location import LOCATION_CAPABILITY
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult


def install_location_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def get(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        location = await adapters.select(LOCATION_CAPABILITY)
        position = await location.position()
        return ToolResult(position.sentence(), {**position.to_json(), "backend": location.name})

    tools.implement("location.get", get)
