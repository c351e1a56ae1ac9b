"""One step: policy check, confirmation, run, taint, journal and audit.

This is the only place a tool runs, so the policy is enforced at execution whatever
planned the step. Confirmations come from agentd (a D-Bus signal answered by
Task1.Confirm/Deny, and a notification with Allow/Deny actions, whichever answers
first); no answer within ``confirmation_timeout_s`` means denied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, Protocol

from agentd.errors import AgentError, InvalidArguments, InvalidState
from agentd.events import StepChanged
from agentd.policy.consent import (
    Answer,
    Approver,
    Decision,
    OwnInput,
    PolicyDecision,
    PolicyEngine,
    Verdict,
)
from agentd.policy.content import source_name
from agentd.records import StepRecord, StepState, TaskRecord, TaskState
from agentd.store.audit import AuditLog, StepAudit
from agentd.store.journal import Journal
from agentd.tools.builtin.scheduler import Scheduler
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry

if TYPE_CHECKING:
    from agentd.tasks.runner import TaskEvents

log = logging.getLogger(__name__)
RESULT_IN_AUDIT = 500


class StopTask(Exception):
    """End the task now with this state and reply (a denial, a failed step)."""

    def __init__(self, state: TaskState, reply: str, provenance: str = "") -> None:
        super().__init__(reply)
        self.state, self.reply = state, reply
        self.provenance = provenance  # the failed step's error quotes outside content


class ConfirmationChannel(Protocol):
    """A trusted way to ask the user: the answer says who gave it, or None (no answer)."""

    name: str

    async def ask(self, title: str, question: str, can_grant: bool,
                  choices: Sequence[str] = ()) -> Answer | None: ...


@dataclass(frozen=True)
class StepOutcome:
    text: str
    provenance: str = ""  # non-empty when the result is untrusted content


class StepExecutor:
    def __init__(self, journal: Journal, registry: ToolRegistry, scheduler: Scheduler,
                 policy: PolicyEngine, audit: AuditLog, events: TaskEvents,
                 channels: Sequence[ConfirmationChannel], confirmation_timeout_s: float,
                 own_input: OwnInput | None = None) -> None:
        self._journal = journal
        self._registry = registry
        self._scheduler = scheduler
        self._policy = policy
        self._audit = audit
        self._events = events
        self._channels = channels
        self._timeout = confirmation_timeout_s
        self._own_input = own_input or OwnInput()
        # Set by the runner: held while a step waits for the user (its worker is free).
        self.idle: Callable[[], contextlib.AbstractAsyncContextManager[None]] = \
            contextlib.nullcontext
        self._answers: dict[int, asyncio.Future[Answer]] = {}
        self._choices: dict[int, int] = {}  # task -> how many choices its question offers
        self.stopping = False

    def waiting(self, task_id: int) -> bool:
        future = self._answers.get(task_id)
        return future is not None and not future.done()

    def answer(self, task_id: int, answer: Answer) -> bool:
        """Deliver an answer (already checked: the bus layer decides who may) to a waiting
        step; False when none is waiting. A "which one?" question takes a choice and a
        yes/no question none (``InvalidState``, ``InvalidArguments``)."""
        if not self.waiting(task_id):
            return False
        offered = self._choices.get(task_id, 0)
        if answer.decision in (Decision.ALLOW, Decision.ALWAYS):
            if offered and answer.choice < 0:
                raise InvalidState(f"task {task_id} asks which one of {offered}; choose one "
                                   f"(`agentctl choose {task_id} N`) or deny it")
            if not offered and answer.choice >= 0:
                raise InvalidState(f"task {task_id} asks yes or no, not which one; confirm "
                                   "or deny it")
            if offered and answer.choice >= offered:
                raise InvalidArguments(f"task {task_id} offers choices 1 to {offered}, "
                                       f"not {answer.choice + 1}")
            if offered and answer.decision is Decision.ALWAYS:
                raise InvalidState("“always allow” is not offered for a choice of whom")
        self._answers[task_id].set_result(answer)
        return True

    async def execute(self, task: TaskRecord, step: StepRecord) -> StepOutcome:
        # Resolved first (a contact's name to a number), so the question names what runs.
        try:
            prepared = await self._registry.prepare(step.tool, step.args)
        except AgentError as exc:
            self._fail_unprepared(task, step, exc)
        if prepared is not None:
            step.summary = prepared.summary
            self._journal.save_step(task.id, step)
        choices = prepared.choices if prepared is not None else ()
        bound = prepared.bound if prepared is not None else {}
        decision = self._policy.which(task, step, tuple(c.label for c in choices)) \
            if choices else self._policy.check(task, step)
        consent = "grant" if decision.granted else "not needed"
        approver: Approver | None = None
        if decision.verdict is Verdict.ASK:
            answer = await self._confirm(task, step, decision, tuple(c.label for c in choices))
            approver = answer.by if answer else None
            if answer is not None and answer.decision is Decision.CANCEL:
                step.state = StepState.NOT_RUN
                self._journal.save_step(task.id, step)
                raise asyncio.CancelledError
            if answer is None or answer.decision not in (Decision.ALLOW, Decision.ALWAYS):
                step.state = StepState.DENIED
                self._journal.save_step(task.id, step)
                self._record(task, step, decision, "denied" if answer else "no answer",
                             approver)
                raise StopTask(TaskState.CANCELLED,
                               f"Not done: you did not allow “{step.summary}”.")
            step.confirmed = True
            consent = "user"
            if choices:  # the one the user chose is what runs, and what the log says
                chosen = choices[answer.choice]
                step.summary, bound = chosen.summary, chosen.bound
                consent = f"user chose {answer.choice + 1} of {len(choices)}"
            if answer.decision is Decision.ALWAYS and decision.can_grant:
                self._policy.grants.add(step.tool, task.caller.program)
                consent = "user, and granted from now on"
        return await self._run(task, step, decision, consent, approver, bound)

    def _fail_unprepared(self, task: TaskRecord, step: StepRecord, exc: AgentError) -> NoReturn:
        """The step could not be resolved (no such contact): failed, never asked about."""
        step.state, step.error = StepState.FAILED, f"{exc.dbus_name}: {exc.message}"
        self._journal.save_step(task.id, step)
        self._record(task, step, self._policy.check(task, step), "not asked")
        self._events.progress(task, StepChanged(step.index, step.tool, str(step.state),
                                                error=step.error))
        self._events.task_changed(task)
        summary = step.summary[:1].lower() + step.summary[1:]
        raise StopTask(TaskState.FAILED, f"Could not {summary}: {step.error}")

    async def _run(self, task: TaskRecord, step: StepRecord, decision: PolicyDecision,
                   consent: str, approver: Approver | None,
                   bound: Mapping[str, ArgValue]) -> StepOutcome:
        step.state = StepState.RUNNING
        self._journal.save_step(task.id, step)  # journaled before it runs
        self._events.progress(task, StepChanged(step.index, step.tool, str(step.state),
                                                summary=step.summary))
        ctx = ToolContext(task=task, journal=self._journal, scheduler=self._scheduler,
                          audit=self._audit, bound=bound)
        spec = self._registry.spec(step.tool)
        # Results are untrusted unless the tool is declared trusted; so are the errors of
        # such tools (they quote file, app and widget names).
        source = "" if spec.trusted else spec.source
        moving = self._own_input.moving() if spec.capability == "input" \
            else contextlib.nullcontext()
        try:
            with moving:
                result = await self._registry.run(ctx, step.tool, step.args)
            step.state, step.result = StepState.DONE, result.text
            if not spec.trusted:
                source = str(result.data.get("provenance", spec.source))
        except AgentError as exc:
            step.state, step.error = StepState.FAILED, f"{exc.dbus_name}: {exc.message}"
        except asyncio.CancelledError:
            if self.stopping:
                raise  # left "running": recovery marks it unknown
            step.state, step.error = StepState.FAILED, "cancelled while running"
            self._journal.save_step(task.id, step)
            self._record(task, step, decision, consent, approver)
            raise
        except Exception as exc:
            log.exception("tool %s failed", step.tool)
            step.state, step.error = StepState.FAILED, f"internal error in {step.tool}: {exc}"
        self._journal.save_step(task.id, step)  # and after
        provenance = f"{step.tool}: {source_name(source)}" if source else ""
        if provenance and provenance not in task.taint:
            task.taint.append(provenance)
            self._journal.save_task(task)
        self._record(task, step, decision, consent, approver)
        self._events.progress(task, StepChanged(step.index, step.tool, str(step.state),
                                                result=step.result, error=step.error))
        self._events.task_changed(task)
        if step.state is StepState.FAILED:
            summary = step.summary[:1].lower() + step.summary[1:]
            raise StopTask(TaskState.FAILED, f"Could not {summary}: {step.error}", provenance)
        return StepOutcome(step.result, provenance)

    async def _confirm(self, task: TaskRecord, step: StepRecord, decision: PolicyDecision,
                       choices: tuple[str, ...] = ()) -> Answer | None:
        step.state = StepState.AWAITING_CONFIRMATION
        self._journal.save_step(task.id, step)
        task.state = TaskState.AWAITING_CONFIRMATION
        self._journal.save_task(task)
        self._events.task_changed(task)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._answers[task.id] = future
        self._choices[task.id] = len(choices)
        self._events.confirmation_requested(task, step, decision.question, decision.can_grant,
                                            choices)
        asking = [asyncio.create_task(self._ask_channel(ch, task, decision, choices, future))
                  for ch in self._channels]
        try:
            async with self.idle():
                return await asyncio.wait_for(asyncio.shield(future), self._timeout)
        except TimeoutError:
            log.info("no answer in %.0f s: step %d denied", self._timeout, step.index)
            return None
        finally:
            self._answers.pop(task.id, None)
            self._choices.pop(task.id, None)
            for pending in asking:
                pending.cancel()
            task.state = TaskState.ACTING
            self._journal.save_task(task)
            self._events.task_changed(task)

    async def _ask_channel(self, channel: ConfirmationChannel, task: TaskRecord,
                           decision: PolicyDecision, choices: tuple[str, ...],
                           future: asyncio.Future[Answer]) -> None:
        title = f"agentd: which one? (task {task.id})" if choices else \
            f"agentd: allow this? (task {task.id})"
        try:
            answer = await channel.ask(title, decision.question, decision.can_grant, choices)
        except Exception:
            log.exception("confirmation channel %s failed", channel.name)
            return
        if answer is not None and not future.done():
            log.info("answered through %s: %s", channel.name, answer.decision)
            future.set_result(answer)

    def skip_rest(self, task: TaskRecord) -> None:
        for step in task.steps:
            if step.state is StepState.PLANNED:
                step.state = StepState.SKIPPED
                self._journal.save_step(task.id, step)

    def _record(self, task: TaskRecord, step: StepRecord, decision: PolicyDecision,
                consent: str, approver: Approver | None = None) -> None:
        self._audit.append(StepAudit(
            task.id, step.index, step.tool, step.args, step.risk.value, step.summary,
            outcome=str(step.state), result=(step.result or step.error)[:RESULT_IN_AUDIT],
            consent=consent, policy=decision.reason, tier=task.tier,
            request=task.request[:RESULT_IN_AUDIT],
            caller={"program": task.caller.program, "uid": task.caller.uid,
                    "pid": task.caller.pid, "bus_name": task.caller.bus_name,
                    "sandbox": task.caller.sandbox},
            after_content=step.after_content, understood_as=step.understood_as,
            taint=tuple(task.taint), approved_by=approver.to_json() if approver else None))
