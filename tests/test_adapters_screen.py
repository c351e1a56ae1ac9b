"""screen.capture through grim in a headless phoc (wlroots), with a GTK window of a known
colour on screen: the saved screenshot must show that colour."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image
from testkit.bus import Bus, Daemon, name_has_owner, wait_for
from testkit.desktop import HEADLESS as PHOC_HEADLESS
from testkit.desktop import gtk_app

pytestmark = pytest.mark.services

SUPPORT = Path(__file__).parent / "support"
HEADLESS = {"WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1"}
COLOUR = (0xE0, 0x30, 0x90)
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture
def compositor(bus: Bus) -> Iterator[None]:
    """phoc on a private runtime dir with a GTK window painted COLOUR."""
    missing = [t for t in ("phoc", "Xwayland", "grim") if shutil.which(t) is None]
    gtk = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('Gtk', '3.0')"],
                         capture_output=True, check=False).returncode == 0
    if missing or not gtk:
        pytest.fail(f"missing {', '.join(missing + ([] if gtk else ['GTK 3 for python3']))}: "
                    "apt install phoc xwayland grim python3-gi gir1.2-gtk-3.0 "
                    "(scripts/debian-deps.sh)")
    runtime = bus.root / "run"
    runtime.mkdir(mode=0o700)
    home = bus.root / "home"
    (home / "Pictures").mkdir(parents=True)
    bus.env.update({"XDG_RUNTIME_DIR": str(runtime), "WAYLAND_DISPLAY": "wayland-0",
                    "HOME": str(home)})
    log = open(bus.root / "phoc.log", "w")  # noqa: SIM115 (closed below)
    phoc = subprocess.Popen(["phoc"], env={**bus.env, **HEADLESS}, stdout=log, stderr=log,
                            start_new_session=True)
    window: subprocess.Popen[str] | None = None
    try:
        wait_for(lambda: (runtime / "wayland-0").exists(), timeout=20)
        window = subprocess.Popen(
            [SYSTEM_PYTHON, str(SUPPORT / "color_window.py"), bytes(COLOUR).hex()],
            env={**bus.env, "GDK_BACKEND": "wayland"}, stdout=subprocess.PIPE, stderr=log,
            text=True)
        assert window.stdout is not None and window.stdout.readline().strip() == "ready", \
            (bus.root / "phoc.log").read_text()
        yield
    finally:
        if window is not None:
            window.terminate()
            window.wait(timeout=10)
        os.killpg(phoc.pid, signal.SIGTERM)
        phoc.wait(timeout=10)
        log.close()


def test_capture_shows_the_window(bus: Bus, compositor: None) -> None:
    daemon = Daemon(bus).start()
    try:
        out = bus.agentctl("ask", "--json", "take a screenshot")
        task = json.loads(out.stdout)
        assert task["state"] == "done", task
        path = Path(task["reply"].removeprefix("Saved a screenshot to ").rstrip("."))
        assert path.parent == Path(bus.env["HOME"]) / "Pictures" / "Screenshots"
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size == (1280, 720)
            rgb = image.convert("RGB")
            assert rgb.getpixel((640, 400)) == COLOUR
            assert rgb.getpixel((1000, 600)) == COLOUR
        rows = json.loads(bus.agentctl("doctor", "--json").stdout)
        row = next(r for r in rows if r["capability"] == "screen" and r["selected"])
        assert row["backend"] == "grim", row
    finally:
        daemon.kill(signal.SIGTERM)


def test_no_wayland_session(bus: Bus, daemon: Daemon) -> None:
    task = json.loads(bus.agentctl("ask", "--json", "take a screenshot").stdout)
    (step,) = task["steps"]
    assert step["error"].startswith("io.agentd.Error.Unavailable: no screen backend works "
                                    "here (grim: ")


# -- a phone-sized desktop: the xdg-desktop-portal Screenshot backend ----------------------

PHONE_MODE = "720x1440"
PORTAL = Path("/usr/libexec/xdg-desktop-portal")
PORTAL_WLR = Path("/usr/libexec/xdg-desktop-portal-wlr")
PORTAL_GTK = Path("/usr/libexec/xdg-desktop-portal-gtk")
PERMISSION_STORE = Path("/usr/libexec/xdg-permission-store")


def portal_missing() -> list[str]:
    """What the portal desktop lacks, as Debian packages."""
    needs = {"phoc": "phoc", "Xwayland": "xwayland", "grim": "grim",
             "pipewire": "pipewire-bin"}
    missing = [pkg for tool, pkg in needs.items() if shutil.which(tool) is None]
    missing += [pkg for path, pkg in ((PORTAL, "xdg-desktop-portal"),
                                      (PERMISSION_STORE, "xdg-desktop-portal"),
                                      (PORTAL_WLR, "xdg-desktop-portal-wlr"),
                                      (PORTAL_GTK, "xdg-desktop-portal-gtk"))
                if not path.exists()]
    return sorted(set(missing))


@contextmanager
def phone_desktop(env: dict[str, str], root: Path, portal: bool = True) -> Iterator[None]:
    """phoc at 720x1440 (its ``-C`` config) and, with ``portal``, xdg-desktop-portal with
    the -wlr backend (Screenshot, through grim; it needs PipeWire for ScreenCast) and the
    -gtk one (Access: 1.16 offers Screenshot only with it). Sets the session's variables in
    ``env``; the bench uses it too."""
    runtime = root / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    config = root / "phoc.ini"
    config.write_text(f"[output:HEADLESS-1]\nmode = {PHONE_MODE}\n")
    env.update({"XDG_RUNTIME_DIR": str(runtime), "WAYLAND_DISPLAY": "wayland-0",
                "XDG_CURRENT_DESKTOP": "phosh"})
    log = open(root / "desktop.log", "w")  # noqa: SIM115 (closed below)
    started: list[subprocess.Popen[bytes]] = []

    def start(*argv: str, **extra: str) -> None:
        started.append(subprocess.Popen(argv, env={**env, **extra}, stdout=log, stderr=log,
                                        start_new_session=True))

    try:
        start("phoc", "-C", str(config), **PHOC_HEADLESS)
        wait_for(lambda: (runtime / "wayland-0").exists(), timeout=20)
        if portal:
            start("pipewire")
            wait_for(lambda: (runtime / "pipewire-0").exists(), timeout=15)
            start(str(PERMISSION_STORE))
            start(str(PORTAL_WLR))
            start(str(PORTAL_GTK), GDK_BACKEND="wayland")
            wait_for(lambda: all(name_has_owner(env, name) for name in (
                "org.freedesktop.impl.portal.desktop.wlr",
                "org.freedesktop.impl.portal.desktop.gtk",
                "org.freedesktop.impl.portal.PermissionStore")), timeout=20)
            start(str(PORTAL))
            wait_for(lambda: name_has_owner(env, "org.freedesktop.portal.Desktop"), timeout=20)
        yield
    finally:
        for process in reversed(started):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        log.close()




@pytest.fixture
def portal_desktop(bus: Bus) -> Iterator[None]:
    missing = portal_missing()
    if missing:
        pytest.fail(f"missing for the portal test: apt install {' '.join(missing)}")
    home = bus.root / "home"
    (home / "Pictures").mkdir(parents=True)
    bus.env["HOME"] = str(home)
    with phone_desktop(bus.env, bus.root), \
            gtk_app(bus.env, bus.root, "color_window.py", bytes(COLOUR).hex()):
        yield


def test_capture_through_the_portal(bus: Bus, portal_desktop: None) -> None:
    """agentd without WAYLAND_DISPLAY (as a user service may be): grim cannot work, the
    portal can; the screenshot is the phone-sized screen with the window on it."""
    daemon = Daemon(bus, {"WAYLAND_DISPLAY": ""}).start()
    try:
        task = json.loads(bus.agentctl("ask", "--json", "take a screenshot").stdout)
        assert task["state"] == "done", (task, daemon.logs())
        path = Path(task["reply"].removeprefix("Saved a screenshot to ").rstrip("."))
        with Image.open(path) as image:
            assert image.size == (720, 1440)
            assert image.convert("RGB").getpixel((360, 300)) == COLOUR
        assert not Path("/tmp/out.png").exists()  # the portal's file was handed over
        rows = [r for r in json.loads(bus.agentctl("doctor", "--json").stdout)
                if r["capability"] == "screen"]
        assert [(r["backend"], r["available"], r["selected"]) for r in rows] == [
            ("grim", False, False), ("portal", True, True), ("fb0", False, False)], rows
        assert rows[1]["reason"].startswith("xdg-desktop-portal Screenshot version ")
    finally:
        daemon.kill(signal.SIGTERM)


def test_no_portal_on_the_session_bus(bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentd.adapters.screen.portal import PortalScreen

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    state = asyncio.run(PortalScreen().availability())
    assert not state.ok
    assert state.reason.startswith("no xdg-desktop-portal Screenshot on the session bus ("), \
        state
    assert "org.freedesktop.DBus.Error.ServiceUnknown" in state.reason, state


# -- /dev/fb0: the layout of the kernel's files, in a temporary tree ------------------------


def framebuffer(root: Path, width: int, height: int, bpp: int, stride: int, pixel: bytes,
                virtual_height: int | None = None, modes: str = "") -> Path:
    """A sysfs ``graphics/fb0`` and a device file of that layout filled with ``pixel``,
    with a red first pixel and a stride's padding of 0xAA."""
    fb = root / "class" / "graphics" / "fb0"
    fb.mkdir(parents=True)
    (fb / "virtual_size").write_text(f"{width},{virtual_height or height}\n")
    (fb / "bits_per_pixel").write_text(f"{bpp}\n")
    (fb / "stride").write_text(f"{stride}\n")
    if modes:
        (fb / "modes").write_text(modes)
    red = {32: bytes([0, 0, 255, 0]), 24: bytes([0, 0, 255]), 16: bytes([0x00, 0xF8])}[bpp]
    row = pixel * width
    rows = [red + pixel * (width - 1)] + [row] * ((virtual_height or height) - 1)
    device = root / "fb0"
    device.write_bytes(b"".join(r + b"\xaa" * (stride - len(r)) for r in rows))
    return device


@pytest.mark.parametrize(("bpp", "pixel", "colour"), [
    (32, bytes([0x90, 0x30, 0xE0, 0xFF]), (0xE0, 0x30, 0x90)),  # XRGB8888, little-endian
    (24, bytes([0x90, 0x30, 0xE0]), (0xE0, 0x30, 0x90)),
    (16, (0xE186).to_bytes(2, "little"), (230, 48, 49)),  # RGB565 28/31, 12/63, 6/31
])
def test_framebuffer_conversion(tmp_path: Path, bpp: int, pixel: bytes,
                                colour: tuple[int, int, int]) -> None:
    from agentd.adapters.screen.framebuffer import FramebufferScreen

    width, height = 72, 144
    stride = width * bpp // 8 + 16  # padded rows, as many drivers have
    device = framebuffer(tmp_path, width, height, bpp, stride, pixel)
    screen = FramebufferScreen(tmp_path, device)
    state = asyncio.run(screen.availability())
    assert state.ok and state.reason == f"{device}: 72x144, {bpp} bpp", state
    with Image.open(io.BytesIO(screen.capture_png())) as image:
        assert image.format == "PNG" and image.size == (72, 144)
        rgb = image.convert("RGB")
        assert rgb.getpixel((0, 0)) == (255, 0, 0)
        assert rgb.getpixel((71, 143)) == colour  # no padding byte leaks in
        assert rgb.getpixel((40, 100)) == colour


def test_framebuffer_panned_and_unsupported(tmp_path: Path) -> None:
    from agentd.adapters.screen.framebuffer import FramebufferScreen

    double = tmp_path / "double"
    device = framebuffer(double, 72, 144, 32, 288, bytes([1, 2, 3, 0]), virtual_height=288,
                         modes="U:72x144p-0\n")
    with Image.open(io.BytesIO(FramebufferScreen(double, device).capture_png())) as image:
        assert image.size == (72, 144)  # the visible half of a double buffer
    odd = tmp_path / "odd"
    device = framebuffer(odd, 8, 8, 16, 16, bytes(2))
    (odd / "class" / "graphics" / "fb0" / "bits_per_pixel").write_text("8\n")
    state = asyncio.run(FramebufferScreen(odd, device).availability())
    assert state.reason == "the framebuffer has 8 bits per pixel; agentd reads 32, 24, 16"


def test_no_framebuffer_on_this_machine() -> None:
    from agentd.adapters.screen.framebuffer import FramebufferScreen

    state = asyncio.run(FramebufferScreen().availability())
    if not Path("/dev/fb0").exists():
        assert state.reason == "no framebuffer device /dev/fb0"
    else:
        assert state.ok or "not readable" in state.reason, state
