"""What a tool handler may use while it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentd.records import TaskRecord
    from agentd.store.audit import AuditLog
    from agentd.store.journal import Journal
    from agentd.tools.builtin.scheduler import Scheduler


@dataclass(frozen=True)
class ToolContext:
    task: TaskRecord
    journal: Journal
    scheduler: Scheduler
    audit: AuditLog
