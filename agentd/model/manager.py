"""One model in memory: loaded lazily, refused if it does not fit, unloaded when idle.

``ModelManager.use()`` is a context manager for the worker thread that runs inference:
it loads the model on first use (telling ``progress``), holds a lock while the model is
in use (a llama.cpp context is not thread-safe), and after ``idle_unload_s`` without
use a timer frees it again, so a phone gets its 1-2 GB back between requests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from agentd.errors import ModelUnavailable
from agentd.events import ModelLoaded, ModelLoading, ProgressCallback, ProgressEvent
from agentd.model.gguf_file import GGUFInfo, inspect_gguf, mem_available
from agentd.model.runtime import Threads, load_llama

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)
MB = 2**20
Progress = ProgressCallback


def _quiet(event: ProgressEvent) -> None:
    pass


class ModelManager:
    """Owns one ``Llama``; all access goes through ``use()``."""

    def __init__(self, path: Path, *, n_ctx: int = 4096, threads: Threads | None = None,
                 idle_unload_s: float = 300.0,
                 meminfo: Path = Path("/proc/meminfo")) -> None:
        self.path = path
        self.n_ctx = n_ctx
        self.threads = threads or Threads.choose()
        self.idle_unload_s = idle_unload_s
        self.meminfo = meminfo
        self.info: GGUFInfo | None = None
        self.loads = 0  # how many times the model was loaded (shown in status, tested)
        self._llama: Llama | None = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._last_used = 0.0

    @property
    def loaded(self) -> bool:
        return self._llama is not None

    def check_fits(self, info: GGUFInfo) -> None:
        """Refuse a model that needs more memory than is free now."""
        need = info.ram_needed(self.n_ctx)
        free = mem_available(self.meminfo)
        if free is not None and need > free:
            raise ModelUnavailable(
                f"model {info.name} needs about {need // MB} MB of memory "
                f"({info.size // MB} MB weights + context of {self.n_ctx} tokens) but only "
                f"{free // MB} MB are free; close some apps, lower the context size, or "
                "install a smaller model (`agentctl model catalogue`)")

    def _load(self, progress: Progress) -> Llama:
        info = inspect_gguf(self.path)
        self.check_fits(info)
        progress(ModelLoading(info.name, info.size))
        start = time.monotonic()
        llama = load_llama(self.path, n_ctx=self.n_ctx, threads=self.threads)
        self.info = info
        self.loads += 1
        seconds = round(time.monotonic() - start, 3)
        log.info("loaded %s in %.2f s (%d/%d threads)", self.path, seconds,
                 self.threads.decode, self.threads.batch)
        progress(ModelLoaded(info.name, seconds))
        return llama

    @contextmanager
    def use(self, progress: Progress = _quiet) -> Iterator[Llama]:
        """The loaded model, for the duration of one inference (blocking: worker thread)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._llama is None:
                self._llama = self._load(progress)
            try:
                yield self._llama
            finally:
                self._last_used = time.monotonic()
                self._arm_timer()

    def _arm_timer(self) -> None:
        if self.idle_unload_s <= 0:
            return
        self._timer = threading.Timer(self.idle_unload_s, self._unload_if_idle)
        self._timer.daemon = True
        self._timer.start()

    def _unload_if_idle(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # in use; its release arms a new timer
        try:
            if time.monotonic() - self._last_used >= self.idle_unload_s * 0.99:
                self._free(f"after {self.idle_unload_s:.0f} s idle")
        finally:
            self._lock.release()

    def _free(self, why: str) -> None:
        if self._llama is not None:
            log.info("unloading %s %s", self.path, why)
            self._llama.close()
            self._llama = None

    def unload(self) -> None:
        """Free the model now (it loads again on next use)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._free("on request")
