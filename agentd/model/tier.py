"""Tier 2 as the daemon runs it: the planner for whichever model is installed and in use.

``agentctl model use NAME`` (or install, rm) changes the store while agentd runs; this
wrapper looks at the store on every request (one small file read) and builds, or drops,
the planner to match. With no model it raises ``ModelUnavailable`` saying how to get
one, and the template tier keeps answering.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from agentd.config import Settings
from agentd.errors import ModelUnavailable
from agentd.events import ProgressCallback
from agentd.model.engine import GenerationStats
from agentd.model.grounding import Evidence
from agentd.model.guard import Guard, GuardConfig
from agentd.model.manager import ModelManager
from agentd.model.planner import ModelPlanner, PlannerConfig
from agentd.model.router import LexicalRouter, SentenceRouter
from agentd.model.runtime import Threads
from agentd.model.store import ModelStore
from agentd.model.toolrag import Embedder, ToolRanker
from agentd.tools.registry import ToolSpec
from agentd.understanding import sampling
from agentd.understanding.planner import Observation, PlannerAction
from agentd.understanding.templates import load_intents

log = logging.getLogger(__name__)
NO_MODEL = ("no language model is installed; install one with `agentctl model install "
            "PATH|URL` (`agentctl model catalogue` lists recommended ones)")


class InstalledModelTier:
    name = "model"

    def __init__(self, store: ModelStore, tools: Sequence[ToolSpec], *, cache_dir: Path,
                 n_ctx: int, threads: Threads, idle_unload_s: float,
                 config: PlannerConfig, language: str = "en",
                 guard_config: GuardConfig | None = None) -> None:
        self._store = store
        self._tools = tuple(tools)
        self._cache_dir = cache_dir
        self._n_ctx = n_ctx
        self._threads = threads
        self._idle_unload_s = idle_unload_s
        self._config = config
        self._language = language
        self._guard_config = guard_config
        self._planner: ModelPlanner | None = None
        self._model = ""

    @property
    def last_stats(self) -> GenerationStats | None:
        """What the last model call cost (the benchmark's prefix-cache hit rate)."""
        return self._planner.last_stats if self._planner is not None else None

    @property
    def model_name(self) -> str:
        current = self._store.current_name()
        return current or ""

    def _current(self) -> ModelPlanner:
        current = self._store.current()
        if current is None:
            self.close()
            raise ModelUnavailable(NO_MODEL)
        if self._planner is None or self._model != current.name:
            self.close()
            manager = ModelManager(current.path, n_ctx=self._n_ctx, threads=self._threads,
                                   idle_unload_s=self._idle_unload_s)
            embedder = self._embedder()
            self._planner = ModelPlanner(
                manager, self._tools, cache_dir=self._cache_dir, config=self._config,
                ranker=ToolRanker(embedder, self._tools) if embedder else None,
                guard=self._guard(embedder))
            self._model = current.name
            log.info("model tier: %s", current.name)
        return self._planner

    def _embedder(self) -> Embedder | None:
        embedder = Embedder(self._store.embedder_path)
        problem = embedder.problem()
        if problem is not None:
            log.info("no ToolRAG (every tool enters the prompt); the router compares words, "
                     "not meanings: %s", problem)
            return None
        return embedder

    def _guard(self, embedder: Embedder | None) -> Guard:
        """The guard from the sentence templates: router (with an embedder) and checks."""
        intents = load_intents(self._language)
        evidence = Evidence.from_intents(intents, self._tools)
        sentences = sampling.sample_sentences(intents)
        router: SentenceRouter | LexicalRouter = LexicalRouter(sentences, intents.skip_words)
        if embedder is not None:
            router = SentenceRouter(embedder, sentences, self._cache_dir, intents.skip_words)
        return Guard(self._tools, evidence, router, self._guard_config)

    async def next_action(self, request: str, history: Sequence[Observation],
                          progress: ProgressCallback) -> PlannerAction:
        return await self._current().next_action(request, history, progress)

    def close(self) -> None:
        if self._planner is not None:
            self._planner.manager.unload()
        self._planner, self._model = None, ""


def model_tier(settings: Settings, tools: Sequence[ToolSpec],
               guard_config: GuardConfig | None = None) -> InstalledModelTier:
    """The tier from agentd's settings (``guard_config``: the benchmark's experiments)."""
    return InstalledModelTier(
        ModelStore(settings.models_dir), tools, cache_dir=settings.cache_dir / "prefix-cache",
        n_ctx=settings.model_context,
        threads=Threads.choose(settings.model_threads or None,
                               settings.model_batch_threads or None),
        idle_unload_s=settings.model_idle_unload_s,
        config=PlannerConfig(top_k_tools=settings.model_tools,
                             max_steps=settings.model_max_steps,
                             reply_chars=settings.model_reply_chars),
        language=settings.language,
        guard_config=guard_config or GuardConfig(max_tools=min(GuardConfig.max_tools,
                                                               settings.model_tools)))
