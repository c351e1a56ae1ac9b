"""The typed messages (agentd/events.py): exact wire shapes both ways."""

from __future__ import annotations

import pytest

from agentd.events import (
    ModelLoaded,
    ModelLoading,
    Planned,
    ProgressEvent,
    Question,
    StepChanged,
    Thinking,
    UnderstandingStarted,
    decode,
    encode,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("event", "wire"), [
    (UnderstandingStarted(), ("understanding", {})),
    (Planned("templates", 2), ("planned", {"tier": "templates", "steps": 2})),
    (ModelLoading("m.gguf", 1024), ("loading", {"model": "m.gguf", "bytes": 1024})),
    (ModelLoaded("m.gguf", 1.5), ("loaded", {"model": "m.gguf", "seconds": 1.5})),
    (Thinking(prompt_tokens=300, tools=5), ("thinking", {"prompt_tokens": 300, "tools": 5})),
    (Thinking(tokens=8), ("thinking", {"tokens": 8})),
    (StepChanged(0, "clock.time", "running", summary="Tell the time"),
     ("step", {"index": 0, "tool": "clock.time", "state": "running",
               "summary": "Tell the time"})),
    (StepChanged(1, "sms.send", "failed", result="", error="Unavailable: no modem"),
     ("step", {"index": 1, "tool": "sms.send", "state": "failed", "result": "",
               "error": "Unavailable: no modem"})),
])
def test_progress_events_keep_their_wire_shapes(event: ProgressEvent,
                                                wire: tuple[str, dict[str, object]]) -> None:
    """Clients read these keys (docs/api.md): unset fields are not sent, set ones are."""
    assert encode(event) == wire
    assert decode(*wire) == event


def test_unknown_progress_is_ignored_not_fatal() -> None:
    assert decode("teleporting", {"to": "mars"}) is None
    assert decode("planned", {"tier": "templates"}) is None  # a required field missing
    assert decode("planned", {"tier": "model", "steps": 1, "new": 1}) == Planned("model", 1)


def test_question_round_trip() -> None:
    question = Question(3, 0, "sms.send", "external", {"to": "mom", "text": "hi"},
                        "Send a text message to mom: “hi”", True, ("screen.read: the screen",))
    wire = question.to_wire()
    assert wire["taint"] == ["screen.read: the screen"] and wire["can_grant"] is True
    assert Question.from_wire(wire) == question
    which = Question(3, 0, "call.dial", "external", {"to": "sam"}, "Call which “sam”", False,
                     (), ("Sam Smith (+15550101)", "Sam Jones (+15550102)"))
    assert which.to_wire()["choices"] == ["Sam Smith (+15550101)", "Sam Jones (+15550102)"]
    assert Question.from_wire(which.to_wire()) == which
    assert Question.from_wire(wire).choices == ()  # a yes/no question
