"""The daemon's presence on the bus: exports, caller identity, guards, signals.

``AgentService`` implements the runner's ``TaskEvents`` and owns the exported objects.
A message handler (``_guard``) sees every incoming call before dbus-fast dispatches it:
it records the sender for ``current_caller()``, answers wrong signatures and unknown
task paths with named errors, so no malformed call reaches the code behind it.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
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
    TASK_IFACE,
    TASK_PATH_PREFIX,
    task_id_from_path,
    task_path,
)
from agentd.errors import InvalidRequest, NotFound, Unavailable
from agentd.policy.audit import AuditLog
from agentd.policy.consent import Decision
from agentd.policy.grants import GrantStore
from agentd.tasks.journal import Journal, TimerRecord
from agentd.tasks.model import Caller, StepRecord, TaskRecord, TaskState
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
    def __init__(self, bus: MessageBus, journal: Journal, registry: ToolRegistry,
                 grants: GrantStore, audit: AuditLog, exported_limit: int) -> None:
        self._bus = bus
        self._journal = journal
        self._registry = registry
        self.grants = grants
        self.audit = audit
        self._exported_limit = exported_limit
        self.runner: TaskRunner | None = None
        self.model_name: Callable[[], str] = lambda: ""
        self.state = "ready"
        self.voice: VoiceInput | None = None  # set by the daemon when voice is configured
        self.adapters: AdapterRegistry | None = None  # set by the daemon
        self.on_finished: list[Callable[[TaskRecord], None]] = []
        self._agent = AgentInterface(self)
        self._tasks: OrderedDict[int, TaskInterface] = OrderedDict()
        self._credentials: OrderedDict[str, Caller] = OrderedDict()
        self._method_signatures = {
            AGENT_IFACE: _signatures(self._agent),
            TASK_IFACE: _signatures(TaskInterface(self, _placeholder_task())),
        }

    def export(self) -> None:
        """Export the agent object and the journal's recent and unfinished tasks."""
        self._bus.add_message_handler(self._guard)
        self._bus.export(AGENT_PATH, self._agent)
        for task in self._journal.recent_tasks(self._exported_limit):
            self._export_task(task)

    # -- incoming calls -----------------------------------------------------------------

    def _guard(self, msg: Message) -> Message | None:
        if msg.message_type is not MessageType.METHOD_CALL:
            return None
        _current_sender.set(msg.sender or "")
        fd_error = _check_fds(msg)
        if fd_error is not None:
            return _error(msg, fd_error)
        path = msg.path or ""
        if path.startswith(TASK_PATH_PREFIX):
            task_id = task_id_from_path(path)
            if task_id is None or task_id not in self._tasks:
                return _error(msg, NotFound(f"there is no task at {path}; "
                                            "`agentctl tasks` lists the known tasks"))
        wanted = self._method_signatures.get(msg.interface or "", {}).get(msg.member or "")
        if wanted is not None and wanted != msg.signature:
            return _error(msg, InvalidRequest(
                f"{msg.interface}.{msg.member} takes ({wanted}), not ({msg.signature})"))
        return None

    async def current_caller(self) -> Caller:
        """Who sent the method call being handled: uid, pid and executable, cached."""
        sender = _current_sender.get()
        cached = self._credentials.get(sender)
        if cached is not None:
            return cached
        reply = await self._bus.call(Message(
            destination=DBUS_NAME, path=DBUS_PATH, interface=DBUS_NAME,
            member="GetConnectionCredentials", signature="s", body=[sender]))
        creds: dict[str, Any] = {}
        if reply is not None and reply.message_type is MessageType.METHOD_RETURN:
            creds = {k: v.value for k, v in reply.body[0].items()}
        pid = int(creds.get("ProcessID", -1))
        exe, program = program_of(pid)
        caller = Caller(bus_name=sender, uid=int(creds.get("UnixUserID", -1)), pid=pid,
                        exe=exe, program=program)
        self._credentials[sender] = caller
        if len(self._credentials) > CREDENTIALS_CACHE:
            self._credentials.popitem(last=False)
        return caller

    # -- what the interfaces ask for -----------------------------------------------------

    def submit(self, text: str, options: dict[str, Any], caller: Caller) -> str:
        assert self.runner is not None
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
            heard = await self.voice.hear(fd, audio_options)
        finally:
            if isinstance(fd, int) and fd >= 0:
                os.close(fd)
        return self.submit(heard.text, {**ask_options, "spoken": True}, caller)

    def answer(self, task: TaskRecord, decision: Decision, caller: Caller) -> None:
        assert self.runner is not None
        self.runner.answer(task, decision, caller)

    @property
    def active_tasks(self) -> int:
        return self.runner.active if self.runner else 0

    def task_paths(self) -> list[str]:
        return [task_path(task_id) for task_id in self._tasks]

    async def describe_tools(self) -> list[dict[str, Any]]:
        """Each tool; "available" means implemented and, for adapter tools, a backend works."""
        usable: dict[str, bool] = {}
        if self.adapters is not None:
            for spec in self._registry:
                if spec.capability != "core" and spec.capability not in usable:
                    usable[spec.capability] = await self.adapters.works(spec.capability)
        return [{"name": spec.name, "description": spec.description, "risk": spec.risk.value,
                 "capability": spec.capability,
                 "available": (self._registry.is_implemented(spec.name)
                               and usable.get(spec.capability, True)),
                 "schema": json.dumps(spec.json_schema())} for spec in self._registry]

    async def diagnose(self) -> list[dict[str, Any]]:
        """Every capability's backends: available here or not, and why (`agentctl doctor`)."""
        if self.adapters is None:
            return []
        return [row.to_json() for row in await self.adapters.diagnose()]

    # -- TaskEvents ----------------------------------------------------------------------

    def task_added(self, task: TaskRecord) -> None:
        self._export_task(task)
        self._agent.task_added(task_path(task.id))

    def task_changed(self, task: TaskRecord) -> None:
        self._tasks[task.id].changed()

    def progress(self, task: TaskRecord, kind: str, detail: dict[str, Any]) -> None:
        self._tasks[task.id].progress(kind, detail)

    def confirmation_requested(self, task: TaskRecord, step: StepRecord, question: str,
                               can_grant: bool) -> None:
        detail = {"task": task.id, "step": step.index, "tool": step.tool, "risk": step.risk,
                  "args": step.args, "summary": step.summary, "can_grant": can_grant,
                  "taint": task.taint}
        self._tasks[task.id].confirmation_requested(question, detail)

    def finished(self, task: TaskRecord) -> None:
        self._tasks[task.id].finished(str(task.state), task.reply)
        for hook in self.on_finished:
            hook(task)
        self._trim_exports()

    async def timer_fired(self, timer: TimerRecord, late_s: float) -> None:
        self._agent.timer_fired(timer.kind, timer.label, timer.due)

    # -- exports -------------------------------------------------------------------------

    def _export_task(self, task: TaskRecord) -> None:
        obj = TaskInterface(self, task)
        self._tasks[task.id] = obj
        self._bus.export(task_path(task.id), obj)

    def _trim_exports(self) -> None:
        finished = [i for i, obj in self._tasks.items() if obj.task.state.is_final]
        for task_id in finished[: max(0, len(finished) - self._exported_limit)]:
            self._bus.unexport(task_path(task_id))
            del self._tasks[task_id]


INTERPRETERS = ("python", "perl", "ruby", "node", "bash", "sh", "dash", "zsh")


def program_of(pid: int) -> tuple[str, str]:
    """(executable, program): the program is the script when an interpreter runs one."""
    if pid <= 0:
        return "", ""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "", ""
    program = exe
    if Path(exe).name.startswith(INTERPRETERS) and len(argv) > 1:
        script = next((a.decode(errors="replace") for a in argv[1:]
                       if a and not a.startswith(b"-")), "")
        if script and not script.startswith("/"):  # relative to the caller's directory
            with contextlib.suppress(OSError):
                script = os.path.normpath(os.path.join(os.readlink(f"/proc/{pid}/cwd"),
                                                       script))
        if script.startswith("/"):
            program = script
    return exe, program


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


def _error(msg: Message, exc: InvalidRequest | NotFound) -> Message:
    return Message.new_error(msg, exc.dbus_name, exc.message)


def _placeholder_task() -> TaskRecord:
    """A task for reading TaskInterface's method signatures before any task exists."""
    return TaskRecord(id=0, request="", state=TaskState.DONE, created=0, updated=0,
                      caller=Caller())
