"""A real model never makes agentd worse: SmolLM2-135M-Instruct and the MiniLM embedder on
the evaluation set (eval/requests_en.yaml), through the daemon's own model tier.

Slow (the model answers a few dozen requests; the rest are settled by the templates or
refused by the router before the model is asked): about a minute here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from testkit.model import EmbedderFiles

from agentd.tools.catalogue import CATALOGUE
from agentd.tools.registry import ToolRegistry
from agentd.understanding.plan import CANNOT_DO
from agentd.understanding.templates import TemplateTier

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.judgment import ModelSetup, judge, load_cases

pytestmark = pytest.mark.model


@pytest.mark.slow
def test_smollm2_with_the_embedder_is_never_worse_than_templates_alone(
        smollm2: Path, embedder_files: EmbedderFiles, tmp_path: Path) -> None:
    cases = load_cases()
    assert len(cases) >= 200 and sum(c.expected is None for c in cases) >= 50
    templates = TemplateTier(ToolRegistry(CATALOGUE))
    alone = judge(cases, templates, "templates alone")
    setup = ModelSetup(smollm2, embedder_files.gguf, tmp_path)
    try:
        with_model = judge(cases, templates, "templates + SmolLM2", setup.plan)
    finally:
        setup.close()
    summary = with_model.summary()
    assert summary["wrong"] <= 0.01 * len(cases), summary
    assert summary["exact"] >= alone.count("exact"), (summary, alone.summary())
    out_of_scope = [o for o in with_model.outcomes if o.case.expected is None]
    assert all(not o.steps for o in out_of_scope)
    assert all(o.reply.startswith(CANNOT_DO) for o in out_of_scope)  # honest, every one
    assert summary["model_tier_requests"] >= 50  # the model tier was really asked
