"""agentd's test doubles: the hostile ``test-obedient`` planner and the fixture backends.

They are named backends, registered like the real ones but through an entry point
(``agentd.test_backends`` in ``testing/pyproject.toml``), so the product never imports
this package and the ``.deb`` does not carry it. ``make all`` installs it into the
development venv; agentd uses it only when the ``test_fixture`` setting is set.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from agentd.adapters.base import Backend
from agentd.tools.registry import ToolRegistry
from agentd.understanding.planner import StepPlanner
from agentd_testing.backends import fixture_backends, install_tools
from agentd_testing.planner import ObedientTestPlanner


class TestBackends:
    """What ``agentd.testing.load_test_backends`` returns: see ``agentd.testing``."""

    planners: ClassVar[dict[str, type[StepPlanner]]] = {
        ObedientTestPlanner.name: ObedientTestPlanner}

    @staticmethod
    def backends(fixture: Path) -> list[Backend]:
        return fixture_backends(fixture)

    @staticmethod
    def install(tools: ToolRegistry, fixture: Path) -> None:
        install_tools(tools, fixture)


BACKENDS = TestBackends()
