"""screen.capture through grim in a headless phoc (wlroots), with a GTK window of a known
colour on screen: the saved screenshot must show that colour."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Bus, Daemon, wait_for
from PIL import Image

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
        (row,) = [r for r in rows if r["capability"] == "screen"]
        assert row["backend"] == "grim" and row["selected"], row
    finally:
        daemon.kill(signal.SIGTERM)


def test_no_wayland_session(bus: Bus, daemon: Daemon) -> None:
    task = json.loads(bus.agentctl("ask", "--json", "take a screenshot").stdout)
    (step,) = task["steps"]
    assert step["error"].startswith("io.agentd.Error.Unavailable: no screen backend works "
                                    "here (grim: ")
