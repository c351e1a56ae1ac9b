"""Voice-activity detection: which 30 ms frames hold speech, and when an utterance ends.

Two detectors behind one Protocol: ``energy`` (numpy only, level against an absolute
floor and the recording's own noise floor) and ``webrtc`` (Google's WebRTC VAD from the
``webrtcvad-wheels`` package, better in noise). ``Endpointer`` turns per-frame decisions
into "speech started" and "speech ended" for ``agentctl listen``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from agentd.voice.audio import TARGET_RATE, Samples

FRAME_MS = 30
FRAME = TARGET_RATE * FRAME_MS // 1000
SILENCE_DBFS = -45.0


class VoiceActivityDetector(Protocol):
    name: str

    def is_speech(self, frame: Samples) -> bool:
        """Whether one FRAME-sample frame (16 kHz mono float) holds speech."""
        ...


def level_dbfs(frame: Samples) -> float:
    """RMS level in dB relative to full scale (-120 for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(frame, dtype=np.float64)))) if len(frame) else 0.0
    return 20 * math.log10(rms) if rms > 1e-6 else -120.0


class EnergyVad:
    """Speech is a frame ``margin_db`` above the quietest frames so far and above a floor."""

    name = "energy"

    def __init__(self, floor_dbfs: float = SILENCE_DBFS, margin_db: float = 10.0) -> None:
        self._floor = floor_dbfs
        self._margin = margin_db
        self._noise = 0.0
        self._seen = 0

    def is_speech(self, frame: Samples) -> bool:
        level = level_dbfs(frame)
        # Track the noise floor: fast down, slow up.
        if self._seen == 0 or level < self._noise:
            self._noise = level
        else:
            self._noise += 0.02 * (level - self._noise)
        self._seen += 1
        return level > self._floor and (self._seen < 3 or level > self._noise + self._margin)


class WebRtcVad:
    """WebRTC's VAD, aggressiveness 0 (keeps most speech) to 3 (drops most noise)."""

    name = "webrtc"

    def __init__(self, aggressiveness: int = 2) -> None:
        import webrtcvad  # an optional dependency: the ``voice`` extra

        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: Samples) -> bool:
        if level_dbfs(frame) <= SILENCE_DBFS:
            return False
        pcm = (np.clip(frame, -1, 1) * 32767).astype("<i2").tobytes()
        return bool(self._vad.is_speech(pcm, TARGET_RATE))


def make_vad(name: str) -> VoiceActivityDetector:
    """The named detector; ``auto`` is webrtc where installed, else energy."""
    if name in ("webrtc", "auto"):
        try:
            return WebRtcVad()
        except ImportError:
            if name == "webrtc":
                raise
    return EnergyVad()


def frames(samples: Samples) -> list[Samples]:
    return [samples[i: i + FRAME] for i in range(0, len(samples) - FRAME + 1, FRAME)]


def speech_seconds(samples: Samples, vad: VoiceActivityDetector | None = None) -> float:
    """How much of ``samples`` (16 kHz) the detector calls speech."""
    detector = vad or EnergyVad()
    return sum(detector.is_speech(f) for f in frames(samples)) * FRAME_MS / 1000


def peak_dbfs(samples: Samples) -> float:
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    return 20 * math.log10(peak) if peak > 1e-6 else -120.0


@dataclass
class Endpointer:
    """Decides, frame by frame, when a spoken command has ended.

    Stops ``end_silence_s`` after the last speech once at least ``min_speech_s`` of
    speech was heard, after ``no_speech_s`` without any speech, or at ``max_seconds``.
    """

    vad: VoiceActivityDetector
    end_silence_s: float = 0.8
    min_speech_s: float = 0.3
    no_speech_s: float = 5.0
    max_seconds: float = 15.0
    heard_s: float = 0.0
    speech_s: float = 0.0
    silence_s: float = 0.0
    reason: str = ""

    def push(self, frame: Samples) -> bool:
        """Feed one frame; True when recording should stop (``reason`` says why)."""
        step = len(frame) / TARGET_RATE
        self.heard_s += step
        if self.vad.is_speech(frame):
            self.speech_s += step
            self.silence_s = 0.0
        else:
            self.silence_s += step
        if self.speech_s >= self.min_speech_s and self.silence_s >= self.end_silence_s:
            self.reason = "end of speech"
        elif self.speech_s < self.min_speech_s and self.heard_s >= self.no_speech_s:
            self.reason = "no speech"
        elif self.heard_s >= self.max_seconds:
            self.reason = "time limit"
        return bool(self.reason)

    @property
    def heard_speech(self) -> bool:
        return self.speech_s >= self.min_speech_s
