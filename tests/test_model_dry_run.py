"""A dry run of a model-tier request shows the whole plan, not just its first step.

The runner is real (journal, policy, executor); the planner is ``ScriptedPlanner``, a
named test planner that proposes a fixed list of steps and remembers what it was shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from agentd.config import Settings
from agentd.events import ProgressCallback, ProgressEvent
from agentd.policy.consent import PolicyEngine
from agentd.records import Caller, StepRecord, TaskRecord
from agentd.store.audit import AuditLog
from agentd.store.grants import GrantStore
from agentd.store.journal import Journal
from agentd.store.timers import TimerStore
from agentd.tasks.runner import TaskRunner, Understanding
from agentd.tasks.steps import StepExecutor
from agentd.tools.builtin.scheduler import Scheduler
from agentd.tools.catalogue import CATALOGUE
from agentd.tools.registry import ToolRegistry
from agentd.understanding.plan import Plan, PlannedStep
from agentd.understanding.planner import (
    DRY_RUN_RESULT,
    FinalReply,
    Observation,
    PlannerAction,
)

pytestmark = pytest.mark.unit


class ScriptedPlanner:
    """Proposes ``steps`` in order, then replies; records the history it is shown."""

    name = "scripted"

    def __init__(self, steps: Sequence[PlannedStep]) -> None:
        self.steps = list(steps)
        self.shown: list[list[Observation]] = []

    async def next_action(self, request: str, history: Sequence[Observation],
                          progress: ProgressCallback) -> PlannerAction:
        self.shown.append(list(history))
        if len(history) < len(self.steps):
            return self.steps[len(history)]
        return FinalReply("All done.")

    def close(self) -> None:
        pass


class Events:
    def __init__(self) -> None:
        self.done = asyncio.Event()

    def task_added(self, task: TaskRecord) -> None: ...
    def task_changed(self, task: TaskRecord) -> None: ...
    def progress(self, task: TaskRecord, event: ProgressEvent) -> None: ...
    def confirmation_requested(self, task: TaskRecord, step: StepRecord, question: str,
                               can_grant: bool) -> None: ...

    def finished(self, task: TaskRecord) -> None:
        self.done.set()


def _dry_run(tmp_path: Path, planner: ScriptedPlanner) -> TaskRecord:
    async def main() -> TaskRecord:
        journal = Journal(tmp_path / "journal.sqlite3")
        registry = ToolRegistry(CATALOGUE)
        events = Events()
        audit = AuditLog(journal)
        policy = PolicyEngine(GrantStore(journal, registry), registry)
        scheduler = Scheduler(TimerStore(journal), lambda t, late: None)
        executor = StepExecutor(journal, registry, scheduler, policy, audit, events, [], 1.0)
        understanding = Understanding(lambda text: Plan.nothing(tier="templates"), planner)
        runner = TaskRunner(Settings(state_dir=tmp_path), journal, registry, understanding,
                            executor, events)
        task = runner.submit("do the three things", {"dry_run": True}, Caller(uid=0))
        await asyncio.wait_for(events.done.wait(), 10)
        return task
    return asyncio.run(main())


def test_dry_run_shows_every_step_that_needs_no_result(tmp_path: Path) -> None:
    planner = ScriptedPlanner([
        PlannedStep("settings.set", {"setting": "wifi", "value": False}),
        PlannedStep("timer.start", {"duration_s": 300}),
        PlannedStep("settings.set", {"setting": "bluetooth", "value": True}),
    ])
    task = _dry_run(tmp_path, planner)
    assert task.state == "done"
    assert [s.tool for s in task.steps] == ["settings.set", "timer.start", "settings.set"]
    assert task.reply == ("Would: Set wifi to off; Start a timer for 5 minutes; "
                          "Set bluetooth to on.")
    # Each later step was planned on a result that says it was not run.
    assert [len(h) for h in planner.shown] == [0, 1, 2, 3]
    assert all(o.text == DRY_RUN_RESULT for o in planner.shown[-1])


def test_dry_run_stops_at_a_step_whose_result_the_rest_depends_on(tmp_path: Path) -> None:
    planner = ScriptedPlanner([
        PlannedStep("files.find", {"query": "report"}),
        PlannedStep("files.trash", {"path": "report.pdf"}),
    ])
    task = _dry_run(tmp_path, planner)
    assert [s.tool for s in task.steps] == ["files.find"]
    assert task.reply == ("Would: Find files matching “report”, then decide the rest "
                          "from its result.")
    assert len(planner.shown) == 1
