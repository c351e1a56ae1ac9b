"""The task runner: request → plan → (confirmation) → tools, every transition journaled.

Each task runs in its own asyncio task. The bus layer listens through ``TaskEvents``
and turns them into D-Bus signals; nothing here knows about D-Bus.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import Callable
from typing import Any, Protocol

from agentd.config import Settings
from agentd.errors import AgentError, Busy, InvalidRequest, InvalidState, NotFound
from agentd.log import current_task_id
from agentd.policy.consent import Decision, needs_confirmation
from agentd.tasks.journal import Journal, StorageError
from agentd.tasks.model import Caller, StepRecord, StepState, TaskRecord, TaskState
from agentd.tools.builtin.scheduler import Scheduler
from agentd.tools.context import ToolContext
from agentd.tools.registry import ToolRegistry
from agentd.understanding.plan import Plan

log = logging.getLogger(__name__)

Understand = Callable[[str], Plan]

# Ask options: name -> (type, description). Unknown options are an error, not ignored.
ASK_OPTIONS: dict[str, tuple[type, str]] = {
    "dry_run": (bool, "plan only: record and return the plan, run nothing"),
}


class TaskEvents(Protocol):
    """What the runner tells the outside world (the bus layer implements this)."""

    def task_added(self, task: TaskRecord) -> None: ...
    def task_changed(self, task: TaskRecord) -> None: ...
    def progress(self, task: TaskRecord, kind: str, detail: dict[str, Any]) -> None: ...
    def confirmation_requested(self, task: TaskRecord, step: StepRecord) -> None: ...
    def finished(self, task: TaskRecord) -> None: ...


def check_request(text: str, max_bytes: int) -> str:
    """Refuse empty, huge or binary-looking requests with a message that says why."""
    stripped = text.strip()
    if not stripped:
        raise InvalidRequest("the request is empty; say what you want done, "
                             "e.g. agentctl ask 'what time is it'")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise InvalidRequest(f"the request is {size} bytes; the limit is {max_bytes}. "
                             "Ask for one thing at a time")
    bad = [c for c in stripped if c not in "\t\n\r"
           and (unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") or c == "\ufffd")]
    if bad:
        raise InvalidRequest(f"the request contains {len(bad)} control or invalid "
                             f"character(s) (first: U+{ord(bad[0]):04X}); is it binary data?")
    return stripped


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    clean = {}
    for name, value in options.items():
        if name not in ASK_OPTIONS:
            raise InvalidRequest(f"unknown option {name!r}; known options: "
                                 f"{', '.join(ASK_OPTIONS)}")
        kind, _ = ASK_OPTIONS[name]
        if not isinstance(value, kind):
            raise InvalidRequest(f"option {name!r} must be {kind.__name__}, "
                                 f"got {type(value).__name__}")
        clean[name] = value
    return clean


class TaskRunner:
    def __init__(self, settings: Settings, journal: Journal, registry: ToolRegistry,
                 understand: Understand, scheduler: Scheduler, events: TaskEvents) -> None:
        self._settings = settings
        self._journal = journal
        self._registry = registry
        self._understand = understand
        self._scheduler = scheduler
        self._events = events
        self._running: dict[int, asyncio.Task[None]] = {}
        self._answers: dict[int, asyncio.Future[Decision]] = {}
        self._stopping = False

    @property
    def active(self) -> int:
        return len(self._running)

    def submit(self, text: str, options: dict[str, Any], caller: Caller) -> TaskRecord:
        """Check, journal and start a request. Returns at once; the task runs on."""
        request = check_request(text, self._settings.max_request_bytes)
        opts = check_options(options)
        if len(self._running) >= self._settings.max_active_tasks:
            raise Busy(f"{len(self._running)} tasks are unfinished (limit "
                       f"{self._settings.max_active_tasks}); wait for one to finish, or "
                       "cancel one with `agentctl cancel ID`")
        task = self._journal.create_task(request, opts, caller)
        log.info("task %d from %s (pid %d): %r", task.id, caller.exe or caller.bus_name,
                 caller.pid, request[:120] + ("…" if len(request) > 120 else ""))
        self._events.task_added(task)
        self._running[task.id] = asyncio.create_task(self._run(task), name=f"task-{task.id}")
        return task

    def answer(self, task: TaskRecord, decision: Decision, caller: Caller) -> None:
        """Confirm, deny or cancel on behalf of ``caller``."""
        _check_same_user(task, caller)
        future = self._answers.get(task.id)
        if future is not None and not future.done():
            future.set_result(decision)
            return
        if decision is Decision.CANCEL and task.id in self._running:
            self._running[task.id].cancel()
            return
        if decision is Decision.CANCEL:
            raise InvalidState(f"task {task.id} is already {task.state}; nothing to cancel")
        raise InvalidState(f"task {task.id} is {task.state}, not awaiting confirmation")

    async def shutdown(self) -> None:
        """Stop without finishing anything: unfinished tasks stay unfinished in the journal."""
        self._stopping = True
        for running in self._running.values():
            running.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    # -- one task ------------------------------------------------------------------------

    async def _run(self, task: TaskRecord) -> None:
        current_task_id.set(task.id)
        try:
            await self._understand_and_act(task)
        except asyncio.CancelledError:
            if not self._stopping:
                self._finish(task, TaskState.CANCELLED, "Cancelled.")
        except AgentError as exc:
            self._finish(task, TaskState.FAILED, exc.message)
        except Exception as exc:  # a bug: keep the daemon up, say so, keep the trace
            log.exception("internal error")
            self._finish(task, TaskState.FAILED,
                         f"agentd hit an internal error ({type(exc).__name__}); see its log")
        finally:
            self._running.pop(task.id, None)
            self._answers.pop(task.id, None)

    async def _understand_and_act(self, task: TaskRecord) -> None:
        self._set_state(task, TaskState.UNDERSTANDING)
        self._events.progress(task, "understanding", {})
        plan = self._understand(task.request)
        task.tier = plan.tier
        task.steps = []
        for index, planned in enumerate(plan.steps):
            spec = self._registry.spec(planned.tool)
            args = spec.validate(planned.args)
            task.steps.append(StepRecord(index=index, tool=spec.name, args=args,
                                         risk=spec.risk.value, summary=spec.describe(args)))
        self._journal.save_plan(task)
        self._events.progress(task, "planned", {"tier": plan.tier, "steps": len(task.steps)})
        if plan.is_empty:
            self._finish(task, TaskState.DONE, plan.reply)
            return
        if task.dry_run:
            self._finish(task, TaskState.DONE,
                         "Would: " + "; ".join(s.summary for s in task.steps) + ".")
            return
        replies: list[str] = []
        for step in task.steps:
            if needs_confirmation(step) and not await self._confirm(task, step):
                self._skip_rest(task, step.index + 1)
                self._finish(task, TaskState.CANCELLED,
                             " ".join([*replies, f"Not done: you did not allow “{step.summary}”."]))
                return
            reply = await self._run_step(task, step)
            if step.state is StepState.FAILED:
                self._skip_rest(task, step.index + 1)
                self._finish(task, TaskState.FAILED, " ".join([*replies, reply]))
                return
            replies.append(reply)
        self._finish(task, TaskState.DONE, " ".join(replies))

    async def _confirm(self, task: TaskRecord, step: StepRecord) -> bool:
        step.state = StepState.AWAITING_CONFIRMATION
        self._journal.save_step(task.id, step)
        self._set_state(task, TaskState.AWAITING_CONFIRMATION)
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._answers[task.id] = future
        self._events.confirmation_requested(task, step)
        try:
            decision = await asyncio.wait_for(future, self._settings.confirmation_timeout_s)
        except TimeoutError:
            decision = Decision.DENY
            log.info("no answer in %.0f s: step %d denied", self._settings.confirmation_timeout_s,
                     step.index)
        finally:
            self._answers.pop(task.id, None)
        if decision is Decision.CANCEL:
            step.state = StepState.NOT_RUN
            self._journal.save_step(task.id, step)
            raise asyncio.CancelledError
        step.confirmed = decision is Decision.ALLOW
        if not step.confirmed:
            step.state = StepState.DENIED
            self._journal.save_step(task.id, step)
            return False
        return True

    async def _run_step(self, task: TaskRecord, step: StepRecord) -> str:
        self._set_state(task, TaskState.ACTING)
        step.state = StepState.RUNNING
        self._journal.save_step(task.id, step)  # journaled before it runs
        self._events.progress(task, "step", {"index": step.index, "tool": step.tool,
                                             "state": str(step.state), "summary": step.summary})
        ctx = ToolContext(task=task, journal=self._journal, scheduler=self._scheduler)
        try:
            result = await self._registry.run(ctx, step.tool, step.args)
            step.state, step.result = StepState.DONE, result.text
        except AgentError as exc:
            step.state, step.error = StepState.FAILED, f"{exc.dbus_name}: {exc.message}"
        except asyncio.CancelledError:
            if self._stopping:
                raise  # leave it "running": recovery marks it unknown
            step.state, step.error = StepState.FAILED, "cancelled while running"
            self._journal.save_step(task.id, step)
            raise
        except Exception as exc:
            log.exception("tool %s failed", step.tool)
            step.state, step.error = StepState.FAILED, f"internal error in {step.tool}: {exc}"
        self._journal.save_step(task.id, step)
        self._events.progress(task, "step", {"index": step.index, "tool": step.tool,
                                             "state": str(step.state), "result": step.result,
                                             "error": step.error})
        self._events.task_changed(task)
        if step.state is StepState.FAILED:
            return f"Could not {step.summary[:1].lower()}{step.summary[1:]}: {step.error}"
        return step.result

    def _skip_rest(self, task: TaskRecord, start: int) -> None:
        for step in task.steps[start:]:
            step.state = StepState.SKIPPED
            self._journal.save_step(task.id, step)

    def _set_state(self, task: TaskRecord, state: TaskState) -> None:
        if task.state is state:
            return
        task.state = state
        self._journal.save_task(task)
        self._events.task_changed(task)

    def _finish(self, task: TaskRecord, state: TaskState, reply: str) -> None:
        task.reply = reply
        task.state = state
        try:
            self._journal.save_task(task)
        except StorageError as exc:  # still tell the caller; recovery marks it interrupted
            log.error("could not record the end of the task: %s", exc.message)
            task.reply = f"{reply} (agentd could not record this: {exc.message})"
        log.info("%s: %s", state, reply)
        self._events.task_changed(task)
        self._events.finished(task)


def _check_same_user(task: TaskRecord, caller: Caller) -> None:
    if task.caller.uid >= 0 and caller.uid >= 0 and task.caller.uid != caller.uid:
        raise NotFound(f"task {task.id} belongs to another user")
