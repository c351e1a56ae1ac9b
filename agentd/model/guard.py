"""The model tier's guard: act only on evidence that a request is in scope and grounded.

A small local model picks a tool for almost anything (SmolLM2-135M never used the reply
branch in 128 everyday requests, and turned 24 of 26 out-of-scope ones into actions).
So the model does not decide *whether* to act, only *how*:

1. Route: the request's nearest template sentences (by embedding; without an embedder,
   by shared words) say which tool it is about. Below the threshold it is out of scope:
   an honest reply, no model call. Otherwise only the routed tool(s) are offered, under
   a grammar that admits only values the request grounds; the model fills the slots.
2. Check: the proposed step must be grounded (``grounding.ungrounded``): every word of
   the request accounted for by the step, every value said.
3. A first-step ``{"reply": ...}`` from the model is not passed on (a small model's free
   text about the world is a guess); the user hears the honest "can't do that yet".

Figures and the reasons for each threshold: docs/model.md.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from agentd.model.grammar import Allowed
from agentd.model.grounding import Evidence, candidates, ungrounded
from agentd.model.router import LexicalRouter, SentenceRouter
from agentd.tools.registry import Risk, ToolSpec
from agentd.understanding.plan import CANNOT_DO, PlannedStep
from agentd.understanding.planner import FinalReply, Observation, PlannerAction

log = logging.getLogger(__name__)
# A request that chains commands ("find the report and send it to mom") may take several
# steps; any other request takes one, whatever the model proposes next.
# How a question starts, once the templates' skip words are gone ("could you", "please").
QUESTION_START = re.compile(
    r"(?:(?:hey|ok|okay|um|uh|so|and)\W+)*(?:is|are|am|was|were|do|does|did|has|have|had"
    r"|what|what's|whats|which|how|how's|where|where's|when|why|who)\b")
CHAINED = re.compile(r"\b(?:and|then|also|after|afterwards|plus)\b|[,;]", re.IGNORECASE)


@dataclass(frozen=True)
class GuardConfig:
    """Thresholds (calibrated on the dev half of eval/requests_en.yaml; docs/model.md)."""

    threshold: float = 0.50  # nearest template sentence below this: out of scope
    lexical_threshold: float = 0.60  # the same, for the word-overlap router (no embedder)
    margin: float = 0.10  # tools within this of the best are offered too
    max_tools: int = 3
    nearby: float = 0.55  # above this, an out-of-scope reply names the nearest tool
    narrow: bool = True  # the grammar admits only grounded values (off: checks only)


@dataclass(frozen=True)
class Route:
    tools: tuple[str, ...]  # empty: abstain
    best: str
    score: float


class Guard:
    """Routes requests to tools and checks the model's steps before they run."""

    def __init__(self, specs: Sequence[ToolSpec], evidence: Evidence,
                 router: SentenceRouter | LexicalRouter | None = None,
                 config: GuardConfig | None = None) -> None:
        self.specs = {s.name: s for s in specs}
        self.evidence = evidence
        self.router = router
        self.config = config or GuardConfig()

    def route(self, request: str) -> Route | None:
        """The tools to offer for ``request`` (empty: out of scope); None without a router."""
        if self.router is None:
            return None
        scores = [(t, s) for t, s in self.router.scores(request) if t in self.specs]
        best, top = scores[0]
        lexical = isinstance(self.router, LexicalRouter)
        if top < (self.config.lexical_threshold if lexical else self.config.threshold):
            return Route((), best, top)
        tools = tuple(t for t, s in scores[: self.config.max_tools]
                      if s >= top - self.config.margin)
        return Route(tools, best, top)

    def allowed(self, specs: Sequence[ToolSpec], request: str,
                history: Sequence[Observation]) -> Allowed | None:
        """The grounded values per argument, for the grammar; None after the first step.

        Later steps may use what earlier results said (a path that ``files.find``
        found), so they are checked after decoding, not narrowed before.
        """
        if history or not self.config.narrow:
            return None
        return {(spec.name, name): values for spec in specs
                for name, values in candidates(spec, request, self.evidence).items()}

    def cannot(self, route: Route | None = None) -> FinalReply:
        """The honest reply, naming the nearest thing agentd can do when there is one."""
        if route is not None and route.score >= self.config.nearby:
            spec = self.specs[route.best]
            what = spec.description.rstrip(".")
            return FinalReply(f"{CANNOT_DO} The nearest thing I can do: "
                              f"{what[0].lower()}{what[1:]}.")
        return FinalReply(CANNOT_DO)

    def check(self, request: str, history: Sequence[Observation], action: PlannerAction,
              route: Route | None = None) -> PlannerAction:
        """``action`` if it may stand, else the honest reply (or, after a step, its result)."""
        if isinstance(action, FinalReply):
            return action if history else self.cannot(route)
        done = FinalReply(history[-1].text) if history else self.cannot(route)
        if any(obs.tool == action.tool and obs.args == action.args for obs in history):
            return done  # the same step again: what was asked is done
        if history and not CHAINED.search(request):
            log.info("model step not asked for (one command, one step): %s", action)
            return done
        spec = self.specs.get(action.tool)
        if spec is not None and spec.risk is not Risk.READ and is_question(request):
            log.info("a question changes nothing, not acting: %s", action)
            return done  # "is the flashlight on" is no reason to switch it on
        # Several commands are planned in the order they were said: the first step must
        # come from the first one ("mute the phone and turn on dnd" is not dnd alone).
        said = request if history else CHAINED.split(request)[0]
        problem = ungrounded(action, said or request, self.evidence,
                             [obs.text for obs in history],
                             [PlannedStep(obs.tool, obs.args) for obs in history])
        if problem is not None:
            log.info("model step not grounded, not acting: %s", problem)
            return done
        return action


def is_question(request: str) -> bool:
    """True for a request phrased as a question ("is wifi on", "what's my volume")."""
    first = QUESTION_START.match(request.strip().lower())
    return first is not None


def offered(specs: Sequence[ToolSpec], route: Route | None,
            history: Sequence[Observation]) -> list[ToolSpec] | None:
    """The routed tools plus those already used, in catalogue order; None: no routing."""
    if route is None:
        return None
    chosen = set(route.tools) | {obs.tool for obs in history}
    return [s for s in specs if s.name in chosen]


