"""The messages between agentd's parts and its clients, one small frozen dataclass each.

A task's ``Progress`` signal carries ``(kind, detail)`` on the bus; here each kind is a
class, made by the part that knows it (the runner, the model manager, the planner, the
executor) and read back by agentctl with ``decode``. A field left ``None`` is not sent,
so the wire shapes stay exactly what clients already read (``docs/api.md``). Likewise
``Question`` is a ``ConfirmationRequested`` signal's detail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class UnderstandingStarted:
    """The request is being matched against the templates."""

    kind: ClassVar[str] = "understanding"


@dataclass(frozen=True)
class Planned:
    """A plan exists: how many steps, from which tier."""

    kind: ClassVar[str] = "planned"
    tier: str
    steps: int


@dataclass(frozen=True)
class ModelLoading:
    kind: ClassVar[str] = "loading"
    model: str
    bytes: int


@dataclass(frozen=True)
class ModelLoaded:
    kind: ClassVar[str] = "loaded"
    model: str
    seconds: float


@dataclass(frozen=True)
class Thinking:
    """The model tier works: its prompt (once), then tokens as they come; a test planner
    names itself."""

    kind: ClassVar[str] = "thinking"
    prompt_tokens: int | None = None
    tools: int | None = None
    tokens: int | None = None
    planner: str | None = None


@dataclass(frozen=True)
class StepChanged:
    """A step starts (``summary``) or ends (``result``, ``error``)."""

    kind: ClassVar[str] = "step"
    index: int
    tool: str
    state: str
    summary: str | None = None
    result: str | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"


ProgressEvent = (UnderstandingStarted | Planned | ModelLoading | ModelLoaded | Thinking
                 | StepChanged)
ProgressCallback = Callable[[ProgressEvent], None]
KINDS: dict[str, type[ProgressEvent]] = {
    cls.kind: cls for cls in (UnderstandingStarted, Planned, ModelLoading, ModelLoaded,
                              Thinking, StepChanged)}


def encode(event: ProgressEvent) -> tuple[str, dict[str, Any]]:
    """The ``Progress`` signal's ``(kind, detail)``; unset (``None``) fields are left out."""
    detail = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)
              if getattr(event, f.name) is not None}
    return event.kind, detail


def decode(kind: str, detail: Mapping[str, Any]) -> ProgressEvent | None:
    """The event a ``Progress`` signal carries; None for a kind or shape this client does
    not know (a newer agentd may send more)."""
    cls = KINDS.get(kind)
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in detail.items() if k in names})
    except TypeError:
        return None


@dataclass(frozen=True)
class Question:
    """What ``ConfirmationRequested`` says about the step that waits for the user."""

    task: int
    step: int
    tool: str
    risk: str
    args: Mapping[str, Any]
    summary: str
    can_grant: bool
    taint: tuple[str, ...] = ()
    # A "which one?" question: what the user chooses from (Task1.Choose takes the index).
    choices: tuple[str, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "args": dict(self.args), "taint": list(self.taint),
                "choices": list(self.choices)}

    @staticmethod
    def from_wire(detail: Mapping[str, Any]) -> Question:
        return Question(int(detail.get("task", 0)), int(detail.get("step", 0)),
                        str(detail.get("tool", "")), str(detail.get("risk", "")),
                        dict(detail.get("args", {})), str(detail.get("summary", "")),
                        bool(detail.get("can_grant", False)),
                        tuple(str(t) for t in detail.get("taint", ())),
                        tuple(str(c) for c in detail.get("choices", ())))


@dataclass(frozen=True)
class TaskView:
    """A task as a client sees it: its D-Bus properties, decoded once (agentctl)."""

    path: str
    id: int | None
    request: str
    state: str
    tier: str
    reply: str
    created: float | None
    caller: Mapping[str, Any]
    steps: tuple[Mapping[str, Any], ...]

    FINAL: ClassVar[frozenset[str]] = frozenset({"done", "failed", "cancelled", "interrupted"})

    @property
    def finished(self) -> bool:
        return self.state in self.FINAL

    @staticmethod
    def from_properties(path: str, props: Mapping[str, Any]) -> TaskView:
        return TaskView(path, props.get("Id"), props.get("Request", ""),
                        props.get("State", ""), props.get("Tier", ""), props.get("Reply", ""),
                        props.get("Created"), props.get("Caller", {}),
                        tuple({k: v for k, v in step.items() if k != "args_json"}
                              for step in props.get("Steps", [])))

    def to_json(self) -> dict[str, Any]:
        """``agentctl --json``'s task shape (stable: scripts read it)."""
        return {"task": self.path, "id": self.id, "request": self.request,
                "state": self.state, "tier": self.tier, "reply": self.reply,
                "created": self.created, "caller": dict(self.caller),
                "steps": [dict(step) for step in self.steps]}
