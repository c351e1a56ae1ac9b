"""Retention: what agentd keeps, and for how long (docs/consent.md, "What is kept").

At start and every hour: finished tasks (with their steps) older than
``retention_days`` or beyond the newest ``retention_tasks`` are removed; step results
that quote others' content (the results of every tool not declared ``trusted``: screen
text, notification bodies, messages, file names) are blanked after
``private_result_days``; audit records older than ``retention_days`` are removed behind a
checkpoint that keeps the chain verifiable. An unfinished task is never touched.
"""

from __future__ import annotations

import asyncio
import logging
import time

from agentd.config import Settings
from agentd.store.audit import AuditLog
from agentd.store.database import StorageError
from agentd.store.journal import Journal
from agentd.tools.registry import ToolRegistry

log = logging.getLogger(__name__)

DAY_S = 86400.0
EVERY_S = 3600.0


class Retention:
    def __init__(self, settings: Settings, journal: Journal, audit: AuditLog,
                 registry: ToolRegistry) -> None:
        self._settings = settings
        self._journal = journal
        self._audit = audit
        self._private = frozenset(spec.name for spec in registry if not spec.trusted)

    def run_once(self, now: float | None = None) -> dict[str, int]:
        """Apply the settings now; what was removed."""
        now = time.time() if now is None else now
        days, private_days = self._settings.retention_days, self._settings.private_result_days
        older = now - days * DAY_S if days > 0 else 0.0
        private_before = now - private_days * DAY_S if private_days > 0 else 0.0
        tasks, blanked = self._journal.prune(older, self._settings.retention_tasks,
                                             private_before,
                                             self._private if private_days > 0 else frozenset())
        records = self._audit.prune(older) if days > 0 else 0
        if tasks or blanked or records:
            log.info("retention: %d task(s) removed, %d private result(s) blanked, %d audit "
                     "record(s) pruned", tasks, blanked, records)
        return {"tasks": tasks, "results": blanked, "audit": records}

    async def run(self) -> None:
        """Every hour until cancelled; a full disk is logged and tried again later."""
        while True:
            await asyncio.sleep(EVERY_S)
            try:
                self.run_once()
            except StorageError as exc:
                log.warning("retention could not run: %s", exc.message)
