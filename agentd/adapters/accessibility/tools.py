"""screen.read: the app the user looks at and its visible text (untrusted content)."""

from __future__ import annotations

from agentd.adapters.accessibility import ACCESSIBILITY_CAPABILITY
from agentd.adapters.base import AdapterRegistry
from agentd.policy.content import claim
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult


def install_accessibility_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def read(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        backend = await adapters.select(ACCESSIBILITY_CAPABILITY)
        screen = await backend.read_screen()
        title = screen.window if screen.window else screen.app
        where = f"{title} ({screen.app})" if screen.window and screen.window != screen.app \
            else title
        guess = "" if screen.active else " (no window has the focus: the app opened last)"
        text = " | ".join(screen.lines) if screen.lines else "nothing readable"
        more = " …(more not read)" if screen.truncated else ""
        return ToolResult(f"{where} is open{guess}. It shows: {text}{more}",
                          {"app": screen.app, "window": screen.window,
                           "active": screen.active, "lines": list(screen.lines),
                           "truncated": screen.truncated, "other_apps": list(screen.others),
                           "provenance": f"the screen ({claim(screen.app)})"})

    tools.implement("screen.read", read)
