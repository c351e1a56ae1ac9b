"""The semantic router: which tool a request is about, judged by the templates' own words.

Sentences sampled from the sentence templates (``understanding.sampling``) are embedded
once with the ToolRAG embedder (all-MiniLM-L6-v2) and kept on disk, keyed by the
embedder's fingerprint and the sentences. A request is embedded and each tool scored by
its nearest sampled sentence (cosine). A request near none of them is out of scope: the
model tier then answers honestly instead of letting the model pick a tool.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from agentd.model.gguf_file import fingerprint
from agentd.model.toolrag import Embedder

log = logging.getLogger(__name__)


class SentenceRouter:
    """Scores tools by the nearest template sentence to a request."""

    def __init__(self, embedder: Embedder, sentences: Sequence[tuple[str, str]],
                 cache_dir: Path | None = None, skip_words: Sequence[str] = ()) -> None:
        self.embedder = embedder
        # The templates' skip words ("could you", "please", "for me") carry no intent;
        # left in, they pull a polite request away from every template sentence.
        longest_first = sorted(skip_words, key=len, reverse=True)
        self._skip = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in longest_first)
                                + r")\b", re.IGNORECASE) if skip_words else None
        self.tools = [tool for tool, _ in sentences]
        self.sentences = [text for _, text in sentences]
        self.cache_dir = cache_dir
        self._vectors: np.ndarray | None = None

    def _key(self) -> str:
        digest = hashlib.sha256(fingerprint(self.embedder.path).encode())
        for tool, text in zip(self.tools, self.sentences, strict=True):
            digest.update(f"{tool}\t{text}\n".encode())
        return digest.hexdigest()[:24]

    def vectors(self) -> np.ndarray:
        if self._vectors is not None:
            return self._vectors
        path = self.cache_dir / f"router-{self._key()}.npy" if self.cache_dir else None
        if path is not None and path.is_file():
            try:
                vectors: np.ndarray = np.load(path)
                if vectors.shape[0] == len(self.sentences):
                    self._vectors = vectors
                    return vectors
            except (OSError, ValueError):
                log.warning("router: dropping an unreadable cache %s", path)
        vectors = self.embedder.embed(self.sentences)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part.npy")
            np.save(tmp, vectors)
            tmp.replace(path)
        self._vectors = vectors
        return vectors

    def scores(self, request: str) -> list[tuple[str, float]]:
        """Every tool with its best cosine similarity to ``request``, best first."""
        if self._skip is not None:
            request = " ".join(self._skip.sub(" ", request).split()) or request
        sims = self.vectors() @ self.embedder.embed([request])[0]
        best: dict[str, float] = {}
        for tool, sim in zip(self.tools, sims.tolist(), strict=True):
            if sim > best.get(tool, -2.0):
                best[tool] = sim
        return sorted(best.items(), key=lambda item: -item[1])


class LexicalRouter:
    """The router without an embedder: the same sampled sentences, compared by words.

    Each sentence is a bag of words weighted by inverse document frequency (a word
    every tool's templates use says little); a request is scored against each tool by
    cosine similarity to its nearest sentence. Coarser than embeddings, so its threshold
    is its own (``GuardConfig.lexical_threshold``).
    """

    def __init__(self, sentences: Sequence[tuple[str, str]], skip_words: Sequence[str] = ()
                 ) -> None:
        self.tools = [tool for tool, _ in sentences]
        bags = [_bag(text) for _, text in sentences]
        tools_with: dict[str, set[str]] = {}
        for tool, bag in zip(self.tools, bags, strict=True):
            for word in bag:
                tools_with.setdefault(word, set()).add(tool)
        n = len(set(self.tools))
        self.idf = {w: float(np.log((1 + n) / (1 + len(t)))) + 1.0 for w, t in tools_with.items()}
        self.vectors = [self._weigh(bag) for bag in bags]
        longest_first = sorted(skip_words, key=len, reverse=True)
        self._skip = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in longest_first)
                                + r")\b", re.IGNORECASE) if skip_words else None

    def _weigh(self, bag: set[str]) -> dict[str, float]:
        weights = {w: self.idf.get(w, 0.0) for w in bag}
        norm = float(np.sqrt(sum(v * v for v in weights.values()))) or 1.0
        return {w: v / norm for w, v in weights.items()}

    def scores(self, request: str) -> list[tuple[str, float]]:
        if self._skip is not None:
            request = self._skip.sub(" ", request)
        # Words no template uses weigh as much as the rarest: "weather" must count.
        bag = _bag(request)
        rare = max(self.idf.values(), default=1.0)
        weights = {w: self.idf.get(w, rare) for w in bag}
        norm = float(np.sqrt(sum(v * v for v in weights.values()))) or 1.0
        best: dict[str, float] = {}
        for tool, vector in zip(self.tools, self.vectors, strict=True):
            sim = sum(weights[w] * vector[w] for w in bag if w in vector) / norm
            if sim > best.get(tool, -1.0):
                best[tool] = sim
        return sorted(best.items(), key=lambda item: -item[1])


def _bag(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower().replace("’", "'")))
