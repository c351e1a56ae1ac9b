"""ToolRAG: only the tools relevant to a request enter the prompt.

Each tool's declaration (name, description, argument descriptions and choices) is
embedded once with a sentence-embedding model (all-MiniLM-L6-v2 as a GGUF, built by
``scripts/make-embedder-gguf.sh``); a request is embedded and the tools ranked by cosine
similarity. The chosen tools are returned in catalogue order, so the same set always
renders the same prompt prefix (and hits the same prefix cache).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from agentd.errors import ModelUnavailable
from agentd.model.gguf_file import inspect_gguf
from agentd.model.runtime import Threads, load_llama
from agentd.tools.registry import ToolSpec

if TYPE_CHECKING:
    from llama_cpp import Llama


def tool_text(spec: ToolSpec) -> str:
    """What is embedded for a tool: everything a request might echo."""
    parts = [spec.name.replace(".", " "), spec.description]
    for arg in spec.args:
        parts.append(arg.description)
        if arg.choices:
            parts.append(", ".join(c.replace("_", " ") for c in arg.choices))
    return ". ".join(parts)


class Embedder:
    """A sentence-embedding GGUF, loaded on first use; vectors are L2-normalised."""

    def __init__(self, path: Path, threads: Threads | None = None, n_ctx: int = 512) -> None:
        self.path = path
        self.threads = threads or Threads(decode=1, batch=1)
        self.n_ctx = n_ctx
        self._llama: Llama | None = None
        self._lock = threading.Lock()

    def problem(self) -> str | None:
        """Why this embedder cannot be used, or None."""
        try:
            inspect_gguf(self.path)
        except ModelUnavailable as exc:
            return exc.message
        return None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            if self._llama is None:
                self._llama = load_llama(self.path, n_ctx=self.n_ctx, threads=self.threads,
                                         embedding=True)
            vectors = self._llama.embed(list(texts), normalize=True, truncate=True)
        return np.asarray(vectors, dtype=np.float32)

    def close(self) -> None:
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None


class ToolRanker:
    """Ranks ``specs`` by similarity to a request."""

    def __init__(self, embedder: Embedder, specs: Sequence[ToolSpec]) -> None:
        self.embedder = embedder
        self.specs = tuple(specs)
        self._vectors: np.ndarray | None = None

    def rank(self, request: str) -> list[tuple[ToolSpec, float]]:
        if self._vectors is None:
            self._vectors = self.embedder.embed([tool_text(s) for s in self.specs])
        query = self.embedder.embed([request])[0]
        scores = self._vectors @ query
        order = np.argsort(-scores, kind="stable")
        return [(self.specs[i], float(scores[i])) for i in order]

    def top(self, request: str, k: int) -> list[ToolSpec]:
        """The ``k`` most similar tools, in catalogue order."""
        chosen = {s.name for s, _ in self.rank(request)[:k]}
        return [s for s in self.specs if s.name in chosen]
