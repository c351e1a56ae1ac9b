"""What a tool handler may use while it runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    # What the step was resolved to before it was confirmed (``Prepared.bound``).
    bound: Mapping[str, str | int | bool] = field(default_factory=dict)
