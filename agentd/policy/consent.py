"""The policy engine: right before a step runs, decide whether it may, whatever planned it.

Defaults: ``read`` and ``local`` steps run; ``external`` and ``irreversible`` ones ask the
user. A grant lets an ``external`` tool run for one caller program without asking, but
never once untrusted content has entered the task (taint): then it asks again, and the
question says where the content came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agentd.policy.grants import GrantStore
from agentd.tasks.model import StepRecord, TaskRecord
from agentd.tools.registry import Risk


class Decision(StrEnum):
    """The user's answer to a confirmation (or a cancel)."""

    ALLOW = "allow"
    ALWAYS = "always"  # allow, and grant this tool to this caller program from now on
    DENY = "deny"
    CANCEL = "cancel"


class Verdict(StrEnum):
    RUN = "run"
    ASK = "ask"


@dataclass(frozen=True)
class PolicyDecision:
    verdict: Verdict
    reason: str  # recorded in the audit log
    question: str = ""  # what the confirmation says, written by agentd, never by a model
    can_grant: bool = False  # whether "always allow" may be offered


def taint_warning(task: TaskRecord) -> str:
    return ("This request has read content that others control (" + "; ".join(task.taint) +
            "). If that content asked for this, say no.")


class PolicyEngine:
    def __init__(self, grants: GrantStore) -> None:
        self.grants = grants

    def check(self, task: TaskRecord, step: StepRecord) -> PolicyDecision:
        risk = Risk(step.risk)
        if not risk.needs_confirmation:
            return PolicyDecision(Verdict.RUN, f"{risk.value}: runs without asking")
        if task.taint:
            return PolicyDecision(Verdict.ASK, "tainted: asks whatever the grants say",
                                  f"{step.summary}?\n{taint_warning(task)}")
        if risk is Risk.EXTERNAL and self.grants.allows(step.tool, task.caller.program):
            return PolicyDecision(Verdict.RUN, f"granted to {task.caller.program}")
        return PolicyDecision(Verdict.ASK, f"{risk.value}: asks the user", f"{step.summary}?",
                              can_grant=risk is Risk.EXTERNAL and bool(task.caller.program))
