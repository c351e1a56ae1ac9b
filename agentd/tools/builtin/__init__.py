"""Tools that need no phone hardware: clock, timers, alarms, agentd's own history."""

from __future__ import annotations

from agentd.tools.builtin import clock, history, timers
from agentd.tools.registry import ToolRegistry


def install_builtin_tools(registry: ToolRegistry) -> None:
    registry.implement("clock.time", clock.tell_time)
    registry.implement("timer.start", timers.start_timer)
    registry.implement("timer.cancel", timers.cancel_timer)
    registry.implement("alarm.set", timers.set_alarm)
    registry.implement("agent.history", history.tell_history)
