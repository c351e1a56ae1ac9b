"""A headless desktop for tests and benches: phoc (wlroots, headless), the AT-SPI2 bus, and
GTK 3 apps from ``tests/support`` run with the system Python.

Context managers over an environment dict (the private session bus's), so pytest
fixtures and ``bench/`` share them::

    with headless_phoc(env, root), accessibility_bus(env, root), \\
            gtk_app(env, root, "a11y_app.py", str(marker)):
        ...
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from testkit.bus import name_has_owner

SUPPORT = Path(__file__).resolve().parents[1] / "support"
SYSTEM_PYTHON = "/usr/bin/python3"
HEADLESS = {"WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1"}
AT_SPI_LAUNCHER = Path("/usr/libexec/at-spi-bus-launcher")
AT_SPI_REGISTRY = Path("/usr/libexec/at-spi2-registryd")


class DesktopMissing(RuntimeError):
    """A program the headless desktop needs is not installed; the message names packages."""


def check_desktop(accessibility: bool = False) -> None:
    missing = [f"{tool} (Debian: {pkg})" for tool, pkg in
               (("phoc", "phoc"), ("Xwayland", "xwayland"), ("gdbus", "libglib2.0-bin"))
               if shutil.which(tool) is None]
    gtk = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('Gtk', '3.0')"],
                         capture_output=True, check=False).returncode == 0
    if not gtk:
        missing.append("GTK 3 for python3 (Debian: python3-gi gir1.2-gtk-3.0)")
    if accessibility:
        missing += [f"{path} (Debian: at-spi2-core)" for path in
                    (AT_SPI_LAUNCHER, AT_SPI_REGISTRY) if not path.exists()]
        if not any(Path("/usr/lib").glob("*/libatk-bridge-2.0.so.0")):
            missing.append("the GTK 3 AT-SPI bridge (Debian: libatk-bridge2.0-0)")
    if missing:
        raise DesktopMissing("missing " + "; ".join(missing)
                             + ": apt install phoc xwayland python3-gi gir1.2-gtk-3.0 "
                             + ("at-spi2-core libatk-bridge2.0-0 " if accessibility else "")
                             + "(scripts/debian-deps.sh)")


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen in {timeout:.0f} s")
        time.sleep(0.05)


@contextmanager
def headless_phoc(env: dict[str, str], root: Path) -> Iterator[None]:
    """phoc on a private runtime dir; sets XDG_RUNTIME_DIR and WAYLAND_DISPLAY in ``env``."""
    runtime = root / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.update({"XDG_RUNTIME_DIR": str(runtime), "WAYLAND_DISPLAY": "wayland-0"})
    with open(root / "phoc.log", "w") as log:
        phoc = subprocess.Popen(["phoc"], env={**env, **HEADLESS}, stdout=log, stderr=log,
                                start_new_session=True)
        try:
            _wait(lambda: (runtime / "wayland-0").exists(), 20, "phoc's Wayland socket")
            yield
        finally:
            os.killpg(phoc.pid, signal.SIGTERM)
            phoc.wait(timeout=10)


@contextmanager
def accessibility_bus(env: dict[str, str], root: Path) -> Iterator[None]:
    """at-spi-bus-launcher on the session bus in ``env``: it owns org.a11y.Bus and starts
    the accessibility bus, where the registry (at-spi2-registryd) is bus-activated."""
    with open(root / "at-spi.log", "w") as log:
        launcher = subprocess.Popen([str(AT_SPI_LAUNCHER), "--launch-immediately"], env=env,
                                    stdout=log, stderr=log, start_new_session=True)
        try:
            _wait(lambda: name_has_owner(env, "org.a11y.Bus"), 20, "org.a11y.Bus on the bus")
            yield
        finally:
            os.killpg(launcher.pid, signal.SIGTERM)  # the launcher, its bus, the registry
            launcher.wait(timeout=10)




@contextmanager
def gtk_app(env: dict[str, str], root: Path, script: str, *args: str,
            timeout: float = 30) -> Iterator[subprocess.Popen[str]]:
    """A GTK 3 app from tests/support on phoc, once it printed "ready"."""
    with open(root / f"{script}.log", "w") as log:
        app = subprocess.Popen([SYSTEM_PYTHON, str(SUPPORT / script), *args],
                               env={**env, "GDK_BACKEND": "wayland"}, stdout=subprocess.PIPE,
                               stderr=log, text=True)
        try:
            assert app.stdout is not None
            ready, _, _ = select.select([app.stdout], [], [], timeout)
            line = app.stdout.readline().strip() if ready else ""
            if line != "ready":
                raise TimeoutError(f"{script} did not get ready: "
                                   f"{(root / f'{script}.log').read_text()}")
            yield app
        finally:
            app.terminate()
            app.wait(timeout=10)
