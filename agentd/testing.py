"""Where agentd finds its test doubles, which it does not carry.

The hostile ``test-obedient`` planner and the fixture backends live in their own
distribution (``testing/`` in the source tree, ``agentd-testing``), which the ``.deb``
does not ship. They register through the ``agentd.test_backends`` entry point, and agentd
looks them up only when the ``test_fixture`` setting asks for them: on a phone they
cannot be chosen by accident, and asking for them there is a clear error.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from agentd.adapters.base import Backend
from agentd.errors import InvalidRequest
from agentd.tools.registry import ToolRegistry
from agentd.understanding.planner import StepPlanner

GROUP = "agentd.test_backends"


class TestBackends(Protocol):
    """What the entry point names: named test planners, and the fixture backends."""

    planners: dict[str, type[StepPlanner]]

    def backends(self, fixture: Path) -> list[Backend]:
        """The fixture backends as `agentctl doctor` shows them, marked as test backends."""

    def install(self, tools: ToolRegistry, fixture: Path) -> None:
        """Replace the handlers of the tools the fixture simulates."""


def load_test_backends() -> TestBackends:
    found = list(entry_points(group=GROUP))
    if not found:
        raise InvalidRequest(
            "the test_fixture setting and test planners need agentd's test backends, which "
            "are not installed (the .deb does not ship them); in a source tree run "
            "`make all`, or unset AGENTD_TEST_FIXTURE and AGENTD_PLANNER")
    backends: TestBackends = found[0].load()
    return backends
