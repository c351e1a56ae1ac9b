"""apps.list and apps.open over the selected apps backend."""

from __future__ import annotations

import asyncio

from agentd.adapters.apps import APPS_CAPABILITY, Apps
from agentd.adapters.base import AdapterRegistry
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult


def install_app_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def backend() -> Apps:
        return await adapters.select(APPS_CAPABILITY)

    async def list_apps(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        apps = await asyncio.to_thread((await backend()).installed)
        if not apps:
            return ToolResult("No apps are installed.", {"apps": []})
        return ToolResult(f"{len(apps)} app(s): {', '.join(a.name for a in apps)}.",
                          {"apps": [a.to_json() for a in apps]})

    async def open_app(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        apps = await backend()
        app = await asyncio.to_thread(apps.find, str(args["app"]))
        await asyncio.to_thread(apps.launch, app)
        return ToolResult(f"Opened {app.name}.", {"app": app.to_json(), "launcher": apps.name})

    tools.implement("apps.list", list_apps)
    tools.implement("apps.open", open_app)
