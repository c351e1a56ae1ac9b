"""Backend "uinput": a virtual touchscreen and keyboard through python-evdev.

The events come from ``encode`` (pure, tested on its own); this module only opens the
devices and writes them. The touchscreen is multitouch (``ABS_MT_*``, protocol B) with
``INPUT_PROP_DIRECT``, so the compositor maps it onto the screen; its axes span the
screen's size in pixels, so a point of a screenshot is a point of the touchscreen.

Screen size: given explicitly, else the first mode of the connected panel in
``/sys/class/drm/card*-*/modes`` (DSI/eDP/LVDS first): the native size of the panel.
A screen the compositor rotates by 90° needs the size given explicitly.

Where agentd may not open ``/dev/uinput`` itself (the phone image keeps it root's), the
devices come from the uinput broker (``broker.py``, a system service that makes them
for agentd alone and passes their file descriptors).

Devices are created on first use and kept open until agentd stops. Events written before
the compositor has opened a new device are lost, so the first events wait until another
process has the device's event node open (the compositor's libinput, through logind; at
most ``OPEN_TIMEOUT_S``), then ``SETTLE_S`` more.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentd.adapters.base import Availability
from agentd.adapters.input import CAPABILITY, Operation, encode
from agentd.adapters.input.broker import opened_elsewhere as broker_opened_elsewhere
from agentd.adapters.input.broker import request_device
from agentd.errors import AgentError, InvalidArguments, Unavailable

log = logging.getLogger(__name__)

UINPUT = Path("/dev/uinput")
BROKER_SOCKET = Path("/run/agentd-uinput.sock")
DRM = Path("/sys/class/drm")
SETTLE_S = 0.3
OPEN_TIMEOUT_S = 8.0  # under emulation (QEMU TCG) libinput takes seconds to add a device
TOUCH_NAME = "agentd touchscreen"
KEYBOARD_NAME = "agentd keyboard"
INTERNAL_PANELS = ("DSI", "eDP", "LVDS")


def touch_capabilities(size: tuple[int, int]) -> Any:
    """The multitouch touchscreen's axes, spanning the screen in pixels."""
    from evdev import AbsInfo

    def axis(maximum: int) -> Any:
        return AbsInfo(value=0, min=0, max=maximum, fuzz=0, flat=0, resolution=0)

    width, height = size
    return {encode.EV_KEY: [encode.BTN_TOUCH],
            encode.EV_ABS: [(encode.ABS_X, axis(width - 1)),
                            (encode.ABS_Y, axis(height - 1)),
                            (encode.ABS_MT_SLOT, axis(9)),
                            (encode.ABS_MT_POSITION_X, axis(width - 1)),
                            (encode.ABS_MT_POSITION_Y, axis(height - 1)),
                            (encode.ABS_MT_TRACKING_ID, axis(65535))]}


def drm_screen_size(drm: Path = DRM) -> tuple[int, int] | None:
    """The first (preferred) mode of a connected connector, the internal panel first."""
    connectors = []
    for status in sorted(drm.glob("card*-*/status")):
        try:
            if status.read_text().strip() != "connected":
                continue
            first = status.with_name("modes").read_text().splitlines()[:1]
        except OSError:
            continue
        match = re.fullmatch(r"(\d+)x(\d+)\w*", first[0].strip()) if first else None
        if match:
            internal = any(k in status.parent.name for k in INTERNAL_PANELS)
            connectors.append((not internal, int(match[1]), int(match[2])))
    if not connectors:
        return None
    _, width, height = min(connectors, key=lambda c: c[0])
    return width, height


def opened_elsewhere(node: str, proc: Path = Path("/proc"), also_not: int = 0) -> bool:
    """Whether a process other than this one (and ``also_not``) has ``node`` open
    (readable /proc entries only: the compositor runs as the same user, or passes logind's
    fd on to it; in agentd's unit none are, and the broker looks instead:
    ``broker.opened_elsewhere``)."""
    me = {str(os.getpid()), str(also_not)}
    for pid in proc.iterdir():
        if not pid.name.isdigit() or pid.name in me:
            continue
        try:
            fds = list((pid / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == node:
                    return True
            except OSError:
                continue
    return False


def event_node(name: str, sysfs: Path = Path("/sys/class/input")) -> str | None:
    """The /dev/input/eventN node of the input device called ``name`` (newest first)."""
    found = []
    for event in sysfs.glob("event*"):
        try:
            if (event / "device" / "name").read_text().strip() == name:
                found.append(int(event.name.removeprefix("event")))
        except (OSError, ValueError):
            continue
    return f"/dev/input/event{max(found)}" if found else None


async def _until_opened(device: Any, name: str,
                        opened: Callable[[str], bool] = opened_elsewhere) -> None:
    node = getattr(getattr(device, "device", None), "path", None) or event_node(name)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + OPEN_TIMEOUT_S
    while node and loop.time() < deadline:
        if await asyncio.to_thread(opened, node):
            break
        await asyncio.sleep(0.05)
    else:
        log.warning("no compositor opened %s within %.0f s; its first events may be lost",
                    node or "the new device", OPEN_TIMEOUT_S)
    await asyncio.sleep(SETTLE_S)


class UinputInput:
    name = "uinput"
    capability = CAPABILITY
    test = False
    operations = frozenset({Operation.TAP_POINT, Operation.SWIPE, Operation.TYPE,
                            Operation.KEY})

    def __init__(self, size: tuple[int, int] | None = None, device: Path = UINPUT,
                 drm: Path = DRM, broker: Path = BROKER_SOCKET) -> None:
        self._size, self._device, self._drm = size, device, drm
        self._broker = broker
        self._touch: Any = None  # evdev.UInput
        self._keyboard: Any = None
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._early: asyncio.Task[None] | None = None

    def why_not(self) -> str | None:
        if importlib.util.find_spec("evdev") is None:
            return "python-evdev is not installed (pip: evdev)"
        if not self._device.exists():
            return (f"no {self._device}: the kernel has no uinput here "
                    "(CONFIG_INPUT_UINPUT; `modprobe uinput`)")
        if not self._direct() and not self._broker.exists():
            return (f"{self._device} is not writable by this user, and there is no uinput "
                    f"broker at {self._broker} (the package's agentd-uinput.socket)")
        return None

    def _direct(self) -> bool:
        """Whether agentd opens /dev/uinput itself (a development machine, root); on the
        phone only the broker does, for agentd alone."""
        return os.access(self._device, os.R_OK | os.W_OK)

    def screen_size(self) -> tuple[tuple[int, int] | None, str]:
        if self._size is not None:
            return self._size, "given"
        size = drm_screen_size(self._drm)
        return size, (f"from {self._drm}" if size else f"unknown: no connected screen in "
                      f"{self._drm}")

    async def availability(self) -> Availability:
        why = self.why_not()
        if why:
            return Availability.no(why)
        size, source = self.screen_size()
        touch = f"touchscreen {size[0]}x{size[1]} ({source})" if size else \
            f"no touchscreen: screen size {source}"
        where = self._device if self._direct() else f"{self._device} through {self._broker}"
        return Availability.yes(f"{where}: keyboard (US layout); {touch}")

    # -- the capability ------------------------------------------------------------------

    async def tap_point(self, x: int, y: int) -> None:
        size = self._on_screen("input.tap", (x, y))
        await self._play(await self._touchscreen(size), encode.tap(x, y, next(self._ids)))

    async def swipe(self, start: tuple[int, int], end: tuple[int, int],
                    duration_s: float = 0.3) -> None:
        size = self._on_screen("swipe", start, end)
        await self._play(await self._touchscreen(size),
                         encode.swipe(start, end, next(self._ids), duration_s))

    async def type_text(self, text: str) -> str:
        steps = encode.type_text(text)  # Untypable before a device is touched
        await self._play(await self._keyboard_device(), steps)
        return "the focused field (virtual keyboard)"

    async def press_key(self, key: str) -> None:
        steps = encode.key(key)
        await self._play(await self._keyboard_device(), steps)

    async def tap_target(self, target: str) -> str:
        raise Unavailable("uinput taps points; widgets by name need accessibility")

    async def start(self, bus: Any) -> None:
        """Make the touchscreen now, where this machine can: the compositor tells apps about
        touch only while a touch device exists, and an app started before it gets no touch
        events (wlroots: "could not create touch point"), so a first tap would be lost.
        The keyboard stays lazy: a keyboard device makes a phone shell hide its on-screen
        keyboard."""
        size = self.screen_size()[0]
        if self.why_not() is None and size is not None:
            self._early = asyncio.create_task(self._early_touchscreen(size))

    async def _early_touchscreen(self, size: tuple[int, int]) -> None:
        try:
            await self._touchscreen(size)
        except AgentError as exc:
            log.warning("no virtual touchscreen at start: %s", exc)

    async def stop(self) -> None:
        if self._early is not None:
            self._early.cancel()
        for device in (self._touch, self._keyboard):
            if device is not None:
                device.close()
        self._touch = self._keyboard = None

    # -- devices -------------------------------------------------------------------------

    def _on_screen(self, what: str, *points: tuple[int, int]) -> tuple[int, int]:
        """The screen size; ``InvalidArguments`` for a point outside it."""
        size, source = self.screen_size()
        if size is None:
            raise Unavailable(f"the screen size is {source}; agentd cannot place a touch")
        for x, y in points:
            if not (0 <= x < size[0] and 0 <= y < size[1]):
                raise InvalidArguments(f"{what}: ({x}, {y}) is outside the screen "
                                       f"({size[0]}x{size[1]})")
        return size

    async def _touchscreen(self, size: tuple[int, int]) -> Any:
        async with self._lock:
            if self._touch is None:
                self._touch = self._create(touch_capabilities(size), TOUCH_NAME,
                                           [encode.INPUT_PROP_DIRECT], size)
                await _until_opened(self._touch, TOUCH_NAME, self._opened)
        return self._touch

    async def _keyboard_device(self) -> Any:
        async with self._lock:
            if self._keyboard is None:
                self._keyboard = self._create({encode.EV_KEY: encode.keyboard_keys()},
                                              KEYBOARD_NAME, [])
                await _until_opened(self._keyboard, KEYBOARD_NAME, self._opened)
        return self._keyboard

    def _opened(self, node: str) -> bool:
        """Whether the compositor has opened ``node``; the broker's devices: the broker
        looks (in agentd's unit, other processes' /proc/PID/fd are closed to agentd)."""
        if self._direct():
            return opened_elsewhere(node)
        return broker_opened_elsewhere(node, self._broker)

    def _create(self, events: dict[int, Any], name: str, props: list[int],
                size: tuple[int, int] | None = None) -> Any:
        why = self.why_not()
        if why:
            raise Unavailable(why)
        if not self._direct():  # the image: /dev/uinput is root's, the broker's
            return request_device("keyboard" if name == KEYBOARD_NAME else "touchscreen",
                                  size, self._broker)
        from evdev import UInput, UInputError
        try:
            return UInput(events=events, name=name, devnode=str(self._device),
                          input_props=props)
        except (OSError, UInputError) as exc:
            raise AgentError(f"cannot create the {name} on {self._device}: {exc}") from None

    @staticmethod
    async def _play(device: Any, steps: list[encode.Step]) -> None:
        for step in steps:
            if isinstance(step, encode.Pause):
                await asyncio.sleep(step.seconds)
            else:
                device.write(step.type, step.code, step.value)
