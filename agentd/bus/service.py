"""The daemon's presence on the bus: exports, caller identity, guards, signals.

``AgentService`` implements the runner's ``TaskEvents`` and owns the exported objects.
A message handler (``_guard``) sees every incoming call before dbus-fast dispatches it:
it records the sender for ``current_caller()``, answers wrong signatures and unknown
task paths with named errors, so no malformed call reaches the code behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface

from agentd.adapters.base import AdapterRegistry
from agentd.bus.interfaces import AgentInterface, TaskInterface
from agentd.bus.names import (
    AGENT_IFACE,
    AGENT_PATH,
    DBUS_NAME,
    DBUS_PATH,
    OBJECT_MANAGER_IFACE,
    PROPERTIES_IFACE,
    TASK_IFACE,
    TASK_PATH_PREFIX,
    task_id_from_path,
    task_path,
)
from agentd.bus.variants import to_vardict
from agentd.errors import Busy, InvalidRequest, NotFound, PermissionDenied, Unavailable
from agentd.events import ProgressEvent, Question, encode
from agentd.policy.consent import Answer, Approver, Decision
from agentd.policy.identity import identify, is_agentctl, trusted_agentctl_paths
from agentd.records import Caller, StepRecord, TaskRecord, TaskState
from agentd.store.audit import AuditLog
from agentd.store.grants import GrantStore
from agentd.store.journal import Journal
from agentd.store.timers import TimerRecord
from agentd.tasks.runner import TaskRunner, check_options
from agentd.tools.registry import ToolRegistry
from agentd.voice.service import VoiceInput, split_options

log = logging.getLogger(__name__)

_current_sender: contextvars.ContextVar[str] = contextvars.ContextVar("sender", default="")
CREDENTIALS_CACHE = 256


def _signatures(iface: ServiceInterface) -> dict[str, str]:
    """Each method's input signature, from the interface's own introspection."""
    return {m.name: "".join(str(a.signature) for a in m.in_args)
            for m in iface.introspect().methods}


class AgentService:
    """The bus face of agentd: Agent1 and the task objects, built whole here. The runner
    reports to this service (its signals), so ``make_runner`` builds it around ``self``."""

    def __init__(self, bus: MessageBus, journal: Journal, registry: ToolRegistry,
                 grants: GrantStore, audit: AuditLog, adapters: AdapterRegistry,
                 make_runner: Callable[[AgentService], TaskRunner], *, exported_limit: int,
                 max_audio_reads: int = 1, model_name: Callable[[], str] = lambda: "",
                 state: str = "ready", voice: VoiceInput | None = None,
                 on_finished: Sequence[Callable[[TaskRecord], None]] = ()) -> None:
        self._bus = bus
        self._max_audio_reads = max_audio_reads
        self._journal = journal
        self._registry = registry
        self.grants = grants
        self.audit = audit
        self._exported_limit = exported_limit
        self.model_name = model_name
        self.state = state
        self.voice = voice  # None: AskAudio is not configured
        self.adapters = adapters
        self.on_finished = list(on_finished)
        self._agent = AgentInterface(self)
        self._tasks: OrderedDict[int, TaskInterface] = OrderedDict()
        self._credentials: OrderedDict[str, Caller] = OrderedDict()
        self._method_signatures = {
            AGENT_IFACE: _signatures(self._agent),
            TASK_IFACE: _signatures(TaskInterface(self, _placeholder_task())),
        }
        self._agentctl = trusted_agentctl_paths()
        self._pending: set[asyncio.Task[None]] = set()
        self._audio_reads: dict[str, int] = {}
        self.runner = make_runner(self)

    def export(self) -> None:
        """Export the agent object and the journal's recent and unfinished tasks."""
        self._bus.add_message_handler(self._guard)
        self._bus.export(AGENT_PATH, self._agent)
        for task in self._journal.recent_tasks(self._exported_limit):
            self._export_task(task)

    # -- incoming calls -----------------------------------------------------------------

    def _guard(self, msg: Message) -> Message | bool | None:
        if msg.message_type is not MessageType.METHOD_CALL:
            return None
        _current_sender.set(msg.sender or "")
        fd_error = _check_fds(msg)
        if fd_error is not None:
            return _error(msg, fd_error)
        if msg.interface == OBJECT_MANAGER_IFACE:  # dbus-fast answers it: every task, whole
            return _error(msg, PermissionDenied("agentd has no object manager; "
                                                "ListTasks lists your tasks"))
        path = msg.path or ""
        if path.startswith(TASK_PATH_PREFIX):
            task_id = task_id_from_path(path)
            if task_id is None or task_id not in self._tasks:
                return _error(msg, NotFound(f"there is no task at {path}; "
                                            "`agentctl tasks` lists the known tasks"))
            task = self._tasks[task_id].task
            if msg.interface == PROPERTIES_IFACE and msg.sender != task.caller.bus_name:
                # Not the owner: answered here once agentd knows whether it is agentctl.
                pending = asyncio.ensure_future(self._foreign_properties(msg, task))
                self._pending.add(pending)
                pending.add_done_callback(self._pending.discard)
                return True
        wanted = self._method_signatures.get(msg.interface or "", {}).get(msg.member or "")
        if wanted is not None and wanted != msg.signature:
            return _error(msg, InvalidRequest(
                f"{msg.interface}.{msg.member} takes ({wanted}), not ({msg.signature})"))
        return None

    async def current_caller(self) -> Caller:
        """Who sent the method call being handled, as first seen on this connection."""
        return await self.caller_of(_current_sender.get())

    async def caller_of(self, sender: str) -> Caller:
        """A connection's uid, pid and verified program, read when it is first seen.

        Kept for the connection's life: a process that asks and then execs another program
        (agentctl) does not become that program here (``authorize`` compares)."""
        cached = self._credentials.get(sender)
        if cached is not None:
            self._credentials.move_to_end(sender)
            return cached
        reply = await self._bus.call(Message(
            destination=DBUS_NAME, path=DBUS_PATH, interface=DBUS_NAME,
            member="GetConnectionCredentials", signature="s", body=[sender]))
        creds: dict[str, Any] = {}
        if reply is not None and reply.message_type is MessageType.METHOD_RETURN:
            creds = {k: v.value for k, v in reply.body[0].items()}
        uid = int(creds.get("UnixUserID", -1))
        # Off the event loop: it may ask the identity service (docs/reliability.md).
        who = await asyncio.to_thread(identify, int(creds.get("ProcessID", -1)))
        caller = Caller(bus_name=sender, uid=uid, pid=who.pid, exe=who.exe,
                        program=who.program, sandbox=who.sandbox,
                        agentctl=uid == os.getuid() and is_agentctl(who, self._agentctl))
        if who.problem:
            log.debug("caller %s (pid %d): %s", sender, who.pid, who.problem)
        self._credentials[sender] = caller
        if len(self._credentials) > CREDENTIALS_CACHE:
            self._credentials.popitem(last=False)
        return caller

    async def user_at_agentctl(self, caller: Caller) -> str:
        """Why ``caller`` is not the user at agentctl in a terminal, or "" when it is.

        Read again now, through a pidfd: the same program as when the connection was
        first seen (no exec since), agentctl itself, not sandboxed, with a terminal."""
        if not caller.agentctl:
            return "only the user can allow this: through agentd's notification, or " \
                "`agentctl confirm ID` in a terminal"
        now = await asyncio.to_thread(identify, caller.pid)
        if (now.exe, now.program) != (caller.exe, caller.program):
            return "the process behind this connection is no longer the program that " \
                "connected"
        if not now.tty:
            return "agentctl can allow a step only from a terminal (it has none); answer " \
                "agentd's notification, or run `agentctl confirm ID` in a terminal"
        return ""

    async def authorize(self, task: TaskRecord, decision: Decision) -> Answer:
        """Who may answer: Allow only the user (agentctl in a terminal; the notification
        goes its own way), Deny and Cancel also the program that asked."""
        caller = await self.current_caller()
        if decision in (Decision.ALLOW, Decision.ALWAYS):
            why = await self.user_at_agentctl(caller)
            if why:
                log.warning("refused %s of task %d from %s (pid %d, %s): %s", decision,
                            task.id, caller.bus_name, caller.pid,
                            caller.program or caller.exe, why)
                raise PermissionDenied(why)
            return Answer(decision, Approver("agentctl", caller.program, caller.pid))
        if self.owns(caller, task):
            return Answer(decision, Approver("owner", caller.program, caller.pid))
        if caller.agentctl:
            return Answer(decision, Approver("agentctl", caller.program, caller.pid))
        raise PermissionDenied(f"task {task.id} belongs to another program; only it, or "
                               "you with agentctl, can deny or cancel it")

    @staticmethod
    def owns(caller: Caller, task: TaskRecord) -> bool:
        return bool(caller.bus_name) and caller.bus_name == task.caller.bus_name

    async def may_see(self, caller: Caller, task: TaskRecord) -> bool:
        """A task's content is for the program that asked, and for the user's agentctl."""
        return self.owns(caller, task) or caller.agentctl

    async def require_agentctl(self, what: str) -> None:
        caller = await self.current_caller()
        if not caller.agentctl:
            raise PermissionDenied(f"{what} is for the user: run `agentctl` (this program "
                                   "is not agentd's agentctl)")

    async def _foreign_properties(self, msg: Message, task: TaskRecord) -> None:
        """Properties of a task asked by another connection: only the user's agentctl."""
        caller = await self.caller_of(msg.sender or "")
        if not await self.may_see(caller, task):
            self._bus.send(_error(msg, PermissionDenied(
                f"task {task.id} belongs to another program; only it, or you with "
                "`agentctl task ID`, can read it")))
            return
        values = self._tasks[task.id].values() if task.id in self._tasks else {}
        if msg.member == "GetAll" and msg.signature == "s":
            self._bus.send(Message.new_method_return(msg, "a{sv}", [values]))
        elif msg.member == "Get" and msg.signature == "ss" and msg.body[1] in values:
            variant = values[msg.body[1]]
            self._bus.send(Message.new_method_return(msg, "v", [variant]))
        else:
            self._bus.send(_error(msg, InvalidRequest(
                f"{msg.member}({msg.signature}) is not a readable property call here")))

    # -- what the interfaces ask for -----------------------------------------------------

    def submit(self, text: str, options: dict[str, Any], caller: Caller) -> str:
        return task_path(self.runner.submit(text, options, caller).id)

    async def submit_audio(self, fd: int | None, options: dict[str, Any],
                           caller: Caller) -> str:
        """Recognise the audio read from ``fd`` (closed here), then submit it as text."""
        try:
            if self.voice is None:
                raise Unavailable("voice input is turned off here (voice_recognizer = "
                                  "\"none\"); send text with Ask")
            if not isinstance(fd, int) or fd < 0:
                raise InvalidRequest("AskAudio needs the audio as a file descriptor")
            audio_options, ask_options = split_options(options)
            check_options(ask_options)  # fail fast, before the slow part
            reading = self._audio_reads.get(caller.bus_name, 0)
            if reading >= self._max_audio_reads:
                raise Busy(f"this program already has {reading} recording(s) being heard "
                           f"(max_audio_reads_per_caller = {self._max_audio_reads}); wait "
                           "for it to finish")
            self._audio_reads[caller.bus_name] = reading + 1
            try:
                heard = await self.voice.hear(fd, audio_options)
            finally:
                self._audio_reads[caller.bus_name] -= 1
                if not self._audio_reads[caller.bus_name]:
                    del self._audio_reads[caller.bus_name]
        finally:
            if isinstance(fd, int) and fd >= 0:
                os.close(fd)
        return self.submit(heard.text, {**ask_options, "spoken": True}, caller)

    def answer(self, task: TaskRecord, answer: Answer) -> None:
        self.runner.answer(task, answer)

    @property
    def active_tasks(self) -> int:
        return self.runner.active

    def task_paths(self, caller: Caller) -> list[str]:
        return [task_path(task_id) for task_id, obj in self._tasks.items()
                if caller.agentctl or self.owns(caller, obj.task)]

    async def describe_tools(self) -> list[dict[str, Any]]:
        """Each tool; "available" means implemented and, for adapter tools, a backend works;
        "backend" names the one that would serve it now ("agentd" for built-in tools)."""
        serving: dict[str, str] = {"core": "agentd"}
        for spec in self._registry:
            if spec.capability not in serving:
                serving[spec.capability] = await self.adapters.serving(spec.capability)
        return [{"name": spec.name, "description": spec.description, "risk": spec.risk.value,
                 "capability": spec.capability,
                 "available": (self._registry.is_implemented(spec.name)
                               and bool(serving[spec.capability])),
                 "backend": serving[spec.capability],
                 "schema": json.dumps(spec.json_schema())} for spec in self._registry]

    async def diagnose(self) -> list[dict[str, Any]]:
        """Every capability's backends: available here or not, and why (`agentctl doctor`)."""
        return [row.to_json() for row in await self.adapters.diagnose()]

    # -- TaskEvents ----------------------------------------------------------------------

    # Every task signal goes to the task's owner alone (a unicast signal: the bus delivers
    # it to that connection only): they carry what the task read.

    def task_added(self, task: TaskRecord) -> None:
        self._export_task(task)
        self._unicast(task, AGENT_PATH, AGENT_IFACE, "TaskAdded", "o", [task_path(task.id)])

    def task_changed(self, task: TaskRecord) -> None:
        self._unicast(task, task_path(task.id), PROPERTIES_IFACE, "PropertiesChanged",
                      "sa{sv}as", [TASK_IFACE, self._tasks[task.id].changed_values(), []])

    def progress(self, task: TaskRecord, event: ProgressEvent) -> None:
        kind, detail = encode(event)
        self._unicast(task, task_path(task.id), TASK_IFACE, "Progress", "sa{sv}",
                      [kind, to_vardict(detail)])

    def confirmation_requested(self, task: TaskRecord, step: StepRecord, question: str,
                               can_grant: bool, choices: tuple[str, ...] = ()) -> None:
        detail = Question(task.id, step.index, step.tool, step.risk.value, step.args,
                          step.summary, can_grant, tuple(task.taint), choices)
        self._unicast(task, task_path(task.id), TASK_IFACE, "ConfirmationRequested",
                      "sa{sv}", [question, to_vardict(detail.to_wire())])

    def finished(self, task: TaskRecord) -> None:
        self._unicast(task, task_path(task.id), TASK_IFACE, "Finished", "ss",
                      [str(task.state), task.reply])
        for hook in self.on_finished:
            hook(task)
        self._trim_exports()

    async def timer_fired(self, timer: TimerRecord, late_s: float) -> None:
        self._agent.timer_fired(timer.kind, timer.label, timer.due)

    def _unicast(self, task: TaskRecord, path: str, interface: str, member: str,
                 signature: str, body: list[Any]) -> None:
        if not task.caller.bus_name:
            return
        self._bus.send(Message(destination=task.caller.bus_name, path=path,
                               interface=interface, member=member,
                               message_type=MessageType.SIGNAL, signature=signature,
                               body=body))

    # -- exports -------------------------------------------------------------------------

    def _export_task(self, task: TaskRecord) -> None:
        obj = TaskInterface(self, task)
        self._tasks[task.id] = obj
        with obj.sealed():  # the InterfacesAdded broadcast carries no content
            self._bus.export(task_path(task.id), obj)

    def _trim_exports(self) -> None:
        finished = [i for i, obj in self._tasks.items() if obj.task.state.is_final]
        for task_id in finished[: max(0, len(finished) - self._exported_limit)]:
            self._bus.unexport(task_path(task_id))
            del self._tasks[task_id]


def _check_fds(msg: Message) -> InvalidRequest | None:
    """Only AskAudio takes a file descriptor, exactly one: close any others at once."""
    ask_audio = msg.interface == AGENT_IFACE and msg.member == "AskAudio"
    if ask_audio and msg.signature == "ha{sv}" and len(msg.unix_fds) == 1:
        return None
    for fd in msg.unix_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    if not ask_audio or msg.signature != "ha{sv}":
        return None
    return InvalidRequest(f"AskAudio takes exactly one file descriptor, this call passed "
                          f"{len(msg.unix_fds)}; connect with unix fd passing (dbus-fast: "
                          "negotiate_unix_fd=True) and send the audio's fd")


def _error(msg: Message, exc: InvalidRequest | NotFound | PermissionDenied) -> Message:
    return Message.new_error(msg, exc.dbus_name, exc.message)


def _placeholder_task() -> TaskRecord:
    """A task for reading TaskInterface's method signatures before any task exists."""
    return TaskRecord(id=0, request="", state=TaskState.DONE, created=0, updated=0,
                      caller=Caller())
