"""The ToolRAG embedder: the converted GGUF matches torch, and ranks tools sensibly."""

from __future__ import annotations

import numpy as np
import pytest
from testkit.model import EmbedderFiles

from agentd.model.toolrag import Embedder, ToolRanker
from agentd.tools.catalogue import CATALOGUE

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def ranker(embedder_files: EmbedderFiles) -> ToolRanker:
    return ToolRanker(Embedder(embedder_files.gguf), CATALOGUE)


@pytest.mark.slow
def test_llama_cpp_embeddings_match_the_torch_reference(embedder_files: EmbedderFiles,
                                                        ranker: ToolRanker) -> None:
    ref = embedder_files.reference
    got = ranker.embedder.embed(ref["sentences"])
    cosine = (got * np.asarray(ref["vectors"], dtype=np.float32)).sum(axis=1)
    assert cosine.min() >= 0.99, cosine


@pytest.mark.slow
@pytest.mark.parametrize(("request_text", "tool"), [
    ("turn off wifi", "settings.set"),
    ("set a timer for ten minutes", "timer.start"),
    ("text Alice that I'm running late", "sms.send"),
    ("wake me up at 7:30", "alarm.set"),
    ("what's on the screen", "screen.read"),
    ("call mum", "call.dial"),
])
def test_relevant_tool_ranks_in_the_top_three(ranker: ToolRanker, request_text: str,
                                              tool: str) -> None:
    top = [spec.name for spec, _ in ranker.rank(request_text)[:3]]
    assert tool in top, top
