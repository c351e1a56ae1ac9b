"""What a tool handler may use while it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentd.policy.audit import AuditLog
    from agentd.tasks.journal import Journal
    from agentd.tasks.model import TaskRecord
    from agentd.tools.builtin.scheduler import Scheduler


@dataclass(frozen=True)
class ToolContext:
    task: TaskRecord
    journal: Journal
    scheduler: Scheduler
    audit: AuditLog
