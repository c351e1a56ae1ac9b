"""Backend "grim": wlr-screencopy through grim (phoc, sway, cage and other wlroots).

The xdg-desktop-portal and ``/dev/fb0`` backends live beside this one (portal.py, framebuffer.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from agentd.adapters.base import Availability
from agentd.adapters.screen import CAPABILITY
from agentd.errors import AgentError, Unavailable

GRIM_TIMEOUT_S = 10


class GrimScreen:
    name = "grim"
    capability = CAPABILITY
    test = False

    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        self.env = env  # os.environ itself by default: the session may appear later

    def _why_not(self) -> str | None:
        if shutil.which("grim", path=self.env.get("PATH")) is None:
            return "grim is not installed (Debian: grim)"
        display = self.env.get("WAYLAND_DISPLAY")
        if not display:
            return "WAYLAND_DISPLAY is not set: agentd does not run in a Wayland session"
        socket = Path(display) if display.startswith("/") else Path(
            self.env.get("XDG_RUNTIME_DIR", "/nonexistent")) / display
        if not socket.exists():
            return f"no Wayland compositor at {socket}"
        return None

    async def availability(self) -> Availability:
        why = self._why_not()
        if why:
            return Availability.no(why)
        return Availability.yes(f"grim on {self.env.get('WAYLAND_DISPLAY')} "
                                "(needs wlr-screencopy: phoc, sway, cage)")

    def capture_png(self) -> bytes:
        why = self._why_not()
        if why:
            raise Unavailable(why)
        done = subprocess.run(["grim", "-t", "png", "-l", "1", "-"], capture_output=True,
                              env=dict(self.env), timeout=GRIM_TIMEOUT_S, check=False)
        if done.returncode != 0 or not done.stdout:
            raise AgentError("grim could not capture the screen: "
                             f"{done.stderr.decode(errors='replace').strip()}")
        return done.stdout
