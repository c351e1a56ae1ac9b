"""Named test backends: content sources and a recording telephony backend.

Not part of agentd: this package lives in ``testing/`` and the ``.deb`` does not ship it.
agentd finds it through the ``agentd.test_backends`` entry point (``agentd.testing``).
Enabled only when the ``test_fixture`` setting names a JSON file, and then loudly: the
daemon logs a warning and reports ``State`` as ``ready (test backends)``. They let the
consent tests put hostile content where agentd reads it (notifications, the screen,
file names) and see exactly which messages would have left the phone.

The fixture file is re-read on every call, so a test can change the content between
requests::

    {"notifications": [{"app": "Signal", "summary": "Alex", "body": "..."}],
     "screen": {"app": "Messages", "text": "..."},
     "files": ["/home/user/Documents/notes.txt"],
     "sent": "/tmp/sent.jsonl"}

``sent`` receives one JSON line per action a tool would have taken (``RECORDED``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from agentd.adapters.base import Availability, Backend
from agentd.policy.content import claim
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult

log = logging.getLogger(__name__)
BACKEND = "test-fixture"


class FixtureBackends:
    def __init__(self, fixture: Path) -> None:
        self.fixture = fixture

    def _load(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.fixture.read_text(encoding="utf-8"))
        return data

    async def list_notifications(self, ctx: ToolContext, args: dict[str, ArgValue]
                                 ) -> ToolResult:
        items = self._load().get("notifications", [])
        if not items:
            return ToolResult("No new notifications.")
        lines = [f"{n['app']}: {n['summary']}: {n['body']}" for n in items]
        apps = sorted({n["app"] for n in items})
        return ToolResult(f"{len(items)} notification(s). " + " | ".join(lines),
                          {"notifications": items,
                           "provenance": "notifications from " + ", ".join(map(claim, apps))})

    async def read_screen(self, ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        screen = self._load().get("screen", {"app": "", "text": ""})
        return ToolResult(f"{screen['app']} is open. It shows: {screen['text']}",
                          {"provenance": f"the screen ({claim(screen['app'])})"})

    async def find_files(self, ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        query = str(args["query"]).casefold()
        found = [f for f in self._load().get("files", [])
                 if query in Path(f).name.casefold() or query == "*"]
        names = ", ".join(Path(f).name for f in found) or "nothing"
        return ToolResult(f"Found {len(found)}: {names}", {"paths": found,
                                                           "provenance": "file names"})

    async def record(self, ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        """Every tool that acts (sms.send, call.dial, input.*, apps.open, files.move, ...):
        append what would have happened to ``sent``, with whether the user confirmed it
        and what content the task had read by then."""
        sent = Path(self._load()["sent"])
        step = next((s for s in ctx.task.steps if s.state == "running"), None)
        record = {"task": ctx.task.id, "args": args, "tool": step.tool if step else "?",
                  "confirmed": bool(step and step.confirmed), "taint": list(ctx.task.taint),
                  "after_content": list(step.after_content) if step else [],
                  "bound": dict(ctx.bound)}
        with open(sent, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        target = f" to {args['to']}" if "to" in args else ""
        return ToolResult(f"(test backend) recorded {record['tool']}{target}.")


# The tools a hostile planner could act with, recorded instead of done.
RECORDED = ("sms.send", "call.dial", "input.tap", "input.type", "input.key", "apps.open",
            "files.move", "files.trash", "settings.set", "notifications.clear")


class FixtureBackend:
    """The test backends as `agentctl doctor` shows them (never selected by the registry:
    the handlers above replace the tools' own)."""

    name = BACKEND
    test = True

    def __init__(self, capability: str, fixture: str) -> None:
        self.capability = capability
        self.fixture = fixture

    async def availability(self) -> Availability:
        return Availability.yes(f"TEST BACKEND from the test_fixture setting ({self.fixture})")


FIXTURE_CAPABILITIES = ("notifications", "accessibility", "files", "telephony", "input",
                        "apps", "settings")


def fixture_backends(fixture: Path) -> list[Backend]:
    return [FixtureBackend(capability, str(fixture)) for capability in FIXTURE_CAPABILITIES]


def install_tools(registry: ToolRegistry, fixture: Path) -> None:
    log.warning("TEST BACKENDS ACTIVE (%s): content and actions are simulated from %s",
                BACKEND, fixture)
    backends = FixtureBackends(fixture)
    registry.implement("notifications.list", backends.list_notifications)
    registry.implement("screen.read", backends.read_screen)
    registry.implement("files.find", backends.find_files)
    for tool in RECORDED:  # a contact's name still resolves (and asks which one) first
        registry.implement(tool, backends.record, prepare=registry.preparer(tool))
