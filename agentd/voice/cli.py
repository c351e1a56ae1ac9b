"""agentctl's voice helpers: send audio over the bus, record a command until silence."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from agentd.bus.names import AGENT_IFACE, AGENT_PATH, BUS_NAME
from agentd.bus.variants import to_vardict
from agentd.cli.client import AgentClient, ClientError
from agentd.voice.audio import to_wav
from agentd.voice.record import AudioSource, FileSource, MicrophoneSource, choose_recorder
from agentd.voice.vad import Endpointer, level_dbfs, make_vad

METER_WIDTH = 30


async def connect() -> AgentClient:
    """A client whose connection can pass file descriptors (AskAudio needs one)."""
    from dbus_fast import BusType
    from dbus_fast.aio import MessageBus
    from dbus_fast.errors import AuthError

    plain = await AgentClient.connect()  # its checks and messages for a missing bus
    plain.close()
    try:
        bus = await MessageBus(bus_type=BusType.SESSION, negotiate_unix_fd=True).connect()
    except (OSError, AuthError, ValueError) as exc:
        raise ClientError(f"cannot connect to the D-Bus session bus: {exc}") from None
    return AgentClient(bus)


async def ask_audio(client: AgentClient, fd: int, options: dict[str, Any]) -> str:
    """Call AskAudio with ``fd`` (agentd reads it to its end); return the task path."""
    from dbus_fast import Message, MessageType

    reply = await client.bus.call(Message(
        destination=BUS_NAME, path=AGENT_PATH, interface=AGENT_IFACE, member="AskAudio",
        signature="ha{sv}", body=[0, to_vardict(options)], unix_fds=[fd]))
    assert reply is not None
    if reply.message_type is MessageType.ERROR:
        text = str(reply.body[0]) if reply.body else reply.error_name or ""
        raise ClientError(text, reply.error_name or "")
    return str(reply.body[0])


def open_audio(name: str) -> int:
    """An fd for ``agentctl ask --audio``: a file, or ``-`` for stdin."""
    if name == "-":
        return os.dup(sys.stdin.fileno())
    try:
        return os.open(Path(name).expanduser(), os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise ClientError(f"cannot open {name}: {exc.strerror}", "usage") from None


def memory_fd(data: bytes) -> int:
    """``data`` in an anonymous in-memory file, rewound, ready to pass."""
    fd = os.memfd_create("agentctl-recording", os.MFD_CLOEXEC)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def meter(level: float, speaking: bool) -> str:
    filled = max(0, min(METER_WIDTH, round((level + 60) / 60 * METER_WIDTH)))
    return (f"\r{'●' if speaking else '○'} [{'#' * filled}{' ' * (METER_WIDTH - filled)}] "
            f"{level:6.1f} dBFS")


def record_command(source: AudioSource, endpointer: Endpointer, show: bool) -> bytes:
    """Frames from ``source`` until the endpointer stops; the speech part as WAV."""
    kept: list[np.ndarray[Any, Any]] = []
    try:
        for frame in source.frames():
            kept.append(frame)
            stop = endpointer.push(frame)
            if show:
                print(meter(level_dbfs(frame), endpointer.silence_s == 0), end="",
                      file=sys.stderr, flush=True)
            if stop:
                break
    finally:
        source.close()
    if show:
        print(f"\r{' ' * (METER_WIDTH + 20)}\r", end="", file=sys.stderr, flush=True)
    if not endpointer.reason:
        endpointer.reason = "end of input"
    if not endpointer.heard_speech:
        raise ClientError(f"no speech heard ({endpointer.reason}); check the microphone",
                          "usage")
    samples = np.concatenate(kept) if kept else np.zeros(0, np.float32)
    return to_wav(samples.astype(np.float32))


def make_source(input_file: str | None, recorder: str, max_seconds: float) -> AudioSource:
    if input_file:
        return FileSource(Path(input_file), max_seconds=max_seconds * 4,
                          realtime=sys.stderr.isatty())
    try:
        return MicrophoneSource(choose_recorder(recorder))
    except Exception as exc:
        raise ClientError(str(exc), "io.agentd.Error.Unavailable") from None


def listen(input_file: str | None, recorder: str, vad: str, max_seconds: float,
           end_silence_s: float, show: bool) -> tuple[bytes, str]:
    """Record one spoken command; (WAV bytes, why recording stopped)."""
    source = make_source(input_file, recorder, max_seconds)
    if show:
        print(f"listening ({source.name}); speak now, stop talking to send",
              file=sys.stderr, flush=True)
    endpointer = Endpointer(make_vad(vad), end_silence_s=end_silence_s,
                            max_seconds=max_seconds)
    wav = record_command(source, endpointer, show)
    return wav, endpointer.reason
