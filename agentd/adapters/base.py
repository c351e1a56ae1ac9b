"""What every backend shares: a name, a capability, and whether it can work here.

Each capability (files, apps, telephony, ...) is a ``typing.Protocol`` in its own
package; its backends are modules there. A backend answers ``availability()`` with an
``Availability`` that says why not, and ``AdapterRegistry`` picks, per capability, the
first backend that is available, in the order they were registered. Test backends are
registered only when the ``test_fixture`` setting is set, and are marked ``test``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

from agentd.errors import Unavailable


@dataclass(frozen=True)
class Availability:
    """Whether a backend can work on this machine now, and why not."""

    ok: bool
    reason: str

    @classmethod
    def yes(cls, reason: str) -> Availability:
        return cls(True, reason)

    @classmethod
    def no(cls, reason: str) -> Availability:
        return cls(False, reason)


@runtime_checkable
class Backend(Protocol):
    """The part of every backend the registry uses."""

    name: str
    capability: str
    test: bool

    async def availability(self) -> Availability:
        """Whether this backend works here; checked again on every call to ``select``."""
        ...


B = TypeVar("B")


class Capability(Generic[B]):
    """A capability and the Protocol its backends implement: ``select`` returns a ``B``.

    ``TELEPHONY = Capability[Telephony]("telephony")``; the name is what tool
    declarations (``ToolSpec.capability``) and `agentctl doctor` say.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Capability({self.name!r})"


# Whether one backend can serve this call: its availability for what is asked, or None
# when it does not serve it at all (then it is skipped without a reason).
Check = Callable[[B], Awaitable[Availability | None]]
# The Unavailable message from the reasons of the backends that could not.
Refusal = Callable[[list[str]], str]


@dataclass(frozen=True)
class DiagnosisRow:
    """One line of `agentctl doctor`."""

    capability: str
    backend: str
    available: bool
    reason: str
    selected: bool = False
    test: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"capability": self.capability, "backend": self.backend,
                "available": self.available, "reason": self.reason,
                "selected": self.selected, "test": self.test}


class AdapterRegistry:
    """Backends by capability, in order of preference."""

    def __init__(self, capabilities: Iterable[str], allow_test_backends: bool = False) -> None:
        # Every capability the catalogue names, so `doctor` can say which have no backend.
        self._backends: dict[str, list[Backend]] = {c: [] for c in capabilities}
        self._allow_test = allow_test_backends

    def register(self, backend: Backend) -> None:
        if backend.test and not self._allow_test:
            raise ValueError(f"{backend.name} is a test backend; it is registered only with "
                             "the test_fixture setting")
        self._backends.setdefault(backend.capability, []).append(backend)

    def backends(self, capability: str) -> list[Backend]:
        return list(self._backends.get(capability, []))

    async def usable(self, capability: Capability[B], check: Check[B] | None = None
                     ) -> tuple[list[B], list[str]]:
        """The real backends that can serve a call, preferred first, and why the others
        cannot. ``check`` asks each one about this call (a setting, an operation); the
        default is its ``availability()``. The one way every tool picks its backend."""
        usable: list[B] = []
        reasons: list[str] = []
        for backend in self._backends.get(capability.name, []):
            if backend.test:
                continue  # test backends replace tool handlers themselves (agentd.testing)
            typed = cast(B, backend)
            state = await (check(typed) if check else backend.availability())
            if state is None:
                continue
            if state.ok:
                usable.append(typed)
            else:
                reasons.append(f"{backend.name}: {state.reason}")
        return usable, reasons

    async def select(self, capability: Capability[B], check: Check[B] | None = None,
                     refusal: Refusal | None = None) -> B:
        """The first backend ``usable`` finds, or ``Unavailable`` saying why each one is
        not (``refusal`` words it for the call)."""
        usable, reasons = await self.usable(capability, check)
        if usable:
            return usable[0]
        if refusal is not None:
            raise Unavailable(refusal(reasons))
        if not reasons:
            raise Unavailable(f"no {capability.name} backend is installed in this agentd")
        raise Unavailable(f"no {capability.name} backend works here ({'; '.join(reasons)})")

    async def serving(self, capability: str) -> str:
        """The name of the first backend of ``capability`` available now, or "" (test
        backends replace tool handlers themselves, so one that covers it counts)."""
        for backend in self._backends.get(capability, []):
            if (await backend.availability()).ok:
                return backend.name
        return ""

    async def start(self, bus: Any) -> None:
        """Start the backends that hold a connection (``start(bus)``), e.g. a bus monitor."""
        for backends in self._backends.values():
            for backend in backends:
                start = getattr(backend, "start", None)
                if start is not None:
                    await start(bus)

    async def stop(self) -> None:
        for backends in self._backends.values():
            for backend in backends:
                stop = getattr(backend, "stop", None)
                if stop is not None:
                    await stop()

    async def diagnose(self) -> list[DiagnosisRow]:
        """Every backend of every capability: available or not, why, and which is chosen."""
        rows: list[DiagnosisRow] = []
        for capability, backends in sorted(self._backends.items()):
            if not backends:
                rows.append(DiagnosisRow(capability, "", False,
                                         "no backend for this capability yet"))
                continue
            chosen = False
            for backend in backends:
                state = await backend.availability()
                selected = state.ok and (backend.test or not chosen)
                chosen = chosen or (selected and not backend.test)
                rows.append(DiagnosisRow(capability, backend.name, state.ok, state.reason,
                                         selected, backend.test))
        return rows
