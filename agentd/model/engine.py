"""One grammar-constrained generation, reusing the evaluated prefix from memory or disk.

The prefix comes, cheapest first, from the live context (the previous request left it
there), from the disk cache, or is evaluated and saved. Then llama-cpp-python's
``generate`` evaluates only what follows (it keeps the longest common prefix itself).
``GenerationStats`` counts the tokens llama.cpp actually evaluated (``llama_private``:
the one place that touches llama-cpp-python's internals), so the tests and the
benchmark check reuse by counts, not timings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentd.model.llama_private import eval_counter, live_tokens
from agentd.model.prefix_cache import PrefixCache
from agentd.model.prompt import Prompt
from agentd.model.runtime import import_llama

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_grammar import LlamaGrammar


@dataclass
class GenerationStats:
    """What one generation cost."""

    prompt_tokens: int = 0
    prefix_tokens: int = 0
    prefix_source: str = ""  # "memory", "disk" or "evaluated"
    prompt_evaluated: int = 0  # prompt tokens llama.cpp evaluated this time
    output_tokens: int = 0
    prompt_seconds: float = 0.0  # until the first output token: the prompt phase
    seconds: float = 0.0
    eval_calls: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "eval_calls"}


@dataclass(frozen=True)
class Sampling:
    """Sampling settings; ``temperature=0`` is greedy (the default for planning)."""

    temperature: float = 0.0
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    seed: int = 0


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def restore_prefix(llama: Llama, prompt: Prompt, cache: PrefixCache | None) -> str:
    """Make the context hold ``prompt``'s prefix evaluated; say where it came from."""
    prefix = prompt.tokens[: prompt.prefix_len]
    live = live_tokens(llama)
    if _common_prefix(live, prefix) == len(prefix):
        return "memory"
    if cache is not None and cache.load(llama, prefix):
        return "disk"
    llama.reset()  # type: ignore[no-untyped-call]
    llama.eval(prefix)
    if cache is not None:
        cache.save(llama, prefix)
    return "evaluated"


def generate(llama: Llama, prompt: Prompt, grammar: LlamaGrammar, max_tokens: int,
             sampling: Sampling, cache: PrefixCache | None,
             on_token: Callable[[int], None] | None = None) -> tuple[str, GenerationStats]:
    """Generate up to ``max_tokens`` under ``grammar``; return the text and its cost."""
    start = time.monotonic()
    counter = eval_counter(llama)
    first_call = len(counter.calls)
    stats = GenerationStats(prompt_tokens=len(prompt.tokens), prefix_tokens=prompt.prefix_len)
    stats.prefix_source = restore_prefix(llama, prompt, cache)
    prefix_calls = len(counter.calls)
    llama.set_seed(sampling.seed)
    out: list[int] = []
    llama_cpp = import_llama()
    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    for token in llama.generate(prompt.tokens, temp=sampling.temperature,
                                top_k=sampling.top_k, top_p=sampling.top_p,
                                min_p=sampling.min_p, repeat_penalty=1.0, grammar=grammar):
        if llama_cpp.llama_vocab_is_eog(vocab, token) or len(out) >= max_tokens:
            break
        if not out:
            stats.prompt_seconds = round(time.monotonic() - start, 4)
        out.append(token)
        if on_token is not None:
            on_token(len(out))
    calls = counter.calls[first_call:]
    # The prefix's own eval calls, plus generate's first call (the rest of the prompt);
    # later calls are one sampled token each.
    stats.prompt_evaluated = sum(calls[: prefix_calls - first_call]) + (
        calls[prefix_calls - first_call] if len(calls) > prefix_calls - first_call else 0)
    stats.eval_calls = calls
    stats.output_tokens = len(out)
    stats.seconds = round(time.monotonic() - start, 4)
    return llama.detokenize(out).decode("utf-8", errors="replace"), stats
