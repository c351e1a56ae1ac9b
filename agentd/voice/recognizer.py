"""Speech to text: one Protocol, named backends, each able to say why it cannot run.

A backend is a ``RecognizerBackend``: a name, what it is, ``unavailable(settings)`` (the
reason it cannot run here, or ``None``) and ``create(settings)``. Add a smaller or faster
one (Whisper tiny, a closed-vocabulary recogniser compiled from the sentence templates)
as a module and an entry in ``BACKENDS``. ``none`` turns the voice path off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from agentd.config import Settings
from agentd.errors import InvalidRequest, Unavailable
from agentd.voice.audio import Audio


@dataclass(frozen=True)
class Recognition:
    """What was said, and how sure the engine was."""

    text: str
    seconds: float  # time spent recognising
    no_speech_probability: float = 0.0
    detail: dict[str, float] = field(default_factory=dict)


class SpeechRecognizer(Protocol):
    name: str

    def transcribe(self, audio: Audio, prompt: str) -> Recognition:
        """Recognise ``audio``; ``prompt`` lists phrases to prefer (may be ignored)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RecognizerBackend:
    name: str
    description: str
    unavailable: Callable[[Settings], str | None]
    create: Callable[[Settings], SpeechRecognizer]


def _whisper_unavailable(settings: Settings) -> str | None:
    from agentd.voice import whisper

    return whisper.unavailable(settings)


def _whisper_create(settings: Settings) -> SpeechRecognizer:
    from agentd.voice import whisper

    return whisper.WhisperRecognizer(settings)


def _none_unavailable(settings: Settings) -> str | None:
    return "voice input is turned off (voice_recognizer = \"none\")"


def _none_create(settings: Settings) -> SpeechRecognizer:
    raise Unavailable(_none_unavailable(settings) or "")


BACKENDS: dict[str, RecognizerBackend] = {
    "whisper": RecognizerBackend(
        "whisper", "OpenAI Whisper (CTranslate2 form) through faster-whisper",
        _whisper_unavailable, _whisper_create),
    "none": RecognizerBackend("none", "no speech recognition", _none_unavailable,
                              _none_create),
}


def backend(settings: Settings) -> RecognizerBackend:
    try:
        return BACKENDS[settings.voice_recognizer]
    except KeyError:
        raise InvalidRequest(f"unknown voice_recognizer {settings.voice_recognizer!r}; use "
                             f"one of {', '.join(BACKENDS)}") from None


def availability(settings: Settings) -> dict[str, str]:
    """Each backend's state on this machine: "available" or why not."""
    return {name: b.unavailable(settings) or "available" for name, b in BACKENDS.items()}


def create_recognizer(settings: Settings) -> SpeechRecognizer:
    """The configured backend, or ``Unavailable`` saying what to install."""
    chosen = backend(settings)
    reason = chosen.unavailable(settings)
    if reason is not None:
        raise Unavailable(f"speech recognition is not available: {reason}")
    return chosen.create(settings)
