"""screen.capture: a screenshot saved under Pictures/Screenshots."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
from collections.abc import Mapping
from pathlib import Path

from PIL import Image

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.files.folders import read_user_dirs
from agentd.adapters.screen import SCREEN_CAPABILITY
from agentd.errors import Unavailable
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult


def screenshots_dir(env: Mapping[str, str] = os.environ) -> Path:
    home = Path(env.get("HOME") or Path.home())
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    pictures = read_user_dirs(home, config_home).get("pictures")
    if pictures is None:
        raise Unavailable("your Pictures folder is disabled in user-dirs.dirs; "
                          "screenshots go to Pictures/Screenshots")
    return pictures / "Screenshots"


def save_screenshot(png: bytes, folder: Path, now: dt.datetime) -> tuple[Path, int, int]:
    """Decode (which checks it), encode again as PNG; never overwrite. Path and size."""
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"Screenshot from {now.strftime('%Y-%m-%d %H-%M-%S')}"
        path, n = folder / f"{stem}.png", 2
        while path.exists():
            path, n = folder / f"{stem} ({n}).png", n + 1
        image.save(path, format="PNG", compress_level=1)
        return path, image.width, image.height


def install_screen_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def capture(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        screen = await adapters.select(SCREEN_CAPABILITY)
        png = await asyncio.to_thread(screen.capture_png)
        path, width, height = await asyncio.to_thread(
            save_screenshot, png, screenshots_dir(), dt.datetime.now())
        return ToolResult(f"Saved a screenshot to {path}.",
                          {"path": str(path), "width": width, "height": height})

    tools.implement("screen.capture", capture)
