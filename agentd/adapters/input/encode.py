"""Touches and key presses as Linux input events: pure functions, no device.

The numbers are the kernel's (``linux/input-event-codes.h``, a stable ABI; the tests
check them against python-evdev's table). A touch follows the multitouch protocol type B
(``Documentation/input/multi-touch-protocol.rst``): slot 0, a tracking id for the
contact, positions, then ``ABS_MT_TRACKING_ID -1`` to lift; ``BTN_TOUCH`` and
``ABS_X/ABS_Y`` are sent too for single-touch readers. Every frame ends in
``SYN_REPORT``. Text is typed on a US layout, with shift for capitals and symbols.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentd.errors import InvalidArguments

EV_SYN, EV_KEY, EV_ABS = 0, 1, 3
SYN_REPORT = 0
ABS_X, ABS_Y = 0x00, 0x01
ABS_MT_SLOT, ABS_MT_POSITION_X, ABS_MT_POSITION_Y, ABS_MT_TRACKING_ID = 0x2F, 0x35, 0x36, 0x39
BTN_TOUCH = 0x14A
INPUT_PROP_DIRECT = 0x01

TAP_HOLD_S = 0.05  # finger down → up
KEY_HOLD_S = 0.01
SWIPE_STEPS = 12

KEY_CODES: dict[str, int] = {
    "KEY_ESC": 1, "KEY_MINUS": 12, "KEY_EQUAL": 13, "KEY_BACKSPACE": 14, "KEY_TAB": 15,
    "KEY_LEFTBRACE": 26, "KEY_RIGHTBRACE": 27, "KEY_ENTER": 28, "KEY_SEMICOLON": 39,
    "KEY_APOSTROPHE": 40, "KEY_GRAVE": 41, "KEY_LEFTSHIFT": 42, "KEY_BACKSLASH": 43,
    "KEY_COMMA": 51, "KEY_DOT": 52, "KEY_SLASH": 53, "KEY_SPACE": 57,
    "KEY_UP": 103, "KEY_LEFT": 105, "KEY_RIGHT": 106, "KEY_DOWN": 108,
    "KEY_VOLUMEDOWN": 114, "KEY_VOLUMEUP": 115, "KEY_POWER": 116, "KEY_COMPOSE": 127,
    "KEY_BACK": 158, "KEY_HOMEPAGE": 172,
    **{f"KEY_{d}": 2 + (int(d) - 1) % 10 for d in "1234567890"},
    **{f"KEY_{c}": code for row, first in (("QWERTYUIOP", 16), ("ASDFGHJKL", 30),
                                           ("ZXCVBNM", 44))
       for code, c in enumerate(row, first)},
}

# The catalogue's key names (input.key) → evdev key. "home" is XF86HomePage and "menu"
# the PC Menu key (KEY_COMPOSE, keysym Menu: GTK's context menu); see docs/adapters.md.
NAMED_KEYS: dict[str, str] = {
    "back": "KEY_BACK", "home": "KEY_HOMEPAGE", "enter": "KEY_ENTER", "menu": "KEY_COMPOSE",
    "power": "KEY_POWER", "volume_up": "KEY_VOLUMEUP", "volume_down": "KEY_VOLUMEDOWN",
    "tab": "KEY_TAB", "escape": "KEY_ESC", "backspace": "KEY_BACKSPACE",
    "space": "KEY_SPACE", "up": "KEY_UP", "down": "KEY_DOWN", "left": "KEY_LEFT",
    "right": "KEY_RIGHT",
}

_UNSHIFTED = {"-": "MINUS", "=": "EQUAL", "[": "LEFTBRACE", "]": "RIGHTBRACE",
              ";": "SEMICOLON", "'": "APOSTROPHE", "`": "GRAVE", "\\": "BACKSLASH",
              ",": "COMMA", ".": "DOT", "/": "SLASH", " ": "SPACE", "\n": "ENTER",
              "\t": "TAB"}
_SHIFTED = {"!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8",
            "(": "9", ")": "0", "_": "MINUS", "+": "EQUAL", "{": "LEFTBRACE",
            "}": "RIGHTBRACE", ":": "SEMICOLON", '"': "APOSTROPHE", "~": "GRAVE",
            "|": "BACKSLASH", "<": "COMMA", ">": "DOT", "?": "SLASH"}


def _us_layout() -> dict[str, tuple[int, bool]]:
    """Character → (key code, shift) on a US keyboard."""
    layout: dict[str, tuple[int, bool]] = {}
    for c in "abcdefghijklmnopqrstuvwxyz":
        layout[c] = (KEY_CODES[f"KEY_{c.upper()}"], False)
        layout[c.upper()] = (KEY_CODES[f"KEY_{c.upper()}"], True)
    for d in "0123456789":
        layout[d] = (KEY_CODES[f"KEY_{d}"], False)
    for c, key in _UNSHIFTED.items():
        layout[c] = (KEY_CODES[f"KEY_{key}"], False)
    for c, key in _SHIFTED.items():
        layout[c] = (KEY_CODES[f"KEY_{key}"], True)
    return layout


US_LAYOUT = _us_layout()


@dataclass(frozen=True)
class Event:
    """One ``struct input_event`` (the time is the kernel's)."""

    type: int
    code: int
    value: int


@dataclass(frozen=True)
class Pause:
    """Wait this long before the next event (a finger held, a swipe's pace)."""

    seconds: float


Step = Event | Pause
SYN = Event(EV_SYN, SYN_REPORT, 0)


class Untypable(InvalidArguments):
    """The virtual keyboard (US layout) has no key for a character."""


def tap(x: int, y: int, tracking_id: int, hold_s: float = TAP_HOLD_S) -> list[Step]:
    return [*_down(x, y, tracking_id), Pause(hold_s), *_up()]


def swipe(start: tuple[int, int], end: tuple[int, int], tracking_id: int,
          duration_s: float = 0.3, steps: int = SWIPE_STEPS) -> list[Step]:
    """Down at ``start``, ``steps`` moves in a straight line, up at ``end``."""
    out: list[Step] = list(_down(*start, tracking_id))
    pause = Pause(duration_s / steps)
    for i in range(1, steps + 1):
        x = round(start[0] + (end[0] - start[0]) * i / steps)
        y = round(start[1] + (end[1] - start[1]) * i / steps)
        out += [pause, Event(EV_ABS, ABS_MT_POSITION_X, x), Event(EV_ABS, ABS_MT_POSITION_Y, y),
                Event(EV_ABS, ABS_X, x), Event(EV_ABS, ABS_Y, y), SYN]
    return out + _up()


def key(name: str) -> list[Step]:
    """A catalogue key name ("back", "volume_up") pressed and released."""
    try:
        code = KEY_CODES[NAMED_KEYS[name]]
    except KeyError:
        raise InvalidArguments(f"input.key: no key named {name!r}; keys: "
                               f"{', '.join(NAMED_KEYS)}") from None
    return _press(code, shift=False)


def type_text(text: str) -> list[Step]:
    """Every character of ``text``; ``Untypable`` before anything when one has no key."""
    missing = sorted({c for c in text if c not in US_LAYOUT})
    if missing:
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in missing[:5])
        raise Untypable(f"input.type: the virtual keyboard (US layout) cannot type {shown}")
    out: list[Step] = []
    for c in text:
        out += _press(*US_LAYOUT[c])
    return out


def _press(code: int, shift: bool) -> list[Step]:
    shift_code = KEY_CODES["KEY_LEFTSHIFT"]
    out: list[Step] = [Event(EV_KEY, shift_code, 1), SYN] if shift else []
    out += [Event(EV_KEY, code, 1), SYN, Pause(KEY_HOLD_S), Event(EV_KEY, code, 0), SYN]
    if shift:
        out += [Event(EV_KEY, shift_code, 0), SYN]
    return out


def _down(x: int, y: int, tracking_id: int) -> list[Event]:
    return [Event(EV_ABS, ABS_MT_SLOT, 0), Event(EV_ABS, ABS_MT_TRACKING_ID, tracking_id),
            Event(EV_ABS, ABS_MT_POSITION_X, x), Event(EV_ABS, ABS_MT_POSITION_Y, y),
            Event(EV_KEY, BTN_TOUCH, 1), Event(EV_ABS, ABS_X, x), Event(EV_ABS, ABS_Y, y),
            SYN]


def _up() -> list[Event]:
    return [Event(EV_ABS, ABS_MT_TRACKING_ID, -1), Event(EV_KEY, BTN_TOUCH, 0), SYN]


def keyboard_keys() -> list[int]:
    """Every key the virtual keyboard declares."""
    return sorted(set(KEY_CODES.values()))
