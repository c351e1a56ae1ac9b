"""The exported interfaces, typed: the single source of truth for the D-Bus API.

``system/dbus/*.xml`` is generated from these classes (``python -m agentd.bus.introspect``)
and a test fails when the two drift apart.

(No ``from __future__ import annotations`` here: dbus-fast reads the signature strings.)
"""

import contextlib
import dataclasses
import functools
import inspect
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

from dbus_fast import DBusError, PropertyAccess, Variant
from dbus_fast import introspection as intr
from dbus_fast.annotations import (
    DBusDict,
    DBusDouble,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt32,
    DBusUInt64,
    DBusUnixFd,
)
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from agentd import __version__
from agentd.bus.names import AGENT_IFACE, TASK_IFACE
from agentd.bus.variants import from_variant, to_vardict
from agentd.errors import AgentError
from agentd.policy.consent import Decision
from agentd.records import Caller, TaskRecord

if TYPE_CHECKING:
    from agentd.bus.service import AgentService

F = TypeVar("F", bound=Callable[..., Any])

MAX_NAME, MAX_PATH, MAX_LOG_ENTRIES = 64, 4096, 10_000
DBusDictList = Annotated[list[dict[str, Variant]], DBusSignature("aa{sv}")]
DBusPathList = Annotated[list[str], DBusSignature("ao")]
StrDict = Annotated[tuple[str, dict[str, Variant]], DBusSignature("sa{sv}")]


def named_errors(fn: F) -> F:
    """Turn ``AgentError`` into the matching ``io.agentd.Error.*`` reply: the one place."""
    if _is_coroutine(fn):
        @functools.wraps(fn)
        async def wrapped_async(*args: Any) -> Any:
            try:
                return await fn(*args)
            except AgentError as exc:
                raise DBusError(exc.dbus_name, exc.message) from None
        return wrapped_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapped(*args: Any) -> Any:
        try:
            return fn(*args)
        except AgentError as exc:
            raise DBusError(exc.dbus_name, exc.message) from None
    return wrapped  # type: ignore[return-value]


def _is_coroutine(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn)


class _NamedArgs(ServiceInterface):
    """Names the output arguments of methods and signals in introspection (D-Spy, gdbus)."""

    OUT_ARGS: ClassVar[dict[str, tuple[str, ...]]] = {}

    def introspect(self) -> intr.Interface:
        result = super().introspect()
        for method in result.methods:
            for arg, name in zip(method.out_args, self.OUT_ARGS.get(method.name, ()),
                                 strict=False):
                arg.name = name
        for signal in result.signals:
            for arg, name in zip(signal.args, self.OUT_ARGS.get(signal.name, ()),
                                 strict=False):
                arg.name = name
            for arg in signal.args:
                arg.direction = None
        return result


class AgentInterface(_NamedArgs):
    """io.agentd.Agent1 at /io/agentd/Agent1: ask for things, list tools and tasks."""

    OUT_ARGS: ClassVar[dict[str, tuple[str, ...]]] = {
        "Ask": ("task",), "AskAudio": ("task",), "ListTools": ("tools",), "ListTasks": ("tasks",),
        "ListGrants": ("grants",), "RevokeGrant": ("removed",), "ReadLog": ("entries",),
        "VerifyLog": ("intact", "message", "records"), "Diagnose": ("backends",),
        "TaskAdded": ("task",), "TimerFired": ("kind", "label", "due")}

    def __init__(self, service: "AgentService") -> None:
        super().__init__(AGENT_IFACE)
        self._service = service

    @dbus_method(name="Ask")
    @named_errors
    async def ask(self, text: DBusStr, options: DBusDict) -> DBusObjectPath:
        caller = await self._service.current_caller()
        return self._service.submit(text, from_variant(options), caller)

    @dbus_method(name="AskAudio")
    @named_errors
    async def ask_audio(self, audio: DBusUnixFd, options: DBusDict) -> DBusObjectPath:
        """A spoken request: WAV or raw PCM read from ``audio`` to its end."""
        caller = await self._service.current_caller()
        return await self._service.submit_audio(audio, from_variant(options), caller)

    @dbus_method(name="ListTools")
    async def list_tools(self) -> DBusDictList:
        return [to_vardict(entry) for entry in await self._service.describe_tools()]

    @dbus_method(name="ListTasks")
    @named_errors
    async def list_tasks(self) -> DBusPathList:
        """The caller's own tasks; every task for the user's agentctl."""
        return self._service.task_paths(await self._service.current_caller())

    @dbus_method(name="ListGrants")
    @named_errors
    async def list_grants(self) -> DBusDictList:
        await self._service.require_agentctl("the list of grants")
        return [to_vardict(g.to_json()) for g in self._service.grants.list()]

    @dbus_method(name="RevokeGrant")
    @named_errors
    async def revoke_grant(self, tool: DBusStr, program: DBusStr) -> DBusUInt32:
        await self._service.require_agentctl("revoking a grant")
        return self._service.grants.revoke(tool[:MAX_NAME], program[:MAX_PATH])

    @dbus_method(name="ReadLog")
    @named_errors
    async def read_log(self, since: DBusDouble, limit: DBusUInt32) -> DBusDictList:
        await self._service.require_agentctl("the audit log")
        entries = self._service.audit.entries(since, min(limit, MAX_LOG_ENTRIES))
        return [to_vardict(audit_json(e.to_json())) for e in entries]

    @dbus_method(name="VerifyLog")
    def verify_log(self) -> Annotated[tuple[bool, str, int], DBusSignature("bsu")]:
        return self._service.audit.verify()

    @dbus_method(name="Diagnose")
    @named_errors
    async def diagnose(self) -> DBusDictList:
        """Each capability's backends: whether available here, why not, which is used."""
        return [to_vardict(row) for row in await self._service.diagnose()]

    @dbus_property(name="Version", access=PropertyAccess.READ)
    def version(self) -> DBusStr:
        return __version__

    @dbus_property(name="Model", access=PropertyAccess.READ)
    def model(self) -> DBusStr:
        return self._service.model_name()

    @dbus_property(name="State", access=PropertyAccess.READ)
    def state(self) -> DBusStr:
        return self._service.state

    @dbus_property(name="ActiveTasks", access=PropertyAccess.READ)
    def active_tasks(self) -> DBusUInt32:
        return self._service.active_tasks

    @dbus_signal(name="TaskAdded")
    def task_added(self, path: str) -> DBusObjectPath:
        return path

    @dbus_signal(name="TimerFired")
    def timer_fired(self, kind: str, label: str, due: float) -> Annotated[
            tuple[str, str, float], DBusSignature("ssd")]:
        return (kind, label, due)


class TaskInterface(_NamedArgs):
    """io.agentd.Task1 at /io/agentd/Agent1/task/<id>: one request and what became of it."""

    OUT_ARGS: ClassVar[dict[str, tuple[str, ...]]] = {
        "Progress": ("kind", "detail"), "ConfirmationRequested": ("summary", "detail"),
        "Finished": ("state", "reply")}

    def __init__(self, service: "AgentService", task: TaskRecord) -> None:
        super().__init__(TASK_IFACE)
        self._service = service
        self.task = task
        self._shown = task

    @contextlib.contextmanager
    def sealed(self) -> Iterator[None]:
        """Properties read blank meanwhile: dbus-fast broadcasts every property in
        ObjectManager.InterfacesAdded when an object is exported, and a task's request,
        steps and reply are for its owner only."""
        self._shown = TaskRecord(id=0, request="", state=self.task.state, created=0,
                                 updated=0, caller=Caller())
        try:
            yield
        finally:
            self._shown = self.task

    @dbus_method(name="Confirm")
    @named_errors
    async def confirm(self) -> None:
        await self._answer(Decision.ALLOW)

    @dbus_method(name="Deny")
    @named_errors
    async def deny(self) -> None:
        await self._answer(Decision.DENY)

    @dbus_method(name="AllowAlways")
    @named_errors
    async def allow_always(self) -> None:
        await self._answer(Decision.ALWAYS)

    @dbus_method(name="Choose")
    @named_errors
    async def choose(self, index: DBusUInt32) -> None:
        """Answer a "which one?" question with its choice ``index`` (0-based): the user's
        yes to that one, so only the user may (as Confirm)."""
        await self._answer(Decision.ALLOW, index)

    @dbus_method(name="Cancel")
    @named_errors
    async def cancel(self) -> None:
        await self._answer(Decision.CANCEL)

    async def _answer(self, decision: Decision, choice: int = -1) -> None:
        answer = await self._service.authorize(self.task, decision)
        self._service.answer(self.task, dataclasses.replace(answer, choice=choice))

    @dbus_property(name="Id", access=PropertyAccess.READ)
    def id(self) -> DBusUInt64:
        return self._shown.id

    @dbus_property(name="Request", access=PropertyAccess.READ)
    def request(self) -> DBusStr:
        return self._shown.request

    @dbus_property(name="State", access=PropertyAccess.READ)
    def state(self) -> DBusStr:
        return str(self._shown.state)

    @dbus_property(name="Reply", access=PropertyAccess.READ)
    def reply(self) -> DBusStr:
        return self._shown.reply

    @dbus_property(name="Tier", access=PropertyAccess.READ)
    def tier(self) -> DBusStr:
        return self._shown.tier

    @dbus_property(name="Created", access=PropertyAccess.READ)
    def created(self) -> DBusDouble:
        return self._shown.created

    @dbus_property(name="Caller", access=PropertyAccess.READ)
    def caller(self) -> DBusDict:
        return to_vardict(self._shown.caller.to_json())

    @dbus_property(name="Steps", access=PropertyAccess.READ)
    def steps(self) -> DBusDictList:
        return [steps_entry(s.to_json()) for s in self._shown.steps]

    @dbus_signal(name="Progress")
    def progress(self, kind: str, detail: dict[str, Any]) -> StrDict:
        return (kind, to_vardict(detail))

    @dbus_signal(name="ConfirmationRequested")
    def confirmation_requested(self, summary: str, detail: dict[str, Any]) -> StrDict:
        return (summary, to_vardict(detail))

    @dbus_signal(name="Finished")
    def finished(self, state: str, reply: str) -> Annotated[
            tuple[str, str], DBusSignature("ss")]:
        return (state, reply)

    # The signals above are declared for introspection; agentd sends them only to the
    # task's owner (``AgentService``), never as broadcasts: they carry what a task read.

    def values(self) -> dict[str, Variant]:
        """Every property as a Variant (for a Get from agentctl, and PropertiesChanged)."""
        return {"Id": Variant("t", self.id), "Request": Variant("s", self.request),
                "State": Variant("s", self.state), "Reply": Variant("s", self.reply),
                "Tier": Variant("s", self.tier), "Created": Variant("d", self.created),
                "Caller": Variant("a{sv}", self.caller), "Steps": Variant("aa{sv}", self.steps)}

    def changed_values(self) -> dict[str, Variant]:
        values = self.values()
        return {name: values[name] for name in ("State", "Reply", "Tier", "Steps")}


def audit_json(entry: dict[str, Any]) -> dict[str, Any]:
    """An audit record for the bus: args and caller as JSON strings (free-form values)."""
    return {k: json.dumps(v, ensure_ascii=False) if k in ("args", "caller") else v
            for k, v in entry.items()}


def steps_entry(step: dict[str, Any]) -> dict[str, Any]:
    """A step for the bus: args both as a{sv} and as JSON (for shells and jq)."""
    entry = to_vardict(step)
    entry.update(to_vardict({"args_json": json.dumps(step["args"], ensure_ascii=False)}))
    return entry

