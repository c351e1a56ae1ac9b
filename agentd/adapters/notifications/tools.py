"""notifications.send, notifications.list and notifications.clear."""

from __future__ import annotations

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.notifications import NOTIFICATIONS_CAPABILITY, Notifications
from agentd.policy.content import claim
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult


def install_notification_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def backend() -> Notifications:
        return await adapters.select(NOTIFICATIONS_CAPABILITY)

    async def send(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        nid = await (await backend()).send(str(args["summary"]), str(args.get("body", "")))
        return ToolResult(f"Showed the notification “{args['summary']}”.", {"id": nid})

    async def list_unread(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        items = (await backend()).unread()
        if not items:
            return ToolResult("No new notifications.", {"notifications": []})
        lines = [f"{n.app}: {n.summary}" + (f": {n.body}" if n.body else "") for n in items]
        apps = sorted({n.app for n in items})
        return ToolResult(f"{len(items)} notification(s). " + " | ".join(lines),
                          {"notifications": [n.to_json() for n in items],
                           "provenance": "notifications from " + ", ".join(map(claim, apps))})

    async def clear(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        closed = await (await backend()).clear()
        return ToolResult(f"Dismissed {closed} notification(s).", {"closed": closed})

    tools.implement("notifications.send", send)
    tools.implement("notifications.list", list_unread)
    tools.implement("notifications.clear", clear)
