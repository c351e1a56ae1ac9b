"""The uinput backend's event encoding (pure: the exact evdev events of a tap, a swipe,
typed text and keys), its screen size and availability on this host (no /dev/uinput),
and the input tools through the real agentd when no backend can do an operation.

The device write itself needs /dev/uinput: tests/vm/check_uinput.py runs in the image.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.bus import Bus, Daemon
from testkit.helpers import ask_and_allow, sandboxed, uinput_broker

from agentd.adapters.input import Operation, encode
from agentd.adapters.input.broker import request_device
from agentd.adapters.input.encode import (
    ABS_MT_POSITION_X,
    ABS_MT_POSITION_Y,
    ABS_MT_SLOT,
    ABS_MT_TRACKING_ID,
    ABS_X,
    ABS_Y,
    BTN_TOUCH,
    EV_ABS,
    EV_KEY,
    SYN,
    Event,
    Pause,
    Untypable,
)
from agentd.adapters.input.uinput import UinputInput, drm_screen_size
from agentd.errors import AgentError, InvalidArguments, Unavailable
from agentd.tools.catalogue import KEYS

pytestmark = pytest.mark.services

SHIFT = 42


def ecodes() -> dict[str, int]:
    try:
        from evdev import ecodes as table
    except ImportError:
        pytest.fail("python-evdev is not installed: pip install evdev==2.0.0")
    return dict(table.ecodes)


def test_codes_are_the_kernels() -> None:
    kernel = ecodes()
    for name, code in encode.KEY_CODES.items():
        assert kernel[name] == code, name
    for name in ("EV_SYN", "EV_KEY", "EV_ABS", "SYN_REPORT", "ABS_X", "ABS_Y", "ABS_MT_SLOT",
                 "ABS_MT_POSITION_X", "ABS_MT_POSITION_Y", "ABS_MT_TRACKING_ID", "BTN_TOUCH",
                 "INPUT_PROP_DIRECT"):
        assert kernel[name] == getattr(encode, name), name


def test_tap_is_one_contact_down_then_up() -> None:
    assert encode.tap(100, 200, tracking_id=7) == [
        Event(EV_ABS, ABS_MT_SLOT, 0), Event(EV_ABS, ABS_MT_TRACKING_ID, 7),
        Event(EV_ABS, ABS_MT_POSITION_X, 100), Event(EV_ABS, ABS_MT_POSITION_Y, 200),
        Event(EV_KEY, BTN_TOUCH, 1), Event(EV_ABS, ABS_X, 100), Event(EV_ABS, ABS_Y, 200),
        SYN,
        Pause(encode.TAP_HOLD_S),
        Event(EV_ABS, ABS_MT_TRACKING_ID, -1), Event(EV_KEY, BTN_TOUCH, 0), SYN,
    ]


def test_swipe_moves_in_a_line_at_its_pace() -> None:
    steps = encode.swipe((0, 1000), (300, 100), tracking_id=3, duration_s=0.4, steps=4)
    assert steps[:8] == encode.tap(0, 1000, 3)[:8]  # down at the start
    assert steps[-3:] == encode.tap(0, 1000, 3)[-3:]  # lifted at the end
    moves = [(a.value, b.value) for a, b in itertools.pairwise(steps)
             if isinstance(a, Event) and isinstance(b, Event)
             and (a.code, b.code) == (ABS_MT_POSITION_X, ABS_MT_POSITION_Y)]
    assert moves == [(0, 1000), (75, 775), (150, 550), (225, 325), (300, 100)]
    assert sum(s.seconds for s in steps if isinstance(s, Pause)) == pytest.approx(0.4)
    assert steps.count(SYN) == 1 + 4 + 1  # down, each move, up
    # Every move frame: a pause, then both MT and single-touch positions, then SYN.
    i = steps.index(Event(EV_ABS, ABS_MT_POSITION_X, 75))
    assert isinstance(steps[i - 1], Pause)
    assert steps[i:i + 5] == [Event(EV_ABS, ABS_MT_POSITION_X, 75),
                              Event(EV_ABS, ABS_MT_POSITION_Y, 775),
                              Event(EV_ABS, ABS_X, 75), Event(EV_ABS, ABS_Y, 775), SYN]


def _keys(steps: list[encode.Step]) -> list[tuple[int, int]]:
    """(code, value) of the key events; checks every one is followed by SYN."""
    out = []
    for i, step in enumerate(steps):
        if isinstance(step, Event) and step.type == EV_KEY:
            assert steps[i + 1] == SYN, (i, steps[i:i + 2])
            out.append((step.code, step.value))
    return out


def test_typed_text_uses_shift_for_capitals_and_symbols() -> None:
    k = ecodes()
    assert _keys(encode.type_text("Hi!")) == [
        (SHIFT, 1), (k["KEY_H"], 1), (k["KEY_H"], 0), (SHIFT, 0),
        (k["KEY_I"], 1), (k["KEY_I"], 0),
        (SHIFT, 1), (k["KEY_1"], 1), (k["KEY_1"], 0), (SHIFT, 0),
    ]
    assert _keys(encode.type_text("a-b\n")) == [
        (k["KEY_A"], 1), (k["KEY_A"], 0), (k["KEY_MINUS"], 1), (k["KEY_MINUS"], 0),
        (k["KEY_B"], 1), (k["KEY_B"], 0), (k["KEY_ENTER"], 1), (k["KEY_ENTER"], 0)]
    steps = encode.type_text("x")
    assert steps == [Event(EV_KEY, k["KEY_X"], 1), SYN, Pause(encode.KEY_HOLD_S),
                     Event(EV_KEY, k["KEY_X"], 0), SYN]


def test_every_printable_ascii_character_is_typable() -> None:
    printable = "".join(chr(c) for c in range(0x20, 0x7F))
    pressed = [code for code, value in _keys(encode.type_text(printable))
               if value == 1 and code != SHIFT]
    assert len(pressed) == len(printable)
    # Upper and lower case share a key; shift makes the difference.
    assert _keys(encode.type_text("Q"))[1:3] == _keys(encode.type_text("q"))


def test_untypable_characters_are_named_before_anything_is_typed() -> None:
    with pytest.raises(Untypable) as raised:
        encode.type_text("café ☕")
    assert isinstance(raised.value, InvalidArguments)
    assert raised.value.dbus_name == "io.agentd.Error.InvalidArguments"
    assert str(raised.value) == ("input.type: the virtual keyboard (US layout) cannot type "
                                 "'é' (U+00E9), '☕' (U+2615)")


def test_every_catalogue_key_is_mapped() -> None:
    k = ecodes()
    assert set(encode.NAMED_KEYS) == set(KEYS)
    assert _keys(encode.key("back")) == [(k["KEY_BACK"], 1), (k["KEY_BACK"], 0)]
    assert _keys(encode.key("home")) == [(k["KEY_HOMEPAGE"], 1), (k["KEY_HOMEPAGE"], 0)]
    assert _keys(encode.key("volume_up")) == [(k["KEY_VOLUMEUP"], 1), (k["KEY_VOLUMEUP"], 0)]
    assert set(encode.keyboard_keys()) >= {code for code, _ in _keys(
        [s for name in KEYS for s in encode.key(name)])}
    with pytest.raises(InvalidArguments, match="no key named 'hyper'"):
        encode.key("hyper")


def _connector(drm: Path, name: str, status: str, modes: str) -> None:
    (drm / name).mkdir(parents=True)
    (drm / name / "status").write_text(status + "\n")
    (drm / name / "modes").write_text(modes)


def test_screen_size_from_the_connected_panel(tmp_path: Path) -> None:
    assert drm_screen_size(tmp_path) is None
    _connector(tmp_path, "card0-HDMI-A-1", "connected", "1920x1080\n1280x720\n")
    assert drm_screen_size(tmp_path) == (1920, 1080)
    _connector(tmp_path, "card0-DSI-1", "connected", "720x1440\n")
    assert drm_screen_size(tmp_path) == (720, 1440)  # the internal panel first
    _connector(tmp_path, "card1-eDP-1", "disconnected", "")
    assert drm_screen_size(tmp_path) == (720, 1440)


def test_no_uinput_here(tmp_path: Path) -> None:
    backend = UinputInput(size=(720, 1440), device=tmp_path / "uinput")
    state = asyncio.run(backend.availability())
    assert not state.ok
    assert state.reason.startswith(f"no {tmp_path / 'uinput'}: the kernel has no uinput")
    with pytest.raises(Unavailable, match=r"no .*uinput: the kernel has no uinput"):
        asyncio.run(backend.tap_point(10, 10))
    with pytest.raises(Untypable):  # checked before any device is needed
        asyncio.run(backend.type_text("ß"))
    assert Operation.TAP_TARGET not in backend.operations


def test_points_outside_the_screen_are_refused(tmp_path: Path) -> None:
    (tmp_path / "uinput").touch()  # a plain file: the bounds are checked before creation
    backend = UinputInput(size=(720, 1440), device=tmp_path / "uinput")
    assert "touchscreen 720x1440 (given)" in asyncio.run(backend.availability()).reason
    with pytest.raises(InvalidArguments, match=r"\(720, 5\) is outside the screen"):
        asyncio.run(backend.tap_point(720, 5))


def test_unknown_screen_size(tmp_path: Path) -> None:
    (tmp_path / "uinput").touch()
    backend = UinputInput(device=tmp_path / "uinput", drm=tmp_path / "drm")
    state = asyncio.run(backend.availability())
    assert state.ok and "no touchscreen: screen size unknown" in state.reason
    with pytest.raises(Unavailable, match="screen size is unknown"):
        asyncio.run(backend.tap_point(1, 1))


def test_tools_say_why_no_backend_can(bus: Bus, daemon: Daemon) -> None:
    """On this host: no accessibility bus and no /dev/uinput."""
    def error(text: str) -> str:
        task = ask_and_allow(bus, text)
        (step,) = task["steps"]
        return str(step["error"])

    key = error("go back")
    assert key.startswith("io.agentd.Error.Unavailable: nothing here can press a key "
                          "(atspi: cannot press a key; uinput: no /dev/uinput"), key
    tap = error("tap x 10 y 20")
    assert tap.startswith("io.agentd.Error.Unavailable: nothing here can tap a point "
                          "(atspi: cannot tap a point; uinput: no /dev/uinput"), tap
    typed = error("type hello")
    assert typed.startswith("io.agentd.Error.Unavailable: nothing here can type text "
                            "(atspi: no accessibility bus"), typed
    assert "uinput: no /dev/uinput" in typed
    rows = {r["backend"]: r for r in json.loads(bus.agentctl("doctor", "--json").stdout)
            if r["capability"] == "input"}
    assert set(rows) == {"atspi", "uinput"}
    assert not rows["uinput"]["available"]


def test_waits_for_another_process_to_open_the_device_node(tmp_path: Path) -> None:
    """The first events wait until the compositor (another process) has the node open."""
    from agentd.adapters.input.uinput import opened_elsewhere

    node = tmp_path / "event7"
    node.write_bytes(b"")
    with open(node, "rb"):
        assert not opened_elsewhere(str(node))  # this process alone does not count
    reader = subprocess.Popen([sys.executable, "-c",
                               f"f = open({str(node)!r}, 'rb'); print('open', flush=True); "
                               "import time; time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
        assert opened_elsewhere(str(node))
    finally:
        reader.kill()
        reader.wait()
    assert not opened_elsewhere(str(node))


def test_finds_the_event_node_of_a_device_by_name(tmp_path: Path) -> None:
    from agentd.adapters.input.uinput import TOUCH_NAME, event_node

    for number, name in ((3, "Power Button"), (6, TOUCH_NAME), (9, TOUCH_NAME)):
        (tmp_path / f"event{number}" / "device").mkdir(parents=True)
        (tmp_path / f"event{number}" / "device" / "name").write_text(name + "\n")
    assert event_node(TOUCH_NAME, tmp_path) == "/dev/input/event9"  # the newest
    assert event_node("agentd keyboard", tmp_path) is None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The uinput broker on a socket of its own; agentd is ``asker.py`` here. No
    /dev/uinput on this host: a device the broker agrees to make fails at creation, with
    its own message (the image makes real ones: tests/vm)."""
    asker = tmp_path / "asker.py"
    asker.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from agentd.adapters.input.broker import request_device\n"
        "from agentd.errors import AgentError\n"
        "try:\n"
        "    request_device(sys.argv[2], (720, 1440), Path(sys.argv[1]))\n"
        "except AgentError as exc:\n"
        "    print(exc.message)\n")
    sock = tmp_path / "uinput.sock"
    with uinput_broker(sock, asker, tmp_path / "no-uinput"):
        yield sock, asker


def test_broker_gives_devices_to_agentd_alone(broker: tuple[Path, Path]) -> None:
    sock, asker = broker
    # Another program (this test runner) is refused.
    with pytest.raises(AgentError, match="is not agentd"):
        request_device("keyboard", None, sock)
    # agentd's path, run by the same python: the broker agrees, and says why it failed.
    out = subprocess.run([sys.executable, str(asker), str(sock), "touchscreen"],
                         capture_output=True, text=True, timeout=30)
    assert "cannot create the touchscreen on" in out.stdout, out
    out = subprocess.run([sys.executable, str(asker), str(sock), "mouse"],
                         capture_output=True, text=True, timeout=30)
    assert "unknown device 'mouse'" in out.stdout, out
    # The same path started with code before it is not agentd.
    out = subprocess.run([sys.executable, "-c", "import runpy, sys; sys.argv = sys.argv[1:]; "
                          f"runpy.run_path({str(asker)!r}, run_name='__main__')",
                          str(asker), str(sock), "keyboard"],
                         capture_output=True, text=True, timeout=30)
    assert "is not agentd" in out.stdout or "cannot tell which program" in out.stdout, out


def test_broker_refuses_a_sandboxed_agentd(broker: tuple[Path, Path],
                                           flatpak_info: Path) -> None:
    sock, asker = broker
    root = str(Path(__file__).resolve().parent.parent)
    argv = sandboxed(flatpak_info, sys.executable, str(asker), str(sock), "keyboard",
                     binds=(root, str(sock.parent)))
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert "a sandboxed app (flatpak:org.example.Evil) is not agentd" in out.stdout, out


def test_the_broker_says_whether_the_compositor_opened_a_device(
        broker: tuple[Path, Path], tmp_path: Path) -> None:
    """In its unit agentd cannot read the compositor's /proc/PID/fd: the broker looks, for
    agentd alone, at /dev/input/eventN alone, leaving agentd's own fds out."""
    from agentd.adapters.input.broker import opened_elsewhere as asked
    from agentd.adapters.input.uinput import opened_elsewhere

    sock, asker = broker  # asker.py is agentd's path for this broker: it asks instead
    asker.write_text("import sys\nfrom pathlib import Path\n"
                     "from agentd.adapters.input.broker import opened_elsewhere\n"
                     "for node in sys.argv[2:]:\n"
                     "    print(opened_elsewhere(node, Path(sys.argv[1])))\n")
    out = subprocess.run([sys.executable, str(asker), str(sock),
                          "/dev/input/event999", "/etc/passwd"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.split() == ["False", "False"], out  # nobody; not a node it answers
    assert not asked("/dev/input/event999", sock)  # not agentd: refused, so False
    node = tmp_path / "event7"
    node.write_bytes(b"")
    with open(node, "rb"):
        reader = subprocess.Popen([sys.executable, "-c", f"f = open({str(node)!r}, 'rb'); "
                                   "print('open', flush=True); import time; time.sleep(30)"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
            assert opened_elsewhere(str(node))
            assert not opened_elsewhere(str(node), also_not=reader.pid)  # agentd's own
        finally:
            reader.kill()
            reader.wait()
