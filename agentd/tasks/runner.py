"""The task runner: request → plan → policy → (confirmation) → tools, all journaled.

Each task runs in its own asyncio task. Tier 1 (templates) plans every step at once;
when it finds nothing, tier 2 (a ``StepPlanner``) is asked one step at a time and sees
each result. Every step, whatever planned it, passes the policy engine right before it
runs (``agentd.tasks.steps``). The bus layer listens through ``TaskEvents``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agentd.config import Settings
from agentd.errors import (
    AgentError,
    Busy,
    InvalidRequest,
    InvalidState,
    ModelUnavailable,
)
from agentd.events import Planned, ProgressEvent, UnderstandingStarted
from agentd.log import current_task_id
from agentd.policy.consent import Answer, Decision
from agentd.records import Caller, StepRecord, TaskRecord, TaskState
from agentd.store.database import StorageError
from agentd.store.journal import Journal
from agentd.tasks.steps import StepExecutor, StopTask
from agentd.tools.registry import ToolRegistry
from agentd.understanding.plan import CANNOT_DO, Plan, PlannedStep
from agentd.understanding.planner import (
    FinalReply,
    Observation,
    StepPlanner,
    dry_run_observation,
)

log = logging.getLogger(__name__)

Understand = Callable[[str], Plan]

# Ask options: name -> (type, description). Unknown options are an error, not ignored.
ASK_OPTIONS: dict[str, tuple[type, str]] = {
    "dry_run": (bool, "plan only: record and return the plan, run nothing"),
    "templates_only": (bool, "never ask the model tier"),
    "spoken": (bool, "the request was spoken (AskAudio sets it); with voice_speak_replies "
                     "the reply is spoken; grants are not used"),
    "batch": (bool, "one of many requests sent unattended (agentctl --batch); grants are "
                    "not used"),
}


class TaskEvents(Protocol):
    """What the runner tells the outside world (the bus layer implements this)."""

    def task_added(self, task: TaskRecord) -> None: ...
    def task_changed(self, task: TaskRecord) -> None: ...
    def progress(self, task: TaskRecord, event: ProgressEvent) -> None: ...
    def confirmation_requested(self, task: TaskRecord, step: StepRecord, question: str,
                               can_grant: bool, choices: tuple[str, ...] = ()) -> None: ...
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
            raise InvalidRequest(f"unknown option {name[:64]!r}; known options: "
                                 f"{', '.join(ASK_OPTIONS)}")
        kind, _ = ASK_OPTIONS[name]
        if not isinstance(value, kind):
            raise InvalidRequest(f"option {name!r} must be {kind.__name__}, "
                                 f"got {type(value).__name__}")
        clean[name] = value
    return clean


@dataclass(frozen=True)
class Understanding:
    """The tiers: templates first, then (optionally) a step planner."""

    templates: Understand
    planner: StepPlanner | None = None
    max_model_steps: int = 6
    # Spoken requests: the templates, with a transcript repaired by one word when
    # nothing matches (``TemplateTier.understand_heard``); the plain templates if None.
    heard: Understand | None = None


class TaskRunner:
    def __init__(self, settings: Settings, journal: Journal, registry: ToolRegistry,
                 understanding: Understanding, executor: StepExecutor,
                 events: TaskEvents) -> None:
        self._settings = settings
        self._journal = journal
        self._registry = registry
        self._understanding = understanding
        self._executor = executor
        self._events = events
        self._running: dict[int, asyncio.Task[None]] = {}
        self._tasks: dict[int, TaskRecord] = {}  # the running ones, for per-caller quotas
        self._stopping = False
        # The queue: every accepted task waits (state queued) for one of ``workers``;
        # a task waiting for the user's answer gives its worker back meanwhile.
        self._workers = asyncio.Semaphore(max(1, settings.workers))
        self._holding: set[int] = set()
        executor.idle = self._idle

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
        quota = self._settings.max_tasks_per_caller
        mine = [t for t in self._tasks.values() if t.caller.bus_name == caller.bus_name]
        if caller.bus_name and len(mine) >= quota:
            raise Busy(f"this program has {len(mine)} unfinished tasks (max_tasks_per_caller "
                       f"= {quota}); wait for one to finish, or cancel one")
        asking = sum(t.state is TaskState.AWAITING_CONFIRMATION for t in mine)
        questions = self._settings.max_questions_per_caller
        if caller.bus_name and asking >= questions:
            raise Busy(f"this program has {asking} tasks waiting for the user's answer "
                       f"(max_questions_per_caller = {questions}); wait until the user "
                       "answers them")
        task = self._journal.create_task(request, opts, caller)
        log.info("task %d from %s (pid %d): %r", task.id, caller.program or caller.bus_name,
                 caller.pid, request[:120] + ("…" if len(request) > 120 else ""))
        self._events.task_added(task)
        self._tasks[task.id] = task
        self._running[task.id] = asyncio.create_task(self._run(task), name=f"task-{task.id}")
        return task

    def answer(self, task: TaskRecord, answer: Answer) -> None:
        """Confirm, deny or cancel; the bus layer has checked that ``answer.by`` may."""
        decision = answer.decision
        if self._executor.answer(task.id, answer):
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
        self._executor.stopping = True
        for running in self._running.values():
            running.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    # -- one task ------------------------------------------------------------------------

    async def _run(self, task: TaskRecord) -> None:
        current_task_id.set(task.id)
        try:
            await self._take_worker(task.id)
            await self._understand_and_act(task)
        except StopTask as stop:
            self._finish(task, stop.state, stop.reply)
        except asyncio.CancelledError:
            if not self._stopping:
                self._executor.skip_rest(task)
                self._finish(task, TaskState.CANCELLED, "Cancelled.")
        except AgentError as exc:
            self._finish(task, TaskState.FAILED, exc.message)
        except Exception as exc:  # a bug: keep the daemon up, say so, keep the trace
            log.exception("internal error")
            self._finish(task, TaskState.FAILED,
                         f"agentd hit an internal error ({type(exc).__name__}); see its log")
        finally:
            self._give_worker(task.id)
            self._running.pop(task.id, None)
            self._tasks.pop(task.id, None)

    async def _take_worker(self, task_id: int) -> None:
        await self._workers.acquire()
        self._holding.add(task_id)

    def _give_worker(self, task_id: int) -> None:
        if task_id in self._holding:
            self._holding.discard(task_id)
            self._workers.release()

    @contextlib.asynccontextmanager
    async def _idle(self) -> AsyncIterator[None]:
        """While a step waits for the user: the task's worker serves the queue."""
        task_id = current_task_id.get()
        if task_id is None or task_id not in self._holding:
            yield
            return
        self._give_worker(task_id)
        try:
            yield
        finally:
            await self._take_worker(task_id)

    async def _understand_and_act(self, task: TaskRecord) -> None:
        self._set_state(task, TaskState.UNDERSTANDING)
        self._events.progress(task, UnderstandingStarted())
        spoken = task.options.get("spoken") and self._understanding.heard is not None
        understand = self._understanding.heard if spoken else self._understanding.templates
        assert understand is not None
        plan = understand(task.request)
        planner = self._understanding.planner
        if plan.is_empty and planner is not None and not task.options.get("templates_only"):
            await self._plan_step_by_step(task, planner)
            return
        task.tier = plan.tier
        task.steps = [self._step(index, planned) for index, planned in enumerate(plan.steps)]
        for step in task.steps:
            step.understood_as = plan.understood_as  # a repaired transcript: it asks
        self._journal.save_plan(task)
        self._events.progress(task, Planned(plan.tier, len(task.steps)))
        if plan.is_empty:
            self._finish(task, TaskState.DONE, plan.reply)
            return
        heard = f"(Understood as “{plan.understood_as}”.)" if plan.understood_as else ""
        if task.dry_run:
            self._finish(task, TaskState.DONE, " ".join(filter(None, [
                heard, "Would: " + "; ".join(s.summary for s in task.steps) + "."])))
            return
        replies: list[str] = [heard] if heard else []
        for step in task.steps:
            self._set_state(task, TaskState.ACTING)
            try:
                replies.append((await self._executor.execute(task, step)).text)
            except StopTask as stop:
                self._executor.skip_rest(task)
                raise StopTask(stop.state, " ".join([*replies, stop.reply])) from None
        self._finish(task, TaskState.DONE, " ".join(replies))

    async def _plan_step_by_step(self, task: TaskRecord, planner: StepPlanner) -> None:
        """Tier 2: ask the planner for one step at a time, showing it each result.

        A dry run tells the planner each step succeeded (``dry_run_observation``) and so
        shows every step up to the first whose result the next ones would depend on.
        """
        task.tier = planner.name
        history: list[Observation] = []

        def would(then: str = "") -> str:
            return "Would: " + "; ".join(s.summary for s in task.steps) + then + "."

        for index in range(self._understanding.max_model_steps):
            try:
                action = await planner.next_action(
                    task.request, history, lambda event: self._events.progress(task, event))
            except ModelUnavailable as exc:
                reply = f"{CANNOT_DO} (No model to ask: {exc.message})" if not history \
                    else f"Stopped: {exc.message}"
                self._finish(task, TaskState.DONE if not history else TaskState.FAILED, reply)
                return
            if isinstance(action, FinalReply):
                dry = task.dry_run and task.steps
                self._finish(task, TaskState.DONE, would() if dry else action.text)
                return
            step = self._step(index, action)
            step.after_content = tuple(task.taint)  # planned after what it has read
            task.steps.append(step)
            self._journal.save_plan(task, [step])
            self._events.progress(task, Planned(task.tier, len(task.steps)))
            if task.dry_run:
                observed = dry_run_observation(self._registry.spec(step.tool), action)
                if observed is None:  # the next steps depend on this one's real result
                    then = ", then decide the rest from its result"
                    self._finish(task, TaskState.DONE, would(then))
                    return
                history.append(observed)
                continue
            self._set_state(task, TaskState.ACTING)
            try:
                outcome = await self._executor.execute(task, step)
                history.append(Observation(step.tool, step.args, True, outcome.text,
                                           outcome.provenance))
            except StopTask as stop:
                if stop.state is not TaskState.FAILED:
                    raise
                history.append(Observation(step.tool, step.args, False, step.error,
                                           stop.provenance))
        if task.dry_run:
            self._finish(task, TaskState.DONE, would())
            return
        self._finish(task, TaskState.DONE,
                     f"Stopped after {len(task.steps)} steps without finishing. "
                     + (history[-1].text if history else ""))

    def _step(self, index: int, planned: PlannedStep) -> StepRecord:
        spec = self._registry.spec(planned.tool)
        args = spec.validate(planned.args)
        return StepRecord(index=index, tool=spec.name, args=args, risk=spec.risk,
                          summary=spec.describe(args))


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
