"""A plan: the ordered tool calls that answer a request, and who made it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentd.tools.registry import ArgValue

CANNOT_DO = "I can't do that yet."


@dataclass(frozen=True)
class PlannedStep:
    """One tool call: the tool's catalogue name and its arguments."""

    tool: str
    args: dict[str, ArgValue] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"tool": self.tool, "args": dict(self.args)}


@dataclass(frozen=True)
class Plan:
    """What to do for a request. An empty plan carries an honest reply instead."""

    steps: tuple[PlannedStep, ...]
    tier: str  # "templates", "model", or "none"
    reply: str = ""  # set when there is nothing to do (e.g. CANNOT_DO)
    # A spoken request the templates matched only after a repair (a word dropped or
    # changed): what they understood. Steps that change anything then ask first.
    understood_as: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.steps

    @staticmethod
    def nothing(tier: str = "none", reply: str = CANNOT_DO) -> Plan:
        return Plan(steps=(), tier=tier, reply=reply)
