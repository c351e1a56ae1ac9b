"""agentd/model/llama_private.py against the real llama.cpp: fails loudly on an upgrade.

llama-cpp-python has no public API for the tokens its context holds or for counting
evaluated tokens; agentd uses its internals for both, in that one module. If these tests
fail after llama-cpp-python changed, re-check that module (and the prefix cache) first.
"""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest

from agentd.model import llama_private
from agentd.model.runtime import Threads, load_llama

pytestmark = pytest.mark.model

HINT = "llama-cpp-python changed: re-check agentd/model/llama_private.py"


def test_the_pinned_version_is_the_one_checked() -> None:
    assert llama_cpp.__version__ == llama_private.CHECKED_WITH, HINT


def test_live_tokens_mark_evaluated_and_the_eval_counter(tiny_gguf: Path) -> None:
    llama = load_llama(tiny_gguf, n_ctx=256, threads=Threads(1, 1))
    tokens = llama.tokenize(b"turn off the wifi please", add_bos=True)
    counter = llama_private.eval_counter(llama)
    assert llama_private.eval_counter(llama) is counter, HINT  # installed once
    llama.eval(tokens)
    assert counter.calls == [len(tokens)], HINT
    assert llama_private.live_tokens(llama) == tokens, HINT
    # A context told it holds a prefix: generate() evaluates only the rest.
    llama.reset()
    llama.eval(tokens[:3])
    llama_private.mark_evaluated(llama, tokens[:3])
    before = len(counter.calls)
    next(iter(llama.generate(tokens, temp=0.0)))
    assert counter.calls[before] == len(tokens) - 3, HINT
    vocab = llama_cpp.llama_model_get_vocab(llama.model)  # the public C API
    assert llama_cpp.llama_vocab_is_eog(vocab, llama.token_eos()), HINT
    llama.close()
