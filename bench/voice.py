"""Voice benchmark: real-time factor, end-of-speech-to-plan latency, word error rate.

Speech comes from espeak-ng for catalogue commands. Baselines are measured in the same
run: raw faster-whisper on the same audio (no prompt) against agentd's recogniser (with
the template prompt), and agentd end to end (AskAudio over a private bus, dry run, until
the task is done) against raw faster-whisper's time on the same audio.

    .venv/bin/python bench/voice.py [--model DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from agentd.bus.variants import to_vardict  # noqa: E402
from agentd.voice.audio import decode  # noqa: E402
from agentd.voice.bias import recognition_prompt  # noqa: E402
from agentd.voice.service import clean_text  # noqa: E402
from agentd.voice.speech import synthesize_wav  # noqa: E402

COMMANDS = ["set a timer for ten minutes", "turn off wifi", "what is the time",
            "turn on bluetooth", "take a screenshot", "open the camera",
            "turn on the flashlight", "set the volume to fifty percent",
            "cancel the timer", "turn on airplane mode", "what time is it",
            "tell me the time"]
NUMBERS = {"10": "ten", "50": "fifty", "50%": "fifty percent"}


def words(text: str) -> list[str]:
    out: list[str] = []
    for word in re.sub(r"[^\w%' ]", " ", text.lower().replace("-", "")).split():
        out += NUMBERS.get(word, word).split()
    return out


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def wer(pairs: list[tuple[str, str]]) -> float:
    errors = sum(edit_distance(words(r), words(h)) for r, h in pairs)
    return errors / sum(len(words(r)) for r, _ in pairs)


async def ask_audio(address: str, wav: bytes) -> tuple[float, str]:
    """AskAudio (dry run) and wait for Finished; (seconds from call to plan, request)."""
    from dbus_fast import Message, MessageType
    from dbus_fast.aio import MessageBus

    bus = await MessageBus(bus_address=address, negotiate_unix_fd=True).connect()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_message(msg: Message) -> None:
        if msg.member == "Finished" and not done.done():
            done.set_result(None)

    bus.add_message_handler(on_message)
    await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                           interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                           body=["type='signal',interface='io.agentd.Task1'"]))
    fd = os.memfd_create("bench")
    os.write(fd, wav)
    os.lseek(fd, 0, os.SEEK_SET)
    started = time.perf_counter()
    reply = await bus.call(Message(
        destination="io.agentd.Agent1", path="/io/agentd/Agent1", interface="io.agentd.Agent1",
        member="AskAudio", signature="ha{sv}", body=[0, to_vardict({"dry_run": True})],
        unix_fds=[fd]))
    os.close(fd)
    assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply
    await asyncio.wait_for(done, 120)
    elapsed = time.perf_counter() - started
    props = await bus.call(Message(destination="io.agentd.Agent1", path=reply.body[0],
                                   interface="org.freedesktop.DBus.Properties", member="Get",
                                   signature="ss", body=["io.agentd.Task1", "Request"]))
    bus.disconnect()
    assert props is not None
    return elapsed, str(props.body[0].value)


def start_agentd(model: Path, work: Path) -> tuple[list[subprocess.Popen[bytes]], str]:
    env = {**os.environ, "XDG_STATE_HOME": str(work / "state"),
           "XDG_CONFIG_HOME": str(work / "config"), "AGENTD_SYSCONFDIR": str(work / "etc"),
           "AGENTD_VOICE_MODEL": str(model), "AGENTD_PLANNER": "none"}
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                            f"--address=unix:path={work}/bus"], stdout=subprocess.PIPE)
    assert bus.stdout is not None
    address = bus.stdout.readline().decode().strip()
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    agentd = subprocess.Popen([str(Path(sys.executable).parent / "agentd")], env=env,
                              stderr=subprocess.DEVNULL)
    for _ in range(200):
        probe = subprocess.run(["busctl", f"--address={address}", "status",
                                "io.agentd.Agent1"], capture_output=True)
        if probe.returncode == 0:
            break
        time.sleep(0.05)
    return [agentd, bus], address


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / \
        "agentd/test-data/agentd/models/whisper/whisper-base"
    parser.add_argument("--model", type=Path, default=default)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from faster_whisper import WhisperModel

    threads = min(4, os.cpu_count() or 1)
    started = time.perf_counter()
    raw = WhisperModel(str(args.model), device="cpu", compute_type="int8", cpu_threads=threads)
    load_s = time.perf_counter() - started
    prompt = recognition_prompt("en")
    clips = {text: synthesize_wav(text) for text in COMMANDS}
    results: dict[str, list[tuple[str, str]]] = {"raw": [], "prompt": []}
    times: dict[str, list[float]] = {"raw": [], "prompt": [], "e2e": [], "audio": []}
    for text, wav in clips.items():
        audio = decode(wav, 30)
        times["audio"].append(audio.seconds)
        for name, initial in (("raw", None), ("prompt", prompt)):
            best, heard = 1e9, ""
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                segments, _ = raw.transcribe(
                    audio.samples, language="en", beam_size=1, initial_prompt=initial,
                    condition_on_previous_text=False, without_timestamps=True)
                heard = clean_text(" ".join(s.text for s in segments))
                best = min(best, time.perf_counter() - t0)
            times[name].append(best)
            results[name].append((text, heard))
    with tempfile.TemporaryDirectory() as work:
        processes, address = start_agentd(args.model, Path(work))
        try:
            asyncio.run(ask_audio(address, clips[COMMANDS[0]]))  # loads the model
            for wav in clips.values():
                best = min(asyncio.run(ask_audio(address, wav))[0] for _ in range(args.repeat))
                times["e2e"].append(best)
        finally:
            for process in processes:
                process.terminate()
                process.wait()
    audio_s, raw_s, prompt_s = (sum(times[k]) for k in ("audio", "raw", "prompt"))
    e2e_s = sum(times["e2e"])
    print(f"machine: {os.cpu_count()} cores, {threads} threads; model load {load_s:.2f} s; "
          f"{len(COMMANDS)} commands, {audio_s:.1f} s of speech, best of {args.repeat}")
    print(f"real-time factor, raw faster-whisper:        {raw_s / audio_s:.2f}")
    print(f"real-time factor, with the template prompt:  {prompt_s / audio_s:.2f} "
          f"({prompt_s / raw_s:.2f}x raw)")
    print(f"end of speech to plan, agentd over D-Bus: median "
          f"{statistics.median(times['e2e']) * 1000:.0f} ms, "
          f"{e2e_s / raw_s:.2f}x raw recognition time on the same audio")
    print(f"word error rate, raw: {wer(results['raw']):.3f}; with prompt: "
          f"{wer(results['prompt']):.3f}")
    for (text, plain), (_, biased) in zip(results["raw"], results["prompt"], strict=True):
        print(f"  {text!r:36} raw {plain!r:34} prompt {biased!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
