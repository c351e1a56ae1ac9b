"""The tool declarations: the v1 catalogue contract, validation and schemas."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentd.errors import InvalidArguments, NotFound
from agentd.tools import docs
from agentd.tools.builtin import install_builtin_tools
from agentd.tools.catalogue import CATALOGUE, CATALOGUE_V1, CATALOGUE_V2
from agentd.tools.registry import Risk, ToolRegistry

pytestmark = pytest.mark.unit

DOCS = Path(__file__).parent.parent / "docs"
BUILTIN = {"clock.time", "timer.start", "timer.cancel", "alarm.set", "agent.history"}


# The v1 contract (shared/TOOLS-v1.md): these names and argument names stay; a change is
# a new catalogue version. Tools may be added.
V1 = {
    "clock.time": set(), "timer.start": {"duration_s", "label"}, "timer.cancel": {"label"},
    "alarm.set": {"time", "label"}, "screen.capture": set(), "screen.read": set(),
    "input.tap": {"target", "x", "y"}, "input.type": {"text"}, "input.key": {"key"},
    "notifications.list": set(), "notifications.clear": set(),
    "notifications.send": {"summary", "body"}, "files.find": {"query", "kind"},
    "files.list": {"folder"}, "files.move": {"path", "folder"}, "files.trash": {"path"},
    "apps.open": {"app"}, "apps.list": set(), "settings.get": {"setting"},
    "settings.set": {"setting", "value"}, "device.battery": set(), "sms.send": {"to", "text"},
    "call.dial": {"to"}, "agent.history": {"since"},
}


def test_the_v1_tools_keep_their_names_and_arguments() -> None:
    declared = {spec.name: {a.name for a in spec.args} for spec in CATALOGUE}
    assert {name: declared.get(name) for name in V1} == V1


# Version 2's additions (shared/TOOLS-v2.md), with the same promise.
V2 = {"media.control": {"action"}, "media.now_playing": set(), "calendar.list": {"day"},
      "calendar.add": {"title", "day", "time", "duration_min"}, "location.get": set(),
      "messages.list": {"from", "limit"}}


def test_the_v2_tools_keep_their_names_and_arguments() -> None:
    declared = {spec.name: {a.name for a in spec.args} for spec in CATALOGUE_V2}
    assert {name: declared.get(name) for name in V2} == V2
    assert CATALOGUE == CATALOGUE_V1 + CATALOGUE_V2  # the daemon serves both
    action = next(s for s in CATALOGUE_V2 if s.name == "media.control").args[0]
    assert action.choices == ("play", "pause", "next", "previous", "stop")


@pytest.mark.parametrize(("doc", "specs"), [("tools-v1.md", CATALOGUE_V1),
                                            ("tools-v2.md", CATALOGUE_V2)])
def test_the_tools_doc_is_generated_from_the_declarations(doc: str, specs: object) -> None:
    """docs/tools-v1.md's and tools-v2.md's tables are what `make tools-doc` writes."""
    assert docs.tables()[doc] is specs
    text = (DOCS / doc).read_text(encoding="utf-8")
    assert docs.rewrite(text, docs.tables()[doc]) == text, "run `make tools-doc`"
    for spec in docs.tables()[doc]:  # and the generator shows each tool's shape and risk
        row = next(line for line in text.splitlines() if line.startswith(f"| `{spec.name}` |"))
        assert f"| {spec.risk.value} |" in row
        for arg in spec.args:
            optional = "?" if arg.required is False and not spec.one_of else ""
            assert f"`{arg.name}{optional}: " in row, (spec.name, arg.name)


def test_only_the_builtin_tools_are_implemented_here() -> None:
    registry = ToolRegistry(CATALOGUE)
    install_builtin_tools(registry)
    assert {s.name for s in registry if registry.is_implemented(s.name)} == BUILTIN


def test_risk_floor() -> None:
    assert [r for r in Risk if r.needs_confirmation] == [Risk.EXTERNAL]


@pytest.mark.parametrize(("tool", "args", "problem"), [
    ("timer.start", {}, "missing required argument(s) duration_s"),
    ("timer.start", {"duration_s": "10"}, "must be int"),
    ("timer.start", {"duration_s": True}, "must be int"),
    ("timer.start", {"duration_s": 0}, "at least 1"),
    ("timer.start", {"duration_s": 10, "colour": "red"}, "unknown argument(s) colour"),
    ("alarm.set", {"time": "7:30"}, "must match"),
    ("alarm.set", {"time": "24:00"}, "must match"),
    ("settings.set", {"setting": "wifi", "value": 50}, "on or off"),
    ("settings.set", {"setting": "volume", "value": True}, "percentage"),
    ("settings.set", {"setting": "volume", "value": 101}, "volume is a percentage 0-100"),
    ("settings.set", {"setting": "dark_mode", "value": "yes"}, "dark_mode is on or off"),
    ("settings.set", {"setting": "warp_drive", "value": True}, "must be one of"),
    ("input.tap", {}, "exactly one of target or x+y"),
    ("input.tap", {"target": "OK", "x": 1, "y": 2}, "exactly one of"),
    ("input.tap", {"x": 1}, "exactly one of"),
    ("sms.send", {"to": "mom", "text": "x" * 1001}, "longer than 1000"),
])
def test_validation_names_the_problem(tool: str, args: dict[str, object], problem: str) -> None:
    spec = ToolRegistry(CATALOGUE).spec(tool)
    with pytest.raises(InvalidArguments, match=re.escape(problem)):
        spec.validate(args)


def test_valid_arguments_pass_unchanged() -> None:
    registry = ToolRegistry(CATALOGUE)
    assert registry.spec("input.tap").validate({"x": 10, "y": 20}) == {"x": 10, "y": 20}
    assert registry.spec("settings.set").validate({"setting": "brightness", "value": 30}) == {
        "setting": "brightness", "value": 30}


def test_unknown_tool() -> None:
    with pytest.raises(NotFound, match="agentctl tools"):
        ToolRegistry(CATALOGUE).spec("rm.rf")


def test_json_schema_is_bounded_for_the_model_tier() -> None:
    for spec in CATALOGUE:
        schema = spec.json_schema()
        assert schema["name"] == spec.name
        for name, prop in schema["parameters"]["properties"].items():
            for alt in prop.get("anyOf", [prop]):
                if alt["type"] == "string":
                    assert "enum" in alt or "maxLength" in alt, (spec.name, name)
                if alt["type"] == "integer":
                    assert "minimum" in alt and "maximum" in alt, (spec.name, name)


def test_summaries_say_exactly_what_will_happen() -> None:
    registry = ToolRegistry(CATALOGUE)
    assert registry.spec("sms.send").describe({"to": "Mom", "text": "I'm late"}) == \
        "Send a text message to Mom: “I'm late”"
    assert registry.spec("timer.start").describe({"duration_s": 5400, "label": "bread"}) == \
        "Start a bread timer for 1 hour 30 minutes"
    assert registry.spec("settings.set").describe({"setting": "wifi", "value": False}) == \
        "Set wifi to off"


def test_declared_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        ToolRegistry([CATALOGUE[0], CATALOGUE[0]])
