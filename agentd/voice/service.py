"""What ``AskAudio`` calls: read the caller's fd, decode, check, recognise.

The fd is read in a worker thread with ``poll`` and a deadline (a caller that never
closes its pipe cannot hold agentd), and at most ``max_bytes`` are taken. Recognition runs
on one worker thread of its own (one utterance at a time; the model is loaded on first
use, not at start-up), so the event loop keeps serving the bus meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from agentd.config import Settings
from agentd.errors import InvalidRequest
from agentd.voice.audio import MAX_RATE, Audio, decode
from agentd.voice.bias import recognition_prompt
from agentd.voice.recognizer import SpeechRecognizer, create_recognizer
from agentd.voice.vad import peak_dbfs, speech_seconds

log = logging.getLogger(__name__)

# AskAudio options that describe the audio; the rest go on to Ask.
AUDIO_OPTIONS: dict[str, tuple[type, str]] = {
    "sample_rate": (int, "raw PCM only: samples per second (the data is s16le)"),
    "channels": (int, "raw PCM only: interleaved channels (default 1)"),
}
MIN_SPEECH_S = 0.15
CHUNK = 65536


def max_bytes(settings: Settings) -> int:
    """The most AskAudio reads: ``voice_max_seconds`` of 48 kHz stereo 32-bit, plus headers."""
    return int(settings.voice_max_seconds * MAX_RATE * 2 * 4) + CHUNK


def read_fd(fd: int, limit: int, timeout_s: float) -> bytes:
    """Read ``fd`` to its end (blocking; run in a thread). Refuses more than ``limit``."""
    deadline = time.monotonic() + timeout_s
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(left * 1000):
            raise InvalidRequest(f"the audio did not finish arriving within {timeout_s:.0f} s; "
                                 "write the whole recording and close the file descriptor")
        try:
            chunk = os.read(fd, CHUNK)
        except OSError as exc:
            raise InvalidRequest(f"cannot read the audio file descriptor: {exc.strerror}"
                                 ) from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise InvalidRequest(f"the audio is over {limit // 2**20} MB; recordings are "
                                 "capped (voice_max_seconds). Say one command at a time")
        chunks.append(chunk)


@dataclass(frozen=True)
class Heard:
    """The outcome of recognition, for the task and the log."""

    text: str
    audio_seconds: float
    recognise_seconds: float
    source_format: str


def split_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(audio options, Ask options), audio ones type-checked."""
    audio: dict[str, Any] = {}
    for name in AUDIO_OPTIONS:
        if name in options:
            value = options[name]
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidRequest(f"option {name!r} must be an integer, got "
                                     f"{type(value).__name__}")
            audio[name] = value
    return audio, {k: v for k, v in options.items() if k not in AUDIO_OPTIONS}


class VoiceInput:
    """Audio in, text out. Owns the recogniser (created on first use) and its thread."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._recognizer: SpeechRecognizer | None = None
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="voice")
        self._prompt = recognition_prompt(settings.language) if settings.voice_bias else ""

    async def hear(self, fd: int, audio_options: dict[str, Any]) -> Heard:
        """Read, decode and recognise; ``InvalidRequest`` says what was wrong with it."""
        settings = self._settings
        data = await asyncio.to_thread(read_fd, fd, max_bytes(settings),
                                       settings.voice_read_timeout_s)
        audio = decode(data, settings.voice_max_seconds,
                       raw_rate=audio_options.get("sample_rate", 0),
                       raw_channels=audio_options.get("channels", 1))
        check_speech(audio)
        loop = asyncio.get_running_loop()
        text, seconds = await loop.run_in_executor(self._worker, self._recognise, audio)
        if not text:
            raise InvalidRequest(f"no words were recognised in {audio.seconds:.1f} s of "
                                 "audio; speak clearly, close to the microphone")
        log.info("heard %r in %.1f s of audio (%s), recognised in %.2f s", text,
                 audio.seconds, audio.source_format, seconds)
        return Heard(text, audio.seconds, seconds, audio.source_format)

    def _recognise(self, audio: Audio) -> tuple[str, float]:
        if self._recognizer is None:
            self._recognizer = create_recognizer(self._settings)
        result = self._recognizer.transcribe(audio, self._prompt)
        return clean_text(result.text), result.seconds

    def close(self) -> None:
        if self._recognizer is not None:
            self._recognizer.close()
        self._worker.shutdown(wait=False, cancel_futures=True)


def check_speech(audio: Audio) -> None:
    """Refuse silence and near-silence before the recogniser invents words for it."""
    speech = speech_seconds(audio.samples)
    if speech < MIN_SPEECH_S:
        raise InvalidRequest(f"there is no speech in the audio ({audio.seconds:.1f} s, peak "
                             f"{peak_dbfs(audio.samples):.0f} dBFS); check the microphone "
                             "and speak closer to it")


def clean_text(text: str) -> str:
    """Whisper's text as a request: one line, no closing full stop."""
    return " ".join(text.split()).rstrip(".!")
