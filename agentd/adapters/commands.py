"""Running a system tool (gsettings, wpctl, pactl) from a backend: no stdin, output and
errors together, killed after a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping


async def run_command(argv: list[str], env: Mapping[str, str],
                      timeout: float) -> tuple[int, str] | None:
    """(exit status, output), or None when the tool did not finish in ``timeout`` s."""
    process = await asyncio.create_subprocess_exec(
        *argv, env=dict(env), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None
    return process.returncode or 0, out.decode(errors="replace")
