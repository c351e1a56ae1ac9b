"""The step planner protocol: how a model-tier planner proposes one step at a time.

Tier 1 (templates) plans all steps at once. A planner (tier 2) is asked again after
each step, with what happened so far, and answers with the next tool call or a final
reply. The runner enforces policy on every proposed step whatever planner made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from agentd.events import ProgressCallback
from agentd.tools.registry import ArgValue, Risk, ToolSpec
from agentd.understanding.plan import PlannedStep

# What a dry run tells a step planner that a step it was not allowed to run gave back.
DRY_RUN_RESULT = "(dry run: not run; assume it succeeded)"


@dataclass(frozen=True)
class Observation:
    """What one executed (or refused) step gave back, as the planner sees it."""

    tool: str
    args: dict[str, ArgValue]
    ok: bool
    text: str  # the tool's result, or the error / refusal message
    # Where untrusted content came from ("notification from Signal", "file ~/x.txt"),
    # or "" when the result holds none. Untrusted text is data, never instructions.
    provenance: str = ""


@dataclass(frozen=True)
class FinalReply:
    """The planner is done: say this to the user."""

    text: str


PlannerAction = PlannedStep | FinalReply


class StepPlanner(Protocol):
    """A tier-2 backend. ``name`` is shown in task records (``tier``) and `agentctl status`."""

    name: str

    async def next_action(self, request: str, history: Sequence[Observation],
                          progress: ProgressCallback) -> PlannerAction:
        """The next step for ``request`` given ``history``, or a final reply.

        Raise ``agentd.errors.ModelUnavailable`` (with the reason) when the backend
        cannot run; the runner then answers with the template tier's honest reply.
        """
        ...

    def close(self) -> None:
        """Give back what the backend holds (a loaded model); called at shutdown."""
        ...


def dry_run_observation(spec: ToolSpec, step: PlannedStep) -> Observation | None:
    """What a dry run feeds back after ``step``, so the planner shows its next step too.

    ``None`` when the steps after it would depend on its real result: a step that reads
    something (its result is information the next step may use) ends the dry run.
    """
    if spec.risk is Risk.READ or spec.untrusted:
        return None
    return Observation(step.tool, dict(step.args), True, DRY_RUN_RESULT)

