"""The policy engine: right before a step runs, decide whether it may, whatever planned it.

Defaults: ``read`` and ``local`` steps run; ``external`` ones ask the user (``input.*``
is ``external``: a tap can press any button on the screen, Send included). Then, in
order:

- a step planned after untrusted content entered the task (a model step that saw a
  notification, the screen, a file name, a message) asks, whatever its risk but ``read``:
  the content may have planned it. Steps the user's own words planned before any content
  arrived (a template chain) keep their normal policy;
- once the task holds untrusted content, ``external`` steps ask, even if planned before
  it and whatever the grants say;
- a sandboxed caller (Flatpak, snap) needs a grant to read content on the phone (screen,
  notifications, files, messages): that step asks, and "always" grants it to that app;
- a spoken request the templates matched only after repairing the transcript (a word
  dropped or changed) asks before any step but ``read``, naming what was heard and what
  was understood;
- a grant lets an ``external`` tool run for one verified program without asking, but not
  for spoken requests or ``--batch`` runs;
- a step whose target several things match (two contacts called Sam) asks which one,
  whatever its risk and the grants (``which``).

The question names the content's source, so the user sees why it asks.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from agentd.records import StepRecord, TaskRecord
from agentd.store.grants import GrantStore
from agentd.tools.registry import Risk, ToolRegistry


class Decision(StrEnum):
    """The user's answer to a confirmation (or a cancel)."""

    ALLOW = "allow"
    ALWAYS = "always"  # allow, and grant this tool to this caller program from now on
    DENY = "deny"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Approver:
    """Who gave an answer, through which channel: recorded in the audit log."""

    channel: str  # "agentctl" (the user at a terminal), "notification", "owner" (deny/cancel)
    program: str = ""
    pid: int = -1

    def to_json(self) -> dict[str, object]:
        return {"channel": self.channel, "program": self.program, "pid": self.pid}


@dataclass(frozen=True)
class Answer:
    decision: Decision
    by: Approver
    choice: int = -1  # which of a "which one?" question's choices (0-based); -1: none


class OwnInput:
    """When agentd's own hands (``input.*``) last moved: an Allow pressed on agentd's own
    question by agentd's own tap or key is not the user's. The notification channel
    ignores answers that arrive while an input step runs and for ``QUIET_S`` after."""

    QUIET_S = 2.0

    def __init__(self) -> None:
        self._running = 0
        self._last = -1e9

    @contextlib.contextmanager
    def moving(self) -> Iterator[None]:
        self._running += 1
        try:
            yield
        finally:
            self._running -= 1
            self._last = time.monotonic()

    def recently(self) -> bool:
        return self._running > 0 or time.monotonic() - self._last < self.QUIET_S


class Verdict(StrEnum):
    RUN = "run"
    ASK = "ask"


@dataclass(frozen=True)
class PolicyDecision:
    verdict: Verdict
    reason: str  # recorded in the audit log
    question: str = ""  # what the confirmation says, written by agentd, never by a model
    can_grant: bool = False  # whether "always allow" may be offered
    granted: bool = False  # it runs because of a grant


def taint_warning(sources: list[str] | tuple[str, ...]) -> str:
    return ("This request has read content that others control (" + "; ".join(sources) +
            "). If that content asked for this, say no.")


def grant_note(tool: str, program: str) -> str:
    return f"“Always allow” lets {program} use {tool} without asking again."


def which_question(summary: str, labels: tuple[str, ...] | list[str],
                   taint: list[str] | tuple[str, ...] = ()) -> str:
    """A "which one?" question: the step, then its numbered choices (agentd's words)."""
    lines = [f"{summary}?"] + [f"{n}. {label}" for n, label in enumerate(labels, 1)]
    return "\n".join(lines + ([taint_warning(taint)] if taint else []))


class PolicyEngine:
    def __init__(self, grants: GrantStore, registry: ToolRegistry) -> None:
        self.grants = grants
        self._registry = registry

    def which(self, task: TaskRecord, step: StepRecord,
              labels: tuple[str, ...]) -> PolicyDecision:
        """A step that means one of several things asks which, whatever its risk and the
        grants: agentd never guesses whom to text. The choice is the user's yes to that
        one; "always" is never offered for it."""
        return PolicyDecision(Verdict.ASK, "several matches: asks which one",
                              which_question(step.summary, labels, task.taint))

    def check(self, task: TaskRecord, step: StepRecord) -> PolicyDecision:
        risk = step.risk
        spec = self._registry.spec(step.tool)
        caller = task.caller
        may_grant = bool(caller.program) and not task.options.get("spoken") \
            and not task.options.get("batch")
        if risk is Risk.READ:
            if caller.sandboxed and not spec.trusted:
                if self.grants.allows(step.tool, caller.program):
                    return PolicyDecision(Verdict.RUN, f"granted to {caller.program}",
                                          granted=True)
                return PolicyDecision(
                    Verdict.ASK, "sandboxed caller reads content: asks the user",
                    f"{caller.program} asks to: {step.summary}?" + (
                        "\n" + grant_note(step.tool, caller.program) if may_grant else ""),
                    can_grant=may_grant)
            return PolicyDecision(Verdict.RUN, "read: runs without asking")
        if step.after_content:
            return PolicyDecision(Verdict.ASK, "planned after untrusted content: asks",
                                  f"{step.summary}?\n{taint_warning(step.after_content)}")
        if step.understood_as:
            return PolicyDecision(Verdict.ASK, "spoken request repaired: asks",
                                  f"{step.summary}?\nagentd heard “{task.request}” and "
                                  f"understood “{step.understood_as}”.")
        if not risk.needs_confirmation:
            return PolicyDecision(Verdict.RUN, f"{risk.value}: runs without asking")
        if task.taint:
            return PolicyDecision(Verdict.ASK, "tainted: asks whatever the grants say",
                                  f"{step.summary}?\n{taint_warning(task.taint)}")
        if risk is Risk.EXTERNAL and may_grant and \
                self.grants.allows(step.tool, caller.program):
            return PolicyDecision(Verdict.RUN, f"granted to {caller.program}", granted=True)
        can_grant = risk is Risk.EXTERNAL and may_grant
        question = f"{step.summary}?"
        if can_grant:
            question += "\n" + grant_note(step.tool, caller.program)
        return PolicyDecision(Verdict.ASK, f"{risk.value}: asks the user", question,
                              can_grant=can_grant)
