"""One step: policy check, confirmation, run, taint, journal and audit.

This is the only place a tool runs, so the policy is enforced at execution whatever
planned the step. Confirmations come from agentd (a D-Bus signal answered by
Task1.Confirm/Deny, and a notification with Allow/Deny actions, whichever answers
first); no answer within ``confirmation_timeout_s`` means denied.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from agentd.errors import AgentError
from agentd.policy.audit import AuditLog
from agentd.policy.consent import Decision, PolicyDecision, PolicyEngine, Verdict
from agentd.tasks.journal import Journal
from agentd.tasks.model import StepRecord, StepState, TaskRecord, TaskState
from agentd.tools.builtin.scheduler import Scheduler
from agentd.tools.context import ToolContext
from agentd.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from agentd.tasks.runner import TaskEvents

log = logging.getLogger(__name__)
RESULT_IN_AUDIT = 500


class StopTask(Exception):
    """End the task now with this state and reply (a denial, a failed step)."""

    def __init__(self, state: TaskState, reply: str) -> None:
        super().__init__(reply)
        self.state, self.reply = state, reply


class ConfirmationChannel(Protocol):
    name: str

    async def ask(self, title: str, question: str, can_grant: bool) -> Decision | None: ...


@dataclass(frozen=True)
class StepOutcome:
    text: str
    provenance: str = ""  # non-empty when the result is untrusted content


class StepExecutor:
    def __init__(self, journal: Journal, registry: ToolRegistry, scheduler: Scheduler,
                 policy: PolicyEngine, audit: AuditLog, events: TaskEvents,
                 channels: Sequence[ConfirmationChannel], confirmation_timeout_s: float) -> None:
        self._journal = journal
        self._registry = registry
        self._scheduler = scheduler
        self._policy = policy
        self._audit = audit
        self._events = events
        self._channels = channels
        self._timeout = confirmation_timeout_s
        self._answers: dict[int, asyncio.Future[Decision]] = {}
        self.stopping = False

    def answer(self, task_id: int, decision: Decision) -> bool:
        """Deliver a D-Bus answer to a waiting step; False when none is waiting."""
        future = self._answers.get(task_id)
        if future is None or future.done():
            return False
        future.set_result(decision)
        return True

    async def execute(self, task: TaskRecord, step: StepRecord) -> StepOutcome:
        decision = self._policy.check(task, step)
        consent = "not needed" if decision.verdict is Verdict.RUN else ""
        if decision.verdict is Verdict.RUN and decision.reason.startswith("granted"):
            consent = "grant"
        if decision.verdict is Verdict.ASK:
            answer = await self._confirm(task, step, decision)
            if answer is Decision.CANCEL:
                step.state = StepState.NOT_RUN
                self._journal.save_step(task.id, step)
                raise asyncio.CancelledError
            if answer not in (Decision.ALLOW, Decision.ALWAYS):
                step.state = StepState.DENIED
                self._journal.save_step(task.id, step)
                self._record(task, step, decision, "denied" if answer else "no answer")
                raise StopTask(TaskState.CANCELLED,
                               f"Not done: you did not allow “{step.summary}”.")
            step.confirmed = True
            consent = "user"
            if answer is Decision.ALWAYS and decision.can_grant:
                self._policy.grants.add(step.tool, task.caller.program)
                consent = "user, and granted from now on"
        return await self._run(task, step, decision, consent)

    async def _run(self, task: TaskRecord, step: StepRecord, decision: PolicyDecision,
                   consent: str) -> StepOutcome:
        step.state = StepState.RUNNING
        self._journal.save_step(task.id, step)  # journaled before it runs
        self._events.progress(task, "step", {"index": step.index, "tool": step.tool,
                                             "state": str(step.state), "summary": step.summary})
        ctx = ToolContext(task=task, journal=self._journal, scheduler=self._scheduler,
                          audit=self._audit)
        provenance = ""
        try:
            result = await self._registry.run(ctx, step.tool, step.args)
            step.state, step.result = StepState.DONE, result.text
            spec = self._registry.spec(step.tool)
            if spec.untrusted:
                provenance = f"{step.tool}: {result.data.get('provenance', spec.untrusted)}"
        except AgentError as exc:
            step.state, step.error = StepState.FAILED, f"{exc.dbus_name}: {exc.message}"
        except asyncio.CancelledError:
            if self.stopping:
                raise  # left "running": recovery marks it unknown
            step.state, step.error = StepState.FAILED, "cancelled while running"
            self._journal.save_step(task.id, step)
            self._record(task, step, decision, consent)
            raise
        except Exception as exc:
            log.exception("tool %s failed", step.tool)
            step.state, step.error = StepState.FAILED, f"internal error in {step.tool}: {exc}"
        self._journal.save_step(task.id, step)  # and after
        if provenance and provenance not in task.taint:
            task.taint.append(provenance)
            self._journal.save_task(task)
        self._record(task, step, decision, consent)
        self._events.progress(task, "step", {"index": step.index, "tool": step.tool,
                                             "state": str(step.state), "result": step.result,
                                             "error": step.error})
        self._events.task_changed(task)
        if step.state is StepState.FAILED:
            summary = step.summary[:1].lower() + step.summary[1:]
            raise StopTask(TaskState.FAILED, f"Could not {summary}: {step.error}")
        return StepOutcome(step.result, provenance)

    async def _confirm(self, task: TaskRecord, step: StepRecord,
                       decision: PolicyDecision) -> Decision | None:
        step.state = StepState.AWAITING_CONFIRMATION
        self._journal.save_step(task.id, step)
        task.state = TaskState.AWAITING_CONFIRMATION
        self._journal.save_task(task)
        self._events.task_changed(task)
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._answers[task.id] = future
        self._events.confirmation_requested(task, step, decision.question, decision.can_grant)
        asking = [asyncio.create_task(self._ask_channel(ch, task, decision, future))
                  for ch in self._channels]
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._timeout)
        except TimeoutError:
            log.info("no answer in %.0f s: step %d denied", self._timeout, step.index)
            return None
        finally:
            self._answers.pop(task.id, None)
            for pending in asking:
                pending.cancel()
            task.state = TaskState.ACTING
            self._journal.save_task(task)
            self._events.task_changed(task)

    async def _ask_channel(self, channel: ConfirmationChannel, task: TaskRecord,
                           decision: PolicyDecision, future: asyncio.Future[Decision]) -> None:
        try:
            answer = await channel.ask(f"agentd: allow this? (task {task.id})",
                                       decision.question, decision.can_grant)
        except Exception:
            log.exception("confirmation channel %s failed", channel.name)
            return
        if answer is not None and not future.done():
            log.info("answered through %s: %s", channel.name, answer)
            future.set_result(answer)

    def skip_rest(self, task: TaskRecord) -> None:
        for step in task.steps:
            if step.state is StepState.PLANNED:
                step.state = StepState.SKIPPED
                self._journal.save_step(task.id, step)

    def _record(self, task: TaskRecord, step: StepRecord, decision: PolicyDecision,
                consent: str) -> None:
        self._audit.append({
            "task": task.id, "step": step.index, "tier": task.tier,
            "request": task.request[:RESULT_IN_AUDIT],
            "caller": {"program": task.caller.program, "uid": task.caller.uid,
                       "pid": task.caller.pid},
            "tool": step.tool, "args": step.args, "risk": step.risk, "summary": step.summary,
            "outcome": str(step.state), "result": (step.result or step.error)[:RESULT_IN_AUDIT],
            "consent": consent, "policy": decision.reason, "taint": list(task.taint)})
