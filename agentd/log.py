"""Logging: journald-friendly when started by systemd, the task id on every line."""

from __future__ import annotations

import contextvars
import logging
import os
import sys

current_task_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_task_id", default=None)

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
             logging.CRITICAL: 2}


class _TaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        task = current_task_id.get()
        record.task = f"task {task}: " if task is not None else ""
        record.priority = _PRIORITY.get(record.levelno, 6)
        return True


def setup_logging(level: str = "info") -> None:
    """Log to stderr; with ``JOURNAL_STREAM`` set, prefix syslog priorities for journald."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_TaskFilter())
    if os.environ.get("JOURNAL_STREAM"):
        fmt = "<%(priority)d>%(task)s%(message)s"
    else:
        fmt = "%(asctime)s %(levelname)s %(name)s: %(task)s%(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
