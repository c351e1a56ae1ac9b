"""Recording from a microphone for ``agentctl listen``: PipeWire, PulseAudio or ALSA.

Each backend is a Debian command that writes 16 kHz mono s16le to its stdout:
``pw-record`` (pipewire-bin), ``parecord`` (pulseaudio-utils; also works on PipeWire
through pipewire-pulse) and ``arecord`` (alsa-utils). Each says whether it can run here
and why not. ``FileSource`` replays a WAV file at the pace of a microphone, so the
stop-at-silence logic can be tried (and tested) without one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from agentd.errors import Unavailable
from agentd.voice.audio import TARGET_RATE, Samples, decode
from agentd.voice.vad import FRAME


class AudioSource(Protocol):
    name: str

    def frames(self) -> Iterator[Samples]:
        """16 kHz mono float frames of ``vad.FRAME`` samples, as they are heard."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Recorder:
    name: str
    argv: tuple[str, ...]

    def unavailable(self) -> str | None:
        if shutil.which(self.argv[0]) is None:
            return f"{self.argv[0]} is not installed"
        runtime = Path(os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}"))
        if self.name == "pipewire" and not (runtime / "pipewire-0").exists():
            return f"no PipeWire server ({runtime / 'pipewire-0'} is missing)"
        if self.name == "pulseaudio" and not (runtime / "pulse" / "native").exists():
            return f"no PulseAudio server ({runtime / 'pulse/native'} is missing)"
        if self.name == "alsa" and not Path("/dev/snd").is_dir():
            return "no ALSA sound devices (/dev/snd is missing)"
        return None


RATE = str(TARGET_RATE)
RECORDERS = (
    Recorder("pipewire", ("pw-record", "--rate", RATE, "--channels", "1", "--format", "s16",
                          "-")),
    Recorder("pulseaudio", ("parecord", "--raw", f"--rate={RATE}", "--channels=1",
                            "--format=s16le")),
    Recorder("alsa", ("arecord", "-q", "-t", "raw", "-f", "S16_LE", "-r", RATE, "-c", "1")),
)


def choose_recorder(name: str = "auto") -> Recorder:
    """The named recorder, or the first that can run; Unavailable lists every reason."""
    reasons = []
    for recorder in RECORDERS:
        if name not in ("auto", recorder.name):
            continue
        reason = recorder.unavailable()
        if reason is None:
            return recorder
        reasons.append(f"{recorder.name}: {reason}")
    if not reasons:
        raise Unavailable(f"unknown recorder {name!r}; use auto, "
                          + ", ".join(r.name for r in RECORDERS))
    raise Unavailable("cannot record from a microphone here (" + "; ".join(reasons) + ")")


class MicrophoneSource:
    """A recorder process; frames come off its stdout."""

    def __init__(self, recorder: Recorder) -> None:
        self.name = recorder.name
        self._process = subprocess.Popen(recorder.argv, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL)

    def frames(self) -> Iterator[Samples]:
        assert self._process.stdout is not None
        pending = b""
        first = True
        while chunk := self._process.stdout.read(FRAME * 2):
            pending += chunk
            if first and len(pending) >= 44:
                pending = _skip_wav_header(pending)
                first = False
            while len(pending) >= FRAME * 2:
                raw, pending = pending[: FRAME * 2], pending[FRAME * 2:]
                yield (np.frombuffer(raw, dtype="<i2") / 32768).astype(np.float32)

    def close(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _skip_wav_header(data: bytes) -> bytes:
    """Some recorders write a WAV header even to a pipe: drop it, keep the samples."""
    if data[:4] != b"RIFF":
        return data
    at = data.find(b"data", 12)
    return data[at + 8:] if at >= 0 else data


class FileSource:
    """A WAV file replayed frame by frame (in real time when ``realtime``)."""

    def __init__(self, path: Path, max_seconds: float, realtime: bool = False) -> None:
        self.name = f"file {path}"
        self._audio = decode(path.read_bytes(), max_seconds)
        self._realtime = realtime

    def frames(self) -> Iterator[Samples]:
        samples = self._audio.samples
        for start in range(0, len(samples) - FRAME + 1, FRAME):
            if self._realtime:
                time.sleep(FRAME / TARGET_RATE)
            yield samples[start: start + FRAME]

    def close(self) -> None:
        pass
