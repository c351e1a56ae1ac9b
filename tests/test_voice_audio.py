"""The voice path's pieces without a daemon: decoding, resampling, VAD, endpointing,
the recogniser's prompt and the Whisper model install."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from testkit.voice import speech

from agentd.errors import InvalidRequest, ModelUnavailable
from agentd.voice import audio
from agentd.voice.bias import command_examples, recognition_prompt
from agentd.voice.models import WHISPER_BASE, find_sources, install_whisper, is_installed
from agentd.voice.record import FileSource
from agentd.voice.vad import Endpointer, EnergyVad, make_vad, speech_seconds

pytestmark = pytest.mark.model


def wav(samples: np.ndarray, rate: int, bits: int = 16, channels: int = 1,
        tag: int = 1, declared: int | None = None) -> bytes:
    if tag == 3:
        data = samples.astype("<f4").tobytes()
    elif bits == 8:
        data = (samples * 127 + 128).astype(np.uint8).tobytes()
    elif bits == 24:
        ints = (samples * (2**23 - 1)).astype("<i4").tobytes()
        data = b"".join(ints[i: i + 3] for i in range(0, len(ints), 4))
    else:
        data = (samples * (2 ** (bits - 1) - 1)).astype(f"<i{bits // 8}").tobytes()
    frame = channels * bits // 8
    size = len(data) if declared is None else declared
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + size, b"WAVE", b"fmt ", 16, tag,
                       channels, rate, rate * frame, frame, bits, b"data", size) + data


def tone(seconds: float, rate: int, freq: float = 440.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize(("bits", "tag"), [(8, 1), (16, 1), (24, 1), (32, 1), (32, 3)])
def test_decodes_pcm_and_float_wav(bits: int, tag: int) -> None:
    decoded = audio.decode(wav(tone(1.0, 16000), 16000, bits=bits, tag=tag), 30)
    assert abs(decoded.seconds - 1.0) < 0.01
    assert 0.45 < float(np.max(np.abs(decoded.samples))) < 0.55


def test_stereo_is_mixed_down_and_rates_resampled() -> None:
    stereo = np.repeat(tone(1.0, 44100), 2)
    decoded = audio.decode(wav(stereo, 44100, channels=2), 30)
    assert decoded.source_rate == 44100 and abs(decoded.seconds - 1.0) < 0.01
    spectrum = np.abs(np.fft.rfft(decoded.samples))
    assert abs(np.argmax(spectrum) * 16000 / len(decoded.samples) - 440) < 5


def test_raw_pcm_needs_its_rate() -> None:
    raw = (tone(1.0, 8000) * 32767).astype("<i2").tobytes()
    assert abs(audio.decode(raw, 30, raw_rate=8000).seconds - 1.0) < 0.01
    with pytest.raises(InvalidRequest, match="not a WAV file"):
        audio.decode(raw, 30)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (wav(tone(1, 4000), 4000), "4000 Hz is not supported"),
    (wav(tone(1, 96000), 96000), "96000 Hz is not supported"),
    (wav(tone(1, 16000), 16000)[:2000], "truncated"),
    (wav(tone(1, 16000), 16000)[:30], "truncated or damaged"),
    (b"RIFF\x10\x00\x00\x00AVI LIST", "not WAVE"),
    (b"%PDF-1.7 not audio at all", "not a WAV file"),
    (wav(tone(0.05, 16000), 16000), "only 50 ms"),
    (wav(tone(31, 16000), 16000), "31.0 s long; the limit is 30 s"),
    (wav(tone(1, 16000), 16000, bits=12), "not supported"),
], ids=["empty", "4kHz", "96kHz", "truncated-data", "truncated-header", "avi", "pdf",
        "too-short", "too-long", "12-bit"])
def test_bad_audio_is_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        audio.decode(data, 30)


def test_streamed_wav_runs_to_the_end() -> None:
    decoded = audio.decode(wav(tone(1, 16000), 16000, declared=0x7FFFFFFF), 30)
    assert abs(decoded.seconds - 1.0) < 0.01


def test_energy_vad_tells_speech_from_silence() -> None:
    spoken = audio.decode(speech("turn off wifi"), 30).samples
    assert speech_seconds(spoken) > 0.5
    assert speech_seconds(np.zeros(32000, np.float32)) == 0
    noise = np.random.default_rng(1).normal(0, 0.001, 32000).astype(np.float32)
    assert speech_seconds(noise) == 0


@pytest.mark.parametrize("vad", ["energy", "webrtc"])
def test_endpointer_stops_after_the_first_command(tmp_path: Path, vad: str) -> None:
    first = audio.decode(speech("turn off wifi"), 30).samples
    second = audio.decode(speech("and call my mother please"), 30).samples
    gap = np.zeros(32000, np.float32)  # 2 s of silence between the two
    path = tmp_path / "two.wav"
    path.write_bytes(audio.to_wav(np.concatenate([gap[:8000], first, gap, second])))
    endpointer = Endpointer(make_vad(vad), end_silence_s=0.8)
    for frame in FileSource(path, 60).frames():
        if endpointer.push(frame):
            break
    assert endpointer.reason == "end of speech"
    first_ends = 0.5 + len(first) / 16000  # espeak-ng ends on a little silence
    assert first_ends - 0.5 < endpointer.heard_s < first_ends + 1.2 < first_ends + 2.0


def test_endpointer_gives_up_without_speech() -> None:
    endpointer = Endpointer(EnergyVad(), no_speech_s=1.0)
    frames = [np.zeros(480, np.float32)] * 100
    assert any(endpointer.push(f) for f in frames)
    assert endpointer.reason == "no speech" and not endpointer.heard_speech


def test_prompt_comes_from_the_templates() -> None:
    examples = command_examples("en")
    assert "what time is it" in examples
    prompt = recognition_prompt("en")
    assert "Wifi" in prompt and "bluetooth" in prompt and len(prompt) <= 700


def test_install_whisper_refuses_damaged_parts(tmp_path: Path) -> None:
    source = tmp_path / "parts"
    source.mkdir()
    for name, open_file in find_sources(None).items():
        with open_file() as f:
            data = f.read(1024) if name.startswith("model.bin") else f.read()
        (source / name).write_bytes(data)
    target = tmp_path / "models" / "whisper" / WHISPER_BASE.name
    with pytest.raises(ModelUnavailable, match="sha256"):
        install_whisper(target, source)
    assert not target.exists() and list(target.parent.iterdir()) == []
    assert not is_installed(target)
