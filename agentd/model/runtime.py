"""llama.cpp through llama-cpp-python: import it safely, choose threads, load a GGUF.

Threads, measured on a 2-core x86 machine (docs/model.md): with OpenMP's default
spin-waiting, two threads decoded at ~2 tok/s instead of ~100, because the waiting
threads burn the cores the working ones need. ``OMP_WAIT_POLICY=PASSIVE`` (set here
before llama.cpp's OpenMP runtime starts, unless the user set it) avoids that. Decoding
one token at a time is memory-bound and gains little from threads; evaluating a prompt
is compute-bound and uses all cores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentd.errors import ModelUnavailable

if TYPE_CHECKING:
    from llama_cpp import Llama

INSTALL_HINT = ("install the model extras: `make` in a source tree, or "
                "`pip install 'agentd[model]'` with the cached llama-cpp-python wheel "
                "(scripts/build-llama-wheel.sh)")


@dataclass(frozen=True)
class Threads:
    """Threads for decoding (one token at a time) and for prompt batches."""

    decode: int
    batch: int

    @staticmethod
    def choose(decode: int | None = None, batch: int | None = None) -> Threads:
        """Explicit values win; otherwise leave a core free for decoding, use all for batches."""
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        auto_decode = max(1, min(4, cores - 1))
        return Threads(decode=decode or auto_decode, batch=batch or cores)


def import_llama() -> Any:
    """Import ``llama_cpp`` with the thread environment set first; explain if missing."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError as exc:
        raise ModelUnavailable(f"llama-cpp-python is not installed ({exc}); "
                               f"{INSTALL_HINT}") from None
    return llama_cpp


def load_llama(path: Path, *, n_ctx: int, threads: Threads, embedding: bool = False,
               n_batch: int = 512) -> Llama:
    """Load ``path`` quietly; a file llama.cpp rejects becomes ``ModelUnavailable``."""
    llama_cpp = import_llama()
    try:
        llama: Llama = llama_cpp.Llama(
            model_path=str(path), n_ctx=n_ctx, n_batch=n_batch, n_ubatch=n_batch,
            n_threads=threads.decode, n_threads_batch=threads.batch,
            embedding=embedding, verbose=False)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelUnavailable(f"llama.cpp could not load {path}: {exc}; the file may be "
                               "corrupt or made for a newer llama.cpp") from None
    return llama
