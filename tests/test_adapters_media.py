"""media.control and media.now_playing: the real mpv with its MPRIS script (Debian's
mpv-mpris) on a private session bus, playing generated WAV files; playerctl, another
MPRIS client, checks what agentd did."""

from __future__ import annotations

import asyncio
import json
import signal
import struct
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dbus_fast import BusType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusBool, DBusDict, DBusStr
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property
from testkit.bus import Bus, Daemon, need, wait_for
from testkit.helpers import agentctl_ask as ask
from testkit.helpers import audit
from testkit.helpers import only_step as step

from agentd.adapters.media import NO_PLAYER, Player, choose
from agentd.adapters.media.mpris import MprisMedia
from agentd.adapters.media.tools import playing_sentence
from agentd.errors import InvalidState, Unavailable

pytestmark = pytest.mark.services

# Where Debian's mpv-mpris puts the script (bookworm: the first; /etc/mpv/scripts links it).
MPRIS_SCRIPTS = ("/usr/lib/mpv-mpris/mpris.so", "/etc/mpv/scripts/mpris.so",
                 "/usr/lib/x86_64-linux-gnu/mpv/scripts/mpris.so")
ARTIST = "The Testers"


def need_(tool: str) -> str:
    return need(tool, "apt install mpv mpv-mpris playerctl")


def mpris_script() -> str:
    for path in MPRIS_SCRIPTS:
        if Path(path).exists():
            return path
    pytest.fail("the MPRIS script for mpv is not installed (apt install mpv-mpris)")


def write_song(path: Path, title: str, seconds: int = 60) -> Path:
    """Silence with a title and an artist in the WAV's LIST INFO chunk (mpv reads them)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"\x80" * 8000 * seconds)
    info = b"INFO"
    for key, value in (("INAM", title), ("IART", ARTIST)):
        data = value.encode() + b"\0"
        data += b"\0" * (len(data) % 2)
        info += key.encode() + struct.pack("<I", len(data)) + data
    riff = path.read_bytes() + b"LIST" + struct.pack("<I", len(info)) + info
    path.write_bytes(riff[:4] + struct.pack("<I", len(riff) - 8) + riff[8:])
    return path


@pytest.fixture
def songs(tmp_path: Path) -> list[Path]:
    return [write_song(tmp_path / "one.wav", "Song One"),
            write_song(tmp_path / "two.wav", "Song Two")]


class Mpv:
    """One mpv on the test bus, and playerctl's view of it."""

    def __init__(self, bus: Bus, process: subprocess.Popen[bytes], name: str) -> None:
        self.bus, self.process, self.name = bus, process, name

    def playerctl(self, *args: str) -> str:
        out = self.bus.run(need_("playerctl"), "-p", self.name, *args)
        return out.stdout.strip()

    def status(self) -> str:
        return self.playerctl("status")

    def title(self) -> str:
        return self.playerctl("metadata", "title")

    def wait(self, status: str, title: str | None = None) -> None:
        try:
            wait_for(lambda: self.status() == status
                     and (title is None or self.title() == title), timeout=10)
        except AssertionError:
            raise AssertionError(f"{self.name}: {self.status()} {self.title()!r}, not "
                                 f"{status} {title!r}") from None


def players(bus: Bus) -> set[str]:
    return set(bus.run(need_("playerctl"), "--list-all").stdout.split())


@pytest.fixture
def start_mpv(bus: Bus) -> Iterator[Callable[..., Mpv]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*files: Path, paused: bool = False) -> Mpv:
        before = players(bus)
        process = subprocess.Popen(
            [need_("mpv"), "--no-config", "--no-terminal", "--no-video", "--ao=null",
             "--idle=no", "--loop-playlist=inf", f"--script={mpris_script()}",
             *(["--pause"] if paused else []), *map(str, files)],
            env=bus.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        wait_for(lambda: players(bus) - before, timeout=20, interval=0.1)
        (name,) = players(bus) - before
        mpv = Mpv(bus, process, name)
        mpv.wait("Paused" if paused else "Playing")
        return mpv

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def taint_of(bus: Bus, tool: str) -> list[str]:
    return [t for r in audit(bus) if r.get("tool") == tool for t in r.get("taint", [])]


def test_pause_then_resume_the_playing_mpv(bus: Bus, daemon: Daemon, songs: list[Path],
                                          start_mpv: Callable[..., Mpv]) -> None:
    mpv = start_mpv(*songs)
    task = ask(bus, "pause the music")
    assert task["state"] == "done" and step(task)["tool"] == "media.control", task
    assert str(task["reply"]).startswith("Paused “"), task
    mpv.wait("Paused")
    task = ask(bus, "pause")
    assert str(task["reply"]).startswith("Nothing is playing (“"), task
    task = ask(bus, "resume")
    assert task["state"] == "done" and str(task["reply"]).startswith("Playing in “"), task
    mpv.wait("Playing")
    assert taint_of(bus, "media.control") == []  # agentd's own words
    task = ask(bus, "stop the music")
    assert task["state"] == "done" and str(task["reply"]).startswith("Stopped “"), task
    # mpv started with --idle=no quits when stopped; another player would say Stopped.
    wait_for(lambda: mpv.process.poll() is not None or mpv.status() == "Stopped")


def test_next_and_previous_on_a_playlist(bus: Bus, daemon: Daemon, songs: list[Path],
                                         start_mpv: Callable[..., Mpv]) -> None:
    mpv = start_mpv(*songs)
    task = ask(bus, "next song")
    assert task["state"] == "done", task
    mpv.wait("Playing", "Song Two")
    task = ask(bus, "go back a song")
    assert task["state"] == "done", task
    mpv.wait("Playing", "Song One")


def test_now_playing_says_the_title_and_taints_the_task(
        bus: Bus, daemon: Daemon, songs: list[Path], start_mpv: Callable[..., Mpv]) -> None:
    start_mpv(*songs)
    task = ask(bus, "what song is this")
    assert task["state"] == "done" and step(task)["tool"] == "media.now_playing", task
    reply = str(task["reply"])
    assert reply.startswith("Playing “Song One” by The Testers in “"), reply
    (taint,) = taint_of(bus, "media.now_playing")
    assert taint.startswith("media.now_playing: what “") and "files and streams" in taint


def test_no_player_is_a_named_error_and_the_daemon_answers(bus: Bus,
                                                           daemon: Daemon) -> None:
    task = ask(bus, "pause the music")
    assert task["state"] == "failed", task
    assert step(task)["error"] == f"io.agentd.Error.Unavailable: {NO_PLAYER}"
    assert NO_PLAYER.startswith("no media player is running (start one, e.g. ")
    assert ask(bus, "what's playing")["state"] == "failed"
    assert daemon.alive() and ask(bus, "what time is it")["state"] == "done"
    rows = json.loads(bus.agentctl("doctor", "--json").stdout)
    (row,) = [r for r in rows if r["capability"] == "media"]
    assert (row["backend"], row["available"], row["selected"]) == ("mpris", True, True)
    assert row["reason"] == "MPRIS on the session bus; no media player is running now"


def test_the_playing_player_wins_then_the_latest(bus: Bus, daemon: Daemon,
                                                 songs: list[Path],
                                                 start_mpv: Callable[..., Mpv]) -> None:
    first = start_mpv(songs[0])
    second = start_mpv(songs[1], paused=True)  # started later, paused
    task = ask(bus, "what's playing")
    assert str(task["reply"]).startswith("Playing “Song One”"), task  # the playing one
    ask(bus, "pause the music")
    first.wait("Paused")
    assert second.status() == "Paused"
    ask(bus, "resume")  # both paused: the one that started last
    second.wait("Playing")
    assert first.status() == "Paused"
    rows = json.loads(bus.agentctl("doctor", "--json").stdout)
    (row,) = [r for r in rows if r["capability"] == "media"]
    assert row["reason"].startswith("MPRIS on the session bus: “"), row
    assert row["reason"].count("“") == 2  # both players


class OddPlayer(ServiceInterface):
    """An MPRIS player that plays, cannot skip, and sends metadata of the wrong types."""

    def __init__(self) -> None:
        super().__init__("org.mpris.MediaPlayer2.Player")

    @dbus_property(access=PropertyAccess.READ, name="PlaybackStatus")
    def status(self) -> DBusStr:
        return "Playing"

    @dbus_property(access=PropertyAccess.READ, name="Metadata")
    def metadata(self) -> DBusDict:
        return {"xesam:title": Variant("i", 42), "xesam:artist": Variant("s", "not a list")}

    @dbus_property(access=PropertyAccess.READ, name="CanControl")
    def can_control(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ, name="CanPause")
    def can_pause(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ, name="CanGoNext")
    def can_go_next(self) -> DBusBool:
        return False


HUNG_PLAYER = """
import asyncio
from dbus_fast.aio import MessageBus

async def main():
    bus = await MessageBus().connect()
    await bus.request_name("org.mpris.MediaPlayer2.hung")
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.fixture
def odd_players(bus: Bus) -> Iterator[None]:
    """On the test bus: ``odd`` (OddPlayer, from a thread; no Identity, so its bus name
    names it) and ``hung``, a process that owns its name and is then stopped (SIGSTOP):
    it never answers."""
    loop = asyncio.new_event_loop()
    conns: list[MessageBus] = []

    async def serve() -> None:
        odd = await MessageBus(bus_address=bus.address, bus_type=BusType.SESSION).connect()
        odd.export("/org/mpris/MediaPlayer2", OddPlayer())
        await odd.request_name("org.mpris.MediaPlayer2.odd")
        conns.append(odd)

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(serve(), loop).result(timeout=10)
    hung = subprocess.Popen([sys.executable, "-c", HUNG_PLAYER], env=bus.env,
                            stdout=subprocess.PIPE, text=True)
    assert hung.stdout is not None and hung.stdout.readline().strip() == "ready"
    hung.send_signal(signal.SIGSTOP)
    yield
    hung.kill()
    hung.wait(timeout=10)
    loop.call_soon_threadsafe(conns[0].disconnect)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


def test_odd_and_hung_players(bus: Bus, daemon: Daemon, odd_players: None) -> None:
    """Wrong types are read as what they are; a player that never answers is left out
    after the short timeout; what a player cannot do is a named error; agentd stays up."""
    start = time.monotonic()
    task = ask(bus, "what's playing")
    assert task["reply"] == "Playing “42” in “odd”.", task
    assert time.monotonic() - start < 9  # one short timeout for the hung one, not two
    task = ask(bus, "skip this song")
    assert step(task)["error"] == (
        "io.agentd.Error.InvalidState: the media player “odd” cannot skip to the next "
        "track now (its MPRIS CanGoNext is false)"), task
    assert daemon.alive() and ask(bus, "what time is it")["state"] == "done"
    rows = json.loads(bus.agentctl("doctor", "--json").stdout)
    (row,) = [r for r in rows if r["capability"] == "media"]
    assert row["reason"] == "MPRIS on the session bus: “hung”, “odd”", row


def test_a_player_that_cannot_is_a_named_error() -> None:
    """What the player says it cannot do now is refused before any call."""
    player = Player("mpv", "org.mpris.MediaPlayer2.mpv", "playing", (1, 3),
                    can=frozenset({"play", "pause"}))
    with pytest.raises(InvalidState, match=r"^the media player “mpv” cannot skip to the "
                       r"next track now \(its MPRIS CanGoNext is false\)$"):
        asyncio.run(MprisMedia().control(player, "next"))
    with pytest.raises(InvalidState, match=r"cannot pause now \(its MPRIS CanControl is "):
        asyncio.run(MprisMedia().control(Player("mpv", "org.mpris.MediaPlayer2.mpv",
                                                "playing", (1, 3), controllable=False),
                                         "pause"))


def test_which_player_a_request_means() -> None:
    def player(status: str, order: int) -> Player:
        return Player(f"p{order}", f"org.mpris.MediaPlayer2.p{order}", status, (1, order))

    assert choose([player("paused", 9), player("playing", 1)]).order == (1, 1)
    assert choose([player("stopped", 9), player("paused", 2)]).order == (1, 2)
    assert choose([player("paused", 2), player("paused", 7)]).order == (1, 7)
    with pytest.raises(Unavailable, match="no media player is running"):
        choose([])


def test_what_is_playing_in_words() -> None:
    def player(status: str, title: str = "", *artists: str) -> Player:
        return Player("mpv", "org.mpris.MediaPlayer2.mpv", status, (1, 1), title, artists)

    assert playing_sentence(player("playing", "Song", "A", "B")) == \
        "Playing “Song” by A, B in “mpv”."
    assert playing_sentence(player("paused", "Song")) == "“mpv” is paused on “Song”."
    assert playing_sentence(player("playing")) == "“mpv” is playing something without a title."
    assert playing_sentence(player("stopped", "Song")) == "Nothing is playing (“mpv” is stopped)."
