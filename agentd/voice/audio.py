"""Decode and check audio: WAV (PCM or float) or raw signed 16-bit PCM → 16 kHz mono.

Policy, so that callers get one clear answer:

* WAV: PCM 8/16/24/32-bit or IEEE float 32-bit, any channel count (mixed down to mono).
  A data size of 0 or ≥ 0x7FFFF000 means "streamed, length unknown" (what ``arecord`` and
  ``pw-record`` write to a pipe): the data runs to the end. Less data than the header
  declares is a truncated file, and is refused.
* Raw PCM: signed 16-bit little-endian; the caller says ``sample_rate`` (and ``channels``).
* Sample rates from 8 kHz to 48 kHz are resampled to 16 kHz (Whisper's rate); anything
  outside is refused: below 8 kHz speech loses the consonants Whisper needs, above 48 kHz
  it is not a microphone recording.
* Empty audio, under ``MIN_SECONDS`` of audio and anything over ``max_seconds`` are refused
  (a command is a few seconds; refusing beats cutting a sentence in half).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from agentd.errors import InvalidRequest

TARGET_RATE = 16_000
MIN_RATE, MAX_RATE = 8_000, 48_000
MIN_SECONDS = 0.2
STREAMED_SIZES = 0x7FFFF000
FORMAT_PCM, FORMAT_FLOAT, FORMAT_EXTENSIBLE = 1, 3, 0xFFFE
Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at ``TARGET_RATE``, and where they came from."""

    samples: Samples
    source_rate: int
    source_format: str

    @property
    def rate(self) -> int:
        return TARGET_RATE

    @property
    def seconds(self) -> float:
        return len(self.samples) / TARGET_RATE


@dataclass(frozen=True)
class PcmFormat:
    rate: int
    channels: int
    bits: int
    is_float: bool = False

    def describe(self) -> str:
        kind = "float" if self.is_float else "PCM"
        return f"{self.bits}-bit {kind}, {self.channels} ch, {self.rate} Hz"


def decode(data: bytes, max_seconds: float, raw_rate: int = 0, raw_channels: int = 1) -> Audio:
    """Decode ``data`` (WAV, or raw s16le when ``raw_rate`` is given) and check it."""
    if not data:
        raise InvalidRequest("the audio is empty (0 bytes); record something and send it "
                             "again")
    if data[:4] == b"RIFF" or data[:4] == b"RIFX":
        fmt, payload = parse_wav(data)
    elif raw_rate:
        if raw_channels < 1 or raw_channels > 8:
            raise InvalidRequest(f"channels must be 1 to 8, not {raw_channels}")
        fmt, payload = PcmFormat(raw_rate, raw_channels, 16), data
    else:
        raise InvalidRequest(
            f"this is not a WAV file (it starts with {data[:8]!r}); send a RIFF/WAVE file, "
            "or raw signed 16-bit little-endian PCM with the sample_rate option")
    check_rate(fmt.rate)
    frame = fmt.channels * fmt.bits // 8
    seconds = len(payload) / frame / fmt.rate
    if seconds > max_seconds:
        raise InvalidRequest(f"the recording is {seconds:.1f} s long; the limit is "
                             f"{max_seconds:.0f} s (voice_max_seconds). Say one command "
                             "at a time")
    if seconds < MIN_SECONDS:
        raise InvalidRequest(f"the audio is only {seconds * 1000:.0f} ms long "
                             f"({fmt.describe()}); nothing can be said in that time")
    samples = to_float_mono(payload[: len(payload) - len(payload) % frame], fmt)
    return Audio(resample(samples, fmt.rate), fmt.rate, fmt.describe())


def check_rate(rate: int) -> None:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise InvalidRequest(f"sample rate {rate} Hz is not supported: record at 16 kHz "
                             f"(rates from {MIN_RATE} to {MAX_RATE} Hz are resampled)")


def parse_wav(data: bytes) -> tuple[PcmFormat, bytes]:
    """The format and sample bytes of a RIFF/WAVE file; named errors for broken ones."""
    if data[:4] == b"RIFX":
        raise InvalidRequest("big-endian WAV (RIFX) is not supported; send little-endian "
                             "PCM WAV")
    if len(data) < 12 or data[8:12] != b"WAVE":
        raise InvalidRequest("this RIFF file is not WAVE audio (or is cut off in its "
                             "header)")
    fmt: PcmFormat | None = None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        body = offset + 8
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(data[body: body + size])
        elif chunk_id == b"data":
            if fmt is None:
                raise InvalidRequest("the WAV file has its data before its format chunk")
            available = len(data) - body
            if size == 0 or size >= STREAMED_SIZES:
                size = available
            elif size > available:
                raise InvalidRequest(f"the WAV file is truncated: its header announces "
                                     f"{size} bytes of audio, only {available} arrived")
            return fmt, data[body: body + size]
        offset = body + size + (size & 1)
    if fmt is None:
        raise InvalidRequest("the WAV file is truncated or damaged: no format chunk")
    raise InvalidRequest("the WAV file is truncated or damaged: no audio data chunk")


def _parse_fmt(chunk: bytes) -> PcmFormat:
    if len(chunk) < 16:
        raise InvalidRequest("the WAV file is truncated or damaged: its format chunk is "
                             "cut off")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", chunk)
    if tag == FORMAT_EXTENSIBLE and len(chunk) >= 26:
        tag = struct.unpack_from("<H", chunk, 24)[0]
    if channels < 1 or channels > 8:
        raise InvalidRequest(f"the WAV file has {channels} channels; 1 to 8 are supported")
    if tag == FORMAT_PCM and bits in (8, 16, 24, 32):
        return PcmFormat(rate, channels, bits)
    if tag == FORMAT_FLOAT and bits == 32:
        return PcmFormat(rate, channels, bits, is_float=True)
    raise InvalidRequest(f"WAV encoding {tag:#x} with {bits} bits is not supported; send "
                         "PCM (8, 16, 24 or 32-bit) or 32-bit float")


def to_float_mono(payload: bytes, fmt: PcmFormat) -> Samples:
    """Interleaved samples → mono float32 in [-1, 1]."""
    values: npt.NDArray[np.floating[Any]]
    if fmt.is_float:
        values = np.frombuffer(payload, dtype="<f4").astype(np.float32)
        values = np.nan_to_num(np.clip(values, -1.0, 1.0))
    elif fmt.bits == 8:
        values = (np.frombuffer(payload, dtype=np.uint8).astype(np.float32) - 128) / 128
    elif fmt.bits == 24:
        raw = np.frombuffer(payload, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        values = ints.astype(np.float32) / (1 << 23)
    else:
        dtype = "<i2" if fmt.bits == 16 else "<i4"
        values = np.frombuffer(payload, dtype=dtype).astype(np.float32) / 2 ** (fmt.bits - 1)
    if fmt.channels > 1:
        values = values.reshape(-1, fmt.channels).mean(axis=1)
    return values.astype(np.float32)


def resample(samples: Samples, rate: int) -> Samples:
    """To 16 kHz: a moving-average low-pass when downsampling, then linear interpolation.

    Good enough for speech recognition (Whisper's features stop at 8 kHz anyway) and
    needs nothing beyond numpy.
    """
    if rate == TARGET_RATE or len(samples) == 0:
        return samples
    if rate > TARGET_RATE:
        width = max(1, round(rate / TARGET_RATE))
        if width > 1:
            samples = np.convolve(samples, np.ones(width, np.float32) / width,
                                  mode="same").astype(np.float32)
    count = round(len(samples) * TARGET_RATE / rate)
    positions = np.arange(count, dtype=np.float64) * (rate / TARGET_RATE)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


def to_wav(samples: Samples, rate: int = TARGET_RATE) -> bytes:
    """Mono float samples as a 16-bit PCM WAV file (for recordings and tests)."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16,
                         FORMAT_PCM, 1, rate, rate * 2, 2, 16, b"data", len(pcm))
    return header + pcm
