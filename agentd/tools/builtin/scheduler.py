"""Timers and alarms that survive restarts: due times live in the journal's file
(``agentd.store.timers``).

Waiting is done in short slices against the wall clock, so a phone that suspended
(the monotonic clock stops) still fires a due timer as soon as it wakes; one that
was due while agentd was down fires at start, late, and says so.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from agentd.store.timers import TimerRecord, TimerStore

log = logging.getLogger(__name__)

FireCallback = Callable[[TimerRecord, float], Awaitable[None]]
MAX_SLEEP_S = 15.0


class Scheduler:
    def __init__(self, timers: TimerStore, on_fire: FireCallback) -> None:
        self._timers = timers
        self._on_fire = on_fire
        self._waiters: dict[int, asyncio.Task[None]] = {}

    def start(self) -> None:
        """Arm every pending timer from the store (after a restart, too)."""
        for timer in self._timers.pending():
            self._arm(timer)

    async def stop(self) -> None:
        for waiter in self._waiters.values():
            waiter.cancel()
        await asyncio.gather(*self._waiters.values(), return_exceptions=True)
        self._waiters.clear()

    def pending(self, kind: str | None = None) -> list[TimerRecord]:
        return self._timers.pending(kind)

    def add(self, kind: str, label: str, due: float, task_id: int | None) -> TimerRecord:
        timer = self._timers.add(kind, label, due, task_id)
        self._arm(timer)
        return timer

    def cancel(self, timer: TimerRecord) -> None:
        self._timers.set_state(timer.id, "cancelled")
        waiter = self._waiters.pop(timer.id, None)
        if waiter:
            waiter.cancel()

    def _arm(self, timer: TimerRecord) -> None:
        self._waiters[timer.id] = asyncio.create_task(self._wait(timer),
                                                      name=f"{timer.kind}-{timer.id}")

    async def _wait(self, timer: TimerRecord) -> None:
        while (remaining := timer.due - time.time()) > 0:
            await asyncio.sleep(min(remaining, MAX_SLEEP_S))
        self._waiters.pop(timer.id, None)
        late = max(0.0, time.time() - timer.due)
        self._timers.set_state(timer.id, "fired")
        log.info("%s %d (%s) fired%s", timer.kind, timer.id, timer.label or "no label",
                 f", {late:.0f} s late" if late >= 1 else "")
        try:
            await self._on_fire(timer, late)
        except Exception:
            log.exception("could not announce %s %d", timer.kind, timer.id)
