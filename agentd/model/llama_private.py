"""Every use of llama-cpp-python beyond its documented API, in one place.

agentd keeps the evaluated prompt prefix (in memory and on disk, ``prefix_cache``) and
counts the tokens llama.cpp actually evaluates (``GenerationStats``). llama-cpp-python has
no public API for either, so these functions read and write ``Llama.input_ids`` and
``Llama.n_tokens`` (the tokens its context holds) and wrap ``Llama.eval`` on one instance.
``tests/test_model_llama_private.py`` checks each against a real model and fails loudly,
naming this file, when an upgrade of llama-cpp-python (pinned in ``pyproject.toml``)
changes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llama_cpp import Llama

# The version these were checked against (pyproject.toml pins it).
CHECKED_WITH = "0.3.36"


def live_tokens(llama: Llama) -> list[int]:
    """The tokens the context holds evaluated (what a request left there)."""
    return [int(t) for t in llama.input_ids[: llama.n_tokens]]


def mark_evaluated(llama: Llama, tokens: Sequence[int]) -> None:
    """Tell llama-cpp-python its context holds ``tokens`` (after a state file was loaded
    into it through llama.cpp's own C API), so ``generate`` reuses them."""
    llama.input_ids[: len(tokens)] = tokens
    llama.n_tokens = len(tokens)


class EvalCounter:
    """Wraps ``llama.eval`` on one instance to record how many tokens each call took."""

    def __init__(self, llama: Llama) -> None:
        self.calls: list[int] = []
        self._eval = llama.eval
        llama.eval = self  # type: ignore[method-assign]

    def __call__(self, tokens: Sequence[int]) -> None:
        self.calls.append(len(tokens))
        self._eval(tokens)


def eval_counter(llama: Llama) -> EvalCounter:
    """The instance's counter, installed on first use."""
    existing = llama.__dict__.get("eval")
    return existing if isinstance(existing, EvalCounter) else EvalCounter(llama)
