"""Spoken output with espeak-ng: replies to the speaker, or speech to a WAV file."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess

from agentd.errors import Unavailable

log = logging.getLogger(__name__)
ESPEAK = "espeak-ng"
MAX_SPOKEN_CHARS = 600


def espeak_path() -> str:
    path = shutil.which(ESPEAK)
    if path is None:
        raise Unavailable("espeak-ng is not installed; `apt install espeak-ng` to hear "
                          "replies")
    return path


def synthesize_wav(text: str, voice: str = "en", words_per_minute: int = 175) -> bytes:
    """``text`` spoken by espeak-ng, as a WAV file (22.05 kHz, 16-bit mono)."""
    result = subprocess.run([espeak_path(), "-v", voice, "-s", str(words_per_minute),
                             "--stdout", "--", text], capture_output=True, timeout=60,
                            check=False)
    if result.returncode != 0 or not result.stdout:
        raise Unavailable(f"espeak-ng failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


async def speak(text: str, voice: str = "en") -> None:
    """Say ``text`` on the default audio output; logs (never raises) when it cannot."""
    text = text.strip()[:MAX_SPOKEN_CHARS]
    if not text:
        return
    try:
        process = await asyncio.create_subprocess_exec(
            espeak_path(), "-v", voice, "--", text, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await process.communicate()
    except (Unavailable, OSError) as exc:
        log.info("cannot speak the reply: %s", exc)
        return
    if process.returncode != 0:
        log.info("espeak-ng exited with %s: %s", process.returncode,
                 err.decode(errors="replace").strip()[:200])
