"""The model-tier planner: a local GGUF model proposes one tool call (or a reply) per step.

``ModelPlanner`` implements ``agentd.understanding.planner.StepPlanner``. Per step it
picks the relevant tools (ToolRAG, plus any tool already used in this task), renders the
prompt with the model's chat template, restores the fixed prefix from memory or disk,
and decodes under a grammar that admits only a valid call of an offered tool or a reply.
With a ``Guard`` (the daemon always has one) a request is first routed: out of scope, the
model is not asked; in scope, it is offered only the routed tools, and its step must be
grounded in the request (``agentd.model.guard``). Inference runs in a worker thread;
``progress`` hears "loading", "loaded" and "thinking" on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agentd.errors import ModelUnavailable
from agentd.events import ProgressCallback, ProgressEvent, Thinking
from agentd.model.engine import GenerationStats, Sampling, generate
from agentd.model.gguf_file import fingerprint
from agentd.model.grammar import ActionGrammar, Allowed, build_grammar, parse_action
from agentd.model.guard import Guard, Route, offered
from agentd.model.manager import ModelManager, Progress
from agentd.model.prefix_cache import PrefixCache
from agentd.model.prompt import PromptRenderer, conversation, system_text
from agentd.model.runtime import import_llama
from agentd.model.toolrag import ToolRanker
from agentd.tools.registry import ToolSpec
from agentd.understanding.planner import FinalReply, Observation, PlannerAction

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_grammar import LlamaGrammar

THINKING_EVERY = 8  # tokens between "thinking" progress updates


@dataclass(frozen=True)
class PlannerConfig:
    """How the planner prompts and decodes (each becomes a setting, see docs/model.md)."""

    top_k_tools: int = 6
    max_steps: int = 6
    max_string_chars: int = 200
    reply_chars: int = 400
    sampling: Sampling = field(default_factory=Sampling)


class ModelPlanner:
    """Tier 2: plans with a local model through llama.cpp."""

    name = "model"

    def __init__(self, manager: ModelManager, tools: Sequence[ToolSpec], *,
                 ranker: ToolRanker | None = None, cache_dir: Path | None = None,
                 config: PlannerConfig | None = None, guard: Guard | None = None) -> None:
        self.manager = manager
        self.tools = tuple(tools)
        self.ranker = ranker
        self.guard = guard
        self.last_route: Route | None = None
        self.cache_dir = cache_dir
        self.config = config or PlannerConfig()
        self.last_stats: GenerationStats | None = None
        self._cache: PrefixCache | None = None
        self._renderer: PromptRenderer | None = None
        self._grammars: dict[tuple[str, ...], tuple[ActionGrammar, LlamaGrammar]] = {}

    async def next_action(self, request: str, history: Sequence[Observation],
                          progress: ProgressCallback) -> PlannerAction:
        loop = asyncio.get_running_loop()

        def report(event: ProgressEvent) -> None:
            loop.call_soon_threadsafe(progress, event)

        return await asyncio.to_thread(self.decide, request, history, report)

    def offered_tools(self, request: str, history: Sequence[Observation]) -> list[ToolSpec]:
        """The tools this step may call: the most relevant ones and those already used."""
        if self.ranker is None or self.config.top_k_tools >= len(self.tools):
            return list(self.tools)
        chosen = {s.name for s in self.ranker.top(request, self.config.top_k_tools)}
        chosen |= {obs.tool for obs in history}
        return [s for s in self.tools if s.name in chosen]

    def decide(self, request: str, history: Sequence[Observation],
               progress: Progress) -> PlannerAction:
        """The blocking step (worker thread): the next call or the final reply."""
        if len(history) >= self.config.max_steps:
            return FinalReply(f"I stopped after {self.config.max_steps} steps without "
                              "finishing; ask again with a simpler request.")
        route = self.guard.route(request) if self.guard is not None else None
        self.last_route = route
        if self.guard is not None and route is not None and not route.tools:
            return self.guard.cannot(route)  # out of scope: the model is not asked
        specs = offered(self.tools, route, history) or self.offered_tools(request, history)
        with self.manager.use(progress) as llama:
            renderer = self._renderer_for(llama)
            prompt = renderer.render(system_text(specs), conversation(request, history))
            allowed = self.guard.allowed(specs, request, history) if self.guard else None
            action_grammar, grammar = self._grammar(specs, allowed)
            if self.guard is not None and not action_grammar.tools:
                return self.guard.cannot(route)  # no tool call the request grounds
            budget = min(action_grammar.max_bytes, llama.n_ctx() - len(prompt.tokens))
            if budget < 64:
                raise ModelUnavailable(
                    f"the conversation ({len(prompt.tokens)} tokens) no longer fits the "
                    f"model's context of {llama.n_ctx()} tokens; raise the context size")
            progress(Thinking(prompt_tokens=len(prompt.tokens), tools=len(specs)))

            def on_token(n: int) -> None:
                if n % THINKING_EVERY == 0:
                    progress(Thinking(tokens=n))

            text, stats = generate(llama, prompt, grammar, budget, self.config.sampling,
                                   self._prefix_cache(), on_token)
        self.last_stats = stats
        try:
            action = parse_action(text, specs)
        except (ValueError, json.JSONDecodeError) as exc:
            raise ModelUnavailable(f"the model did not produce a valid action ({exc}); "
                                   "its output was cut short") from None
        if self.guard is None:
            return action
        return self.guard.check(request, history, action, route)

    def _renderer_for(self, llama: Llama) -> PromptRenderer:
        if self._renderer is None or self._renderer.llama is not llama:
            template = str(llama.metadata.get("tokenizer.chat_template", ""))
            self._renderer = PromptRenderer(llama, template)
        return self._renderer

    def _grammar(self, specs: Sequence[ToolSpec],
                 allowed: Allowed | None = None) -> tuple[ActionGrammar, LlamaGrammar]:
        """The step's grammar; kept per tool set unless narrowed to this request."""
        key = tuple(s.name for s in specs)
        if allowed is None and key in self._grammars:
            return self._grammars[key]
        action = build_grammar(specs, self.config.max_string_chars, self.config.reply_chars,
                               allowed=allowed)
        compiled = import_llama().LlamaGrammar.from_string(action.gbnf, verbose=False)
        if allowed is None:
            self._grammars[key] = (action, compiled)
        return action, compiled

    def _prefix_cache(self) -> PrefixCache | None:
        if self.cache_dir is None:
            return None
        if self._cache is None:
            self._cache = PrefixCache(self.cache_dir, fingerprint(self.manager.path))
        return self._cache
