"""Task and step records: what the journal stores and the bus shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from agentd.tools.registry import Risk


class TaskState(StrEnum):
    QUEUED = "queued"
    UNDERSTANDING = "understanding"
    AWAITING_CONFIRMATION = "awaiting-confirmation"
    ACTING = "acting"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # unfinished when the daemon died

    @property
    def is_final(self) -> bool:
        return self in _FINAL_TASK


_FINAL_TASK = {TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED, TaskState.INTERRUPTED}


class StepState(StrEnum):
    PLANNED = "planned"
    AWAITING_CONFIRMATION = "awaiting-confirmation"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    DENIED = "denied"  # the user said no, or did not answer in time
    SKIPPED = "skipped"  # an earlier step failed or was denied
    NOT_RUN = "not-run"  # the daemon died before the step started
    UNKNOWN = "unknown"  # the daemon died while the step ran: it may or may not have happened


@dataclass(frozen=True)
class Caller:
    """Who asked: the bus daemon's GetConnectionCredentials, and the process behind them
    (``agentd.policy.identity``)."""

    bus_name: str = ""
    uid: int = -1
    pid: int = -1
    exe: str = ""
    # What grants are bound to, verified: the executable, the script an interpreter runs
    # (only when nothing else can run first), "flatpak:APP_ID" or "snap:NAME"; "" when
    # agentd cannot tell, and then nothing can be granted to it.
    program: str = ""
    sandbox: str = ""  # "flatpak", "snap" or "" (not journaled: the program says it)
    agentctl: bool = False  # the user's own agentctl (see identity.is_agentctl)

    @property
    def sandboxed(self) -> bool:
        return bool(self.sandbox)

    def to_json(self) -> dict[str, Any]:
        return {"bus_name": self.bus_name, "uid": self.uid, "pid": self.pid, "exe": self.exe,
                "program": self.program, "sandbox": self.sandbox}


@dataclass
class StepRecord:
    index: int
    tool: str
    args: dict[str, Any]
    risk: Risk
    summary: str
    state: StepState = StepState.PLANNED
    result: str = ""
    error: str = ""
    confirmed: bool = False
    # The untrusted content the task held when this step was planned: a step planned
    # after content arrived may have been planned *by* that content, so it asks.
    after_content: tuple[str, ...] = ()
    # For a spoken request the templates matched only once repaired: what they
    # understood ("what time is it" for "what ive is it"). Such a step asks, unless read.
    understood_as: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "tool": self.tool, "args": self.args, "risk": self.risk.value,
                "summary": self.summary, "state": str(self.state), "result": self.result,
                "error": self.error, "confirmed": self.confirmed}


@dataclass
class TaskRecord:
    id: int
    request: str
    state: TaskState
    created: float
    updated: float
    caller: Caller
    options: dict[str, Any] = field(default_factory=dict)
    tier: str = ""
    reply: str = ""
    steps: list[StepRecord] = field(default_factory=list)
    # Where untrusted content entered this task ("notifications.list: notification from
    # Signal"); once non-empty, external steps always need confirmation.
    taint: list[str] = field(default_factory=list)

    @property
    def dry_run(self) -> bool:
        return bool(self.options.get("dry_run"))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "request": self.request, "state": str(self.state),
                "created": self.created, "updated": self.updated, "tier": self.tier,
                "reply": self.reply, "caller": self.caller.to_json(),
                "options": self.options, "taint": self.taint,
                "steps": [s.to_json() for s in self.steps]}
