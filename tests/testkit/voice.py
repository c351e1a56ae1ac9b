"""Fixtures for the voice path: the real Whisper base model and espeak-ng speech.

``whisper_model``: installed once with ``agentctl model install-whisper`` into a cache
outside the per-test folders (``$XDG_CACHE_HOME/agentd/test-data``); later sessions find
it installed and verified by its manifest. ``speech(text)`` makes a WAV with espeak-ng.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentd.voice.speech import synthesize_wav

VENV_BIN = Path(sys.executable).parent

# Catalogue commands spoken by espeak-ng, and the plan each must give.
SPOKEN_COMMANDS: list[tuple[str, str, dict[str, Any]]] = [
    ("set a timer for ten minutes", "timer.start", {"duration_s": 600}),
    ("turn off wifi", "settings.set", {"setting": "wifi", "value": False}),
    # espeak-ng's "what time is it" comes out as "what ive is it" (its "time" is poor)
    ("what is the time", "clock.time", {}),
    ("turn on bluetooth", "settings.set", {"setting": "bluetooth", "value": True}),
    ("take a screenshot", "screen.capture", {}),
    ("open the camera", "apps.open", {"app": "camera"}),
]


@pytest.fixture(scope="session")
def whisper_model() -> Path:
    if shutil.which("espeak-ng") is None:  # fail, never skip: CI must show it
        pytest.fail("espeak-ng is not installed: run scripts/debian-deps.sh", pytrace=False)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    data = cache / "agentd" / "test-data"
    result = subprocess.run([str(VENV_BIN / "agentctl"), "model", "install-whisper"],
                            env={**os.environ, "XDG_DATA_HOME": str(data)},
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        pytest.fail(f"agentctl model install-whisper failed:\n{result.stderr}", pytrace=False)
    return data / "agentd" / "models" / "whisper" / "whisper-base"


def speech(text: str) -> bytes:
    return synthesize_wav(text)


__all__ = ["SPOKEN_COMMANDS", "speech", "whisper_model"]
