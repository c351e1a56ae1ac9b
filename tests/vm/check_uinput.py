"""In-image check of the uinput input backend: the devices it creates and the events the
kernel hands to readers (the compositor's libinput among them).

Needs /dev/uinput (the image loads the module and its udev rule gives it to the seat's
user) and read access to /dev/input/event* (root, or the phone user through the same
uaccess ACLs), so it runs in the VM, not on the build host: the image's check unit runs

    python3 tests/vm/check_uinput.py      # or from /usr/share/agentd-image/

and gets exit status 0 (every check passed) or 1, one "PASS name" / "FAIL name: why" line
per check. Not collected by pytest (no test_ prefix): on a host without /dev/uinput every
check would fail.

What it does: taps near the left edge, middle height (harmless on phosh's home screen),
presses volume down then up, and types "Az!" wherever the focus is; for each, reads the
events back from the new /dev/input/eventN and compares them with ``encode``'s, less the
events the kernel drops because they change nothing (an axis set to its current value,
a frame with no event).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

from agentd.adapters.input import encode
from agentd.adapters.input.uinput import KEYBOARD_NAME, TOUCH_NAME, UinputInput, event_node

READ_S = 2.0


def kernel_view(steps: list[encode.Step], state: dict[tuple[int, int], int]
                ) -> list[tuple[int, int, int]]:
    """The events a reader gets for ``steps``: unchanged values and empty frames dropped."""
    out: list[tuple[int, int, int]] = []
    frame = 0
    for step in steps:
        if isinstance(step, encode.Pause):
            continue
        if step.type == encode.EV_SYN:
            if frame:
                out.append((step.type, step.code, step.value))
            frame = 0
            continue
        key = (step.type, step.code)
        if state.get(key, -1 if step.code == encode.ABS_MT_TRACKING_ID else 0) == step.value:
            continue
        state[key] = step.value
        out.append((step.type, step.code, step.value))
        frame += 1
    return out


def find_device(name: str) -> Any:
    """The newest device called ``name``: this check's own (the running agentd has made a
    touchscreen of the same name at its start)."""
    import evdev
    node = event_node(name)
    if node is None:
        raise LookupError(f"no /dev/input/event* named {name!r}")
    return evdev.InputDevice(node)


async def read_events(device: Any, seconds: float) -> list[tuple[int, int, int]]:
    events: list[tuple[int, int, int]] = []

    async def pump() -> None:
        async for event in device.async_read_loop():
            events.append((event.type, event.code, event.value))

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(pump(), seconds)
    return events


async def run() -> list[tuple[str, str | None]]:
    results: list[tuple[str, str | None]] = []

    def check(name: str, ok: bool, why: str = "") -> None:
        results.append((name, None if ok else why or "failed"))

    backend = UinputInput()
    state = await backend.availability()
    check("available", state.ok, state.reason)
    if not state.ok:
        return results
    size, source = backend.screen_size()
    check("screen size known", size is not None, source)
    if size is None:
        return results
    width, height = size

    # The touchscreen: created on the first tap; read the second one back.
    await backend.tap_point(1, height // 2)
    touch = find_device(TOUCH_NAME)
    caps = touch.capabilities(absinfo=True)
    absinfo = dict(caps.get(encode.EV_ABS, []))
    check("touchscreen is direct (INPUT_PROP_DIRECT)",
          encode.INPUT_PROP_DIRECT in touch.input_props(), str(touch.input_props()))
    for axis, top in ((encode.ABS_MT_POSITION_X, width - 1),
                      (encode.ABS_MT_POSITION_Y, height - 1),
                      (encode.ABS_X, width - 1), (encode.ABS_Y, height - 1)):
        info = absinfo.get(axis)
        check(f"axis {axis} spans the screen", info is not None and (info.min, info.max)
              == (0, top), str(info))
    x, y = 2, height // 2 + 1
    reader = asyncio.create_task(read_events(touch, READ_S))
    await asyncio.sleep(0.2)
    await backend.tap_point(x, y)
    got = await reader
    # What the kernel already holds after the first tap: contact lifted, axes at (1, h/2).
    held = {(encode.EV_ABS, encode.ABS_MT_POSITION_X): 1,
            (encode.EV_ABS, encode.ABS_MT_POSITION_Y): height // 2,
            (encode.EV_ABS, encode.ABS_X): 1, (encode.EV_ABS, encode.ABS_Y): height // 2}
    want = kernel_view(encode.tap(x, y, 2), held)
    check("tap events reach readers as encoded", got == want, f"got {got}, want {want}")

    # The keyboard: volume keys and typed text.
    await backend.press_key("volume_down")
    keyboard = find_device(KEYBOARD_NAME)
    reader = asyncio.create_task(read_events(keyboard, READ_S))
    await asyncio.sleep(0.2)
    await backend.press_key("volume_up")
    await backend.type_text("Az!")
    got = [e for e in await reader if e[0] != 4]  # EV_MSC scan codes, if any
    want = kernel_view(encode.key("volume_up") + encode.type_text("Az!"), {})
    check("key and text events reach readers as encoded", got == want,
          f"got {got}, want {want}")
    touch_node = touch.path
    await backend.stop()
    time.sleep(0.2)
    still = [node for node in (touch_node,) if event_node(TOUCH_NAME) == node]
    check("devices removed on stop", not still, f"{still} is still there")
    return results


def main() -> int:
    results = asyncio.run(run())
    for name, why in results:
        print(f"PASS {name}" if why is None else f"FAIL {name}: {why}", flush=True)
    return 0 if results and all(why is None for _, why in results) else 1


if __name__ == "__main__":
    sys.exit(main())
