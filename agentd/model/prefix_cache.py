"""The evaluated fixed prefix (system text + tool schemas), kept on disk across restarts.

On a PinePhone, evaluating a 1,000-token system prompt takes 20-60 s; restoring its KV
state takes well under a second. A state file is keyed by the model's fingerprint, the
llama-cpp-python version, the context size and the prefix tokens, written atomically
(temp file, fsync, rename) and checked on load (the tokens it holds must be the prefix).
The newest ``max_entries`` files are kept.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agentd.model.llama_private import mark_evaluated
from agentd.model.runtime import import_llama

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)
SUFFIX = ".kvstate"


class PrefixCache:
    """KV-state files for prompt prefixes of one model, in ``directory``."""

    def __init__(self, directory: Path, model_id: str, max_entries: int = 8) -> None:
        self.directory = directory
        self.model_id = model_id
        self.max_entries = max_entries

    def key(self, tokens: Sequence[int], n_ctx: int) -> str:
        llama_cpp = import_llama()
        digest = hashlib.sha256()
        digest.update(f"{self.model_id}\0{llama_cpp.__version__}\0{n_ctx}\0".encode())
        digest.update(b"".join(t.to_bytes(4, "little", signed=True) for t in tokens))
        return digest.hexdigest()[:40]

    def path(self, key: str) -> Path:
        return self.directory / f"{key}{SUFFIX}"

    def load(self, llama: Llama, tokens: Sequence[int]) -> bool:
        """Restore the state after ``tokens`` into ``llama``; False when not cached."""
        path = self.path(self.key(tokens, llama.n_ctx()))
        if not path.is_file():
            return False
        llama_cpp = import_llama()
        out = (llama_cpp.llama_token * len(tokens))()
        count = ctypes.c_size_t(0)
        ok = llama_cpp.llama_state_load_file(llama.ctx, str(path).encode(), out, len(tokens),
                                             ctypes.byref(count))
        if not ok or count.value != len(tokens) or list(out) != list(tokens):
            log.warning("prefix cache %s is unusable; evaluating the prefix again", path)
            llama.reset()  # type: ignore[no-untyped-call]
            path.unlink(missing_ok=True)
            return False
        mark_evaluated(llama, tokens)
        os.utime(path)
        return True

    def save(self, llama: Llama, tokens: Sequence[int]) -> None:
        """Save ``llama``'s state, which must be exactly ``tokens`` evaluated."""
        llama_cpp = import_llama()
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(self.key(tokens, llama.n_ctx()))
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        array = (llama_cpp.llama_token * len(tokens))(*tokens)
        try:
            if not llama_cpp.llama_state_save_file(llama.ctx, str(tmp).encode(), array,
                                                   len(tokens)):
                raise OSError("llama.cpp could not write the state file")
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not save the prefix cache in %s: %s", self.directory, exc)
            tmp.unlink(missing_ok=True)
            return
        self._evict()

    def entries(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime,
                      reverse=True)

    def _evict(self) -> None:
        for old in self.entries()[self.max_entries:]:
            old.unlink(missing_ok=True)
