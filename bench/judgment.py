"""Judgment: exact / abstained / wrong plans on the evaluation set, per understanding setup.

    .venv/bin/python bench/judgment.py                          # templates alone
    .venv/bin/python bench/judgment.py --model "$(scripts/fetch-smollm2.sh)" \\
        --embedder "$(scripts/make-embedder-gguf.sh)"            # or: make judgment

Each request of ``eval/requests_en.yaml`` goes through the planning path the daemon
runs for ``agentctl ask --dry-run``: the template tier, and when it finds nothing and a
model is given, the model tier as ``agentd.model.tier.model_tier`` builds it (the model
and the embedder installed into a scratch store, as ``agentctl model install`` does),
asked step by step with the dry run's feedback (``dry_run_observation``). Outcomes:

* exact: the plan is the expected one; for an out-of-scope request, no action at all;
* abstained: an in-scope request got no action (an honest "I can't do that yet");
* wrong: any other plan, including any action for an out-of-scope request.

``--model`` may be given several times; without ``--embedder`` a model runs without
ToolRAG and the router (the grounding checks alone guard it). ``--no-templates`` also
sends every request to the model tier, to measure it on its own. ``--show
wrong,abstained`` lists those requests; ``--split dev`` or ``--split test`` keeps one
half of the set (by a hash of the request).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentd.config import Settings  # noqa: E402
from agentd.errors import ModelUnavailable  # noqa: E402
from agentd.model.guard import GuardConfig  # noqa: E402
from agentd.tools.catalogue import CATALOGUE  # noqa: E402
from agentd.tools.registry import ToolRegistry  # noqa: E402
from agentd.understanding.plan import Plan, PlannedStep  # noqa: E402
from agentd.understanding.planner import (  # noqa: E402
    FinalReply,
    Observation,
    StepPlanner,
    dry_run_observation,
)
from agentd.understanding.templates import TemplateTier  # noqa: E402

EVAL_SET = ROOT / "eval" / "requests_en.yaml"
Step = tuple[str, tuple[tuple[str, Any], ...]]


@dataclass(frozen=True)
class Case:
    say: str
    expected: tuple[Step, ...] | None  # None: out of scope, the right answer is no action

    @property
    def split(self) -> str:
        return "dev" if hashlib.sha256(self.say.encode()).digest()[0] % 2 == 0 else "test"


@dataclass(frozen=True)
class Outcome:
    case: Case
    steps: tuple[Step, ...]
    reply: str
    tier: str
    seconds: float

    @property
    def verdict(self) -> str:
        if self.case.expected is None:
            return "exact" if not self.steps else "wrong"
        if self.steps == self.case.expected:
            return "exact"
        return "abstained" if not self.steps else "wrong"


@dataclass
class Score:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, verdict: str) -> int:
        return sum(o.verdict == verdict for o in self.outcomes)

    def summary(self) -> dict[str, Any]:
        n = len(self.outcomes)
        oos = [o for o in self.outcomes if o.case.expected is None]
        times = sorted(o.seconds for o in self.outcomes if o.tier != "templates") or [0.0]
        return {
            "setup": self.name, "requests": n,
            **{v: self.count(v) for v in ("exact", "abstained", "wrong")},
            **{f"{v}_rate": round(self.count(v) / n, 4) if n else 0.0
               for v in ("exact", "abstained", "wrong")},
            "out_of_scope": len(oos),
            "out_of_scope_acted_on": sum(bool(o.steps) for o in oos),
            "model_tier_requests": sum(o.tier not in ("templates",) for o in self.outcomes),
            "model_tier_s_p50": round(statistics.median(times), 3),
        }


def _step(tool: str, args: dict[str, Any]) -> Step:
    def norm(value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value
    return (tool, tuple(sorted((k, norm(v)) for k, v in args.items())))


def _expected_step(raw: Any) -> Step:
    if isinstance(raw, str):
        return _step(raw, {})
    if isinstance(raw, dict) and len(raw) == 1:
        (tool, args), = raw.items()
        return _step(tool, dict(args or {}))
    raise ValueError(f"a step is a tool name or {{tool: {{args}}}}, not {raw!r}")


def load_cases(path: Path = EVAL_SET) -> list[Case]:
    cases = []
    registry = ToolRegistry(CATALOGUE)
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
        if entry["do"] == "cannot":
            cases.append(Case(entry["say"], None))
            continue
        steps = tuple(_expected_step(raw) for raw in entry["do"])
        for tool, args in steps:  # an expected plan must itself be valid
            registry.spec(tool).validate(dict(args))
        cases.append(Case(entry["say"], steps))
    return cases


ModelPlan = Callable[[str], tuple[list[PlannedStep], str]]


def dry_run_steps(planner: StepPlanner, registry: ToolRegistry, request: str,
                  max_steps: int = 6) -> tuple[list[PlannedStep], str]:
    """The steps a dry run of ``request`` shows from the model tier, and its reply."""
    async def run() -> tuple[list[PlannedStep], str]:
        history: list[Observation] = []
        steps: list[PlannedStep] = []
        for _ in range(max_steps):
            try:
                action = await planner.next_action(request, history, lambda event: None)
            except ModelUnavailable as exc:
                return steps, exc.message
            if isinstance(action, FinalReply):
                return steps, action.text
            steps.append(action)
            observed = dry_run_observation(registry.spec(action.tool), action)
            if observed is None:
                break
            history.append(observed)
        return steps, ""
    return asyncio.run(run())


def judge(cases: Sequence[Case], templates: TemplateTier | None, name: str,
          model: ModelPlan | None = None, progress: bool = False) -> Score:
    """Each case through the templates (unless None) and, where they miss, ``model``."""
    score = Score(name)
    for i, case in enumerate(cases):
        start = time.perf_counter()
        plan = templates.understand(case.say) if templates else Plan.nothing(tier="none")
        steps, reply, tier = list(plan.steps), plan.reply, plan.tier
        if plan.is_empty and model is not None:
            steps, reply = model(case.say)
            tier = "model"
        score.outcomes.append(Outcome(case, tuple(_step(s.tool, s.args) for s in steps),
                                      reply, tier, time.perf_counter() - start))
        if progress and tier == "model":
            print(f"  [{i + 1}/{len(cases)}] {score.outcomes[-1].verdict}: {case.say}",
                  file=sys.stderr, flush=True)
    return score


class ModelSetup:
    """The daemon's model tier over a scratch store holding ``model`` (and ``embedder``)."""

    def __init__(self, model: Path, embedder: Path | None, scratch: Path,
                 guard: GuardConfig | None = None) -> None:
        from agentd.model.store import ModelStore
        from agentd.model.tier import model_tier

        settings = Settings(models_dir=scratch / "models", cache_dir=scratch / "cache")
        store = ModelStore(settings.models_dir)
        store.install(str(model), name="model")
        store.use("model")
        if embedder is not None:
            store.install(str(embedder), embedder=True)
        self.registry = ToolRegistry(CATALOGUE)
        self.tier = model_tier(settings, CATALOGUE, guard)
        self.max_steps = settings.model_max_steps

    def plan(self, request: str) -> tuple[list[PlannedStep], str]:
        return dry_run_steps(self.tier, self.registry, request, self.max_steps)

    def close(self) -> None:
        self.tier.close()


def describe(steps: Sequence[Step]) -> str:
    return ", ".join(f"{tool}({json.dumps(dict(args))})" for tool, args in steps) or "-"


def report(score: Score, show: set[str]) -> None:
    s = score.summary()
    n = s["requests"]
    print(f"\n{score.name}: {n} requests ({s['out_of_scope']} out of scope)")
    for verdict in ("exact", "abstained", "wrong"):
        print(f"  {verdict:9} {s[verdict]:4}  {100 * s[verdict] / n:5.1f}%")
    print(f"  out-of-scope requests acted on: {s['out_of_scope_acted_on']} of "
          f"{s['out_of_scope']}")
    for split in ("dev", "test"):
        part = [o for o in score.outcomes if o.case.split == split]
        if part and len(part) < n:
            counts = ", ".join(f"{sum(o.verdict == v for o in part)} {v}"
                               for v in ("exact", "abstained", "wrong"))
            print(f"  {split} half ({len(part)}): {counts}")
    if s["model_tier_requests"]:
        print(f"  model tier asked {s['model_tier_requests']} times, "
              f"{s['model_tier_s_p50']:.2f} s p50 per request")
    for o in score.outcomes:
        if o.verdict in show:
            expected = "cannot" if o.case.expected is None else describe(o.case.expected)
            print(f"  {o.verdict.upper():9} [{o.tier}] {o.case.say!r}\n"
                  f"            got {describe(o.steps)}  expected {expected}"
                  + (f"\n            reply: {o.reply[:120]}" if o.reply and not o.steps
                     else ""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", type=Path, default=EVAL_SET, help="the evaluation set")
    parser.add_argument("--model", type=Path, action="append", default=[],
                        help="a GGUF model to add after the templates (repeatable)")
    parser.add_argument("--embedder", type=Path, help="the ToolRAG/router embedder GGUF")
    parser.add_argument("--split", choices=("all", "dev", "test"), default="all")
    parser.add_argument("--show", default="wrong",
                        help="comma-separated verdicts to list (exact,abstained,wrong)")
    parser.add_argument("--json", action="store_true", help="print one JSON line per setup")
    parser.add_argument("--guard", metavar="THRESHOLD,MARGIN,MAX_TOOLS[,no-narrowing]",
                        help="guard settings to try instead of the defaults (calibration)")
    parser.add_argument("--no-templates", action="store_true",
                        help="also run each model alone: every request to the model tier")
    args = parser.parse_args(argv)
    cases = [c for c in load_cases(args.set) if args.split in ("all", c.split)]
    show = set(filter(None, args.show.split(",")))
    templates = TemplateTier(ToolRegistry(CATALOGUE))
    scores = [judge(cases, templates, "templates alone")]
    for model in args.model:
        name = f"templates + {model.name}" + (" + embedder" if args.embedder else "")
        with tempfile.TemporaryDirectory(prefix="agentd-judgment-") as scratch:
            guard = None
            if args.guard:
                threshold, margin, max_tools, *rest = args.guard.split(",")
                guard = GuardConfig(threshold=float(threshold), margin=float(margin),
                                    max_tools=int(max_tools),
                                    narrow="no-narrowing" not in rest)
                name += f" (router {args.guard})"
            setup = ModelSetup(model, args.embedder, Path(scratch), guard)
            try:
                scores.append(judge(cases, templates, name, setup.plan, progress=True))
                if args.no_templates:
                    scores.append(judge(cases, None, name.replace("templates + ", "") +
                                        " alone (no templates)", setup.plan, progress=True))
            finally:
                setup.close()
    for score in scores:
        if args.json:
            print(json.dumps(score.summary()))
        else:
            report(score, show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
