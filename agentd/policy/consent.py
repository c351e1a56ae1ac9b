"""The consent floor: external and irreversible steps wait for the user.

Grants, taint and the notification channel come with the consent issue; this module
is the one place that decision is made, so they have one place to plug in.
"""

from __future__ import annotations

from enum import StrEnum

from agentd.tasks.model import StepRecord
from agentd.tools.registry import Risk


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    CANCEL = "cancel"


def needs_confirmation(step: StepRecord) -> bool:
    return Risk(step.risk).needs_confirmation
