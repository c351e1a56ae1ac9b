"""The voice path end to end: espeak-ng speech → AskAudio on the real agentd → the plan.

Real everything: a private dbus-daemon, agentd, faster-whisper with Whisper base, and
clients that pass file descriptors (dbus-fast, agentctl).
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus
from testkit.bus import Bus, Daemon
from testkit.helpers import AGENT_PATH, gdbus_ask, task_json, wait_state
from testkit.voice import SPOKEN_COMMANDS, speech

from agentd.bus.variants import to_vardict

pytestmark = [pytest.mark.model, pytest.mark.slow]


def ask_audio(bus: Bus, data: bytes | None, options: dict[str, Any] | None = None,
              fds: int = 1, keep_open: bool = False) -> tuple[str, str]:
    """AskAudio over dbus-fast with ``data`` in a pipe or memfd; (error name, text/path)."""

    async def call() -> tuple[str, str]:
        conn = await MessageBus(bus_address=bus.address, negotiate_unix_fd=True).connect()
        passed: list[int] = []
        try:
            for _ in range(fds):
                if keep_open:
                    read_end, write_end = os.pipe()
                    os.write(write_end, data or b"")
                    passed += [read_end]
                    opened.append(write_end)
                else:
                    fd = os.memfd_create("test-audio")
                    os.write(fd, data or b"")
                    os.lseek(fd, 0, os.SEEK_SET)
                    passed.append(fd)
            reply = await conn.call(Message(
                destination="io.agentd.Agent1", path=AGENT_PATH, interface="io.agentd.Agent1",
                member="AskAudio", signature="ha{sv}",
                body=[0, to_vardict(options or {})], unix_fds=passed))
        finally:
            conn.disconnect()
            for fd in passed + opened:
                os.close(fd)
        assert reply is not None
        text = str(reply.body[0]) if reply.body else ""
        if reply.message_type is MessageType.ERROR:
            return reply.error_name or "", text
        return "", text

    opened: list[int] = []
    return asyncio.run(call())


@pytest.fixture
def voice_daemon(bus: Bus, whisper_model: Path) -> Daemon:
    daemon = Daemon(bus, {"AGENTD_VOICE_MODEL": str(whisper_model), "AGENTD_PLANNER": "none",
                          "AGENTD_VOICE_READ_TIMEOUT_S": "2"}).start()
    return daemon


def test_spoken_commands_give_the_same_plan_as_typed_ones(bus: Bus,
                                                          voice_daemon: Daemon) -> None:
    for text, tool, args in SPOKEN_COMMANDS:
        error, path = ask_audio(bus, speech(text), {"dry_run": True})
        assert not error, (text, path)
        task = wait_state(bus, path, timeout=60)
        typed = wait_state(bus, gdbus_ask(bus, text, "{'dry_run': <true>}"))
        assert task["state"] == "done", task
        assert [(s["tool"], s["args"]) for s in task["steps"]] == [(tool, args)], task
        assert task["steps"] == typed["steps"]
        assert task["request"].lower().replace("-", "")  # what was heard, recorded
        assert task["reply"].startswith("Would:")


def test_agentctl_ask_audio_and_task_show_what_was_heard(bus: Bus, voice_daemon: Daemon,
                                                         tmp_path: Path) -> None:
    recording = tmp_path / "request.wav"
    recording.write_bytes(speech("tell me the time"))
    out = bus.agentctl("ask", "--audio", str(recording), "--dry-run", "--json", timeout=90)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["steps"][0]["tool"] == "clock.time"
    assert "the time" in result["request"].lower()
    shown = bus.agentctl("task", str(result["id"]))
    assert "request: " + result["request"] in shown.stdout
    assert task_json(bus, str(result["id"]))["request"] == result["request"]


def test_raw_pcm_with_its_rate(bus: Bus, voice_daemon: Daemon) -> None:
    wav = speech("turn off wifi")
    rate = struct.unpack_from("<I", wav, 24)[0]
    pcm = wav[44:]
    error, path = ask_audio(bus, pcm, {"dry_run": True, "sample_rate": rate})
    assert not error, path
    task = wait_state(bus, path, timeout=60)
    assert [s["tool"] for s in task["steps"]] == ["settings.set"]


def test_agentctl_listen_from_a_file_stops_at_silence(bus: Bus, voice_daemon: Daemon,
                                                      tmp_path: Path) -> None:
    import numpy as np

    from agentd.voice.audio import decode, to_wav

    first = decode(speech("turn on bluetooth"), 30).samples
    second = decode(speech("and call my mother"), 30).samples
    recording = tmp_path / "two.wav"
    recording.write_bytes(to_wav(np.concatenate([first, np.zeros(40000, np.float32),
                                                 second])))
    out = bus.agentctl("listen", "--input", str(recording), "--dry-run", "--json", timeout=90)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [(s["tool"], s["args"]) for s in result["steps"]] == [
        ("settings.set", {"setting": "bluetooth", "value": True})]


def _tone_wav(seconds: float, rate: int, level: float) -> bytes:
    import numpy as np

    from agentd.voice.audio import to_wav

    samples = (level * np.sin(np.arange(int(seconds * rate)) * 0.1)).astype(np.float32)
    return to_wav(samples, rate)


@pytest.mark.parametrize(("data", "options", "message"), [
    (b"", {}, "empty"),
    (_tone_wav(2, 16000, 0.0), {}, "no speech"),
    (_tone_wav(2, 4000, 0.5), {}, "4000 Hz is not supported"),
    (_tone_wav(2, 16000, 0.5)[:5000], {}, "truncated"),
    (b"#!/bin/sh\necho this is not audio\n", {}, "not a WAV file"),
    (_tone_wav(31, 16000, 0.5), {}, "limit is 30 s"),
    (_tone_wav(2, 16000, 0.5), {"sample_rate": "fast"}, "must be an integer"),
    (_tone_wav(2, 16000, 0.5), {"loud": True}, "unknown option"),
], ids=["empty", "silence", "4kHz", "truncated", "not-audio", "too-long", "bad-rate-option",
        "unknown-option"])
def test_bad_audio_gets_named_errors(bus: Bus, voice_daemon: Daemon, data: bytes,
                                     options: dict[str, Any], message: str) -> None:
    error, text = ask_audio(bus, data, options)
    assert error == "io.agentd.Error.InvalidRequest", text
    assert message in text
    assert voice_daemon.alive()


def test_fd_misuse_is_refused(bus: Bus, voice_daemon: Daemon) -> None:
    error, text = ask_audio(bus, b"", fds=0)
    assert error == "io.agentd.Error.InvalidRequest" and "exactly one file descriptor" in text
    error, text = ask_audio(bus, b"RIFF", fds=2)
    assert error == "io.agentd.Error.InvalidRequest" and "passed 2" in text
    # A writer that never closes its end: refused after voice_read_timeout_s.
    error, text = ask_audio(bus, b"RIFF....", keep_open=True)
    assert error == "io.agentd.Error.InvalidRequest" and "did not finish arriving" in text
    assert voice_daemon.alive()
    fds = list(Path(f"/proc/{voice_daemon.process.pid}/fd").iterdir())  # type: ignore[union-attr]
    error, _ = ask_audio(bus, b"not audio")
    assert len(list(Path(f"/proc/{voice_daemon.process.pid}/fd").iterdir())) <= len(fds)  # type: ignore[union-attr]


def test_voice_turned_off_is_a_named_error(bus: Bus) -> None:
    Daemon(bus, {"AGENTD_VOICE_RECOGNIZER": "none"}).start()
    error, text = ask_audio(bus, speech("what time is it"))
    assert error == "io.agentd.Error.Unavailable" and "turned off" in text
