"""Backends "wpctl" and "pactl": the volume of the default output.

``wpctl`` talks to PipeWire (WirePlumber's ``@DEFAULT_AUDIO_SINK@``): ``get-volume``
prints ``Volume: 0.40`` (``[MUTED]`` when muted); ``pactl`` talks to PulseAudio or
``pipewire-pulse`` (``@DEFAULT_SINK@``). Setting a level above 0 also unmutes; a muted
output reads as 0 %.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping

from agentd.adapters.base import Availability
from agentd.adapters.commands import run_command
from agentd.adapters.settings import CAPABILITY, SettingValue
from agentd.errors import AgentError, Unavailable

TIMEOUT_S = 5.0


class _CommandVolume:
    name = ""
    capability = CAPABILITY
    test = False
    settings = frozenset({"volume"})
    tool = ""
    package = ""
    server = ""

    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        self.env = env

    async def availability(self) -> Availability:
        if shutil.which(self.tool, path=self.env.get("PATH")) is None:
            return Availability.no(f"{self.tool} is not installed (Debian: {self.package})")
        try:
            level = await self.get("volume")
        except (Unavailable, AgentError) as exc:
            return Availability.no(str(exc))
        return Availability.yes(f"default output at {level}% ({self.server})")

    async def supports(self, setting: str) -> Availability:
        return await self.availability()

    async def get(self, setting: str) -> SettingValue:
        raise NotImplementedError

    async def set(self, setting: str, value: SettingValue) -> None:
        raise NotImplementedError

    async def _run(self, *args: str) -> str:
        tool = shutil.which(self.tool, path=self.env.get("PATH"))
        if tool is None:
            raise Unavailable(f"{self.tool} is not installed (Debian: {self.package})")
        result = await run_command([tool, *args], self.env, TIMEOUT_S)
        if result is None:
            raise Unavailable(f"{self.server} did not answer {self.tool} in {TIMEOUT_S:.0f} s")
        status, out = result
        text = out.strip()
        if status != 0:
            raise Unavailable(f"no {self.server} sound server answers {self.tool} "
                              f"({text.splitlines()[-1] if text else status})")
        return text


class WpctlVolume(_CommandVolume):
    name = "wpctl"
    tool = "wpctl"
    package = "wireplumber"
    server = "PipeWire"

    async def get(self, setting: str) -> SettingValue:
        out = await self._run("get-volume", "@DEFAULT_AUDIO_SINK@")
        match = re.search(r"Volume:\s*([0-9.]+)", out)
        if match is None:
            raise AgentError(f"wpctl printed no volume: {out!r}")
        return 0 if "MUTED" in out else max(0, min(100, round(float(match[1]) * 100)))

    async def set(self, setting: str, value: SettingValue) -> None:
        await self._run("set-volume", "@DEFAULT_AUDIO_SINK@", f"{int(value) / 100:.2f}")
        await self._run("set-mute", "@DEFAULT_AUDIO_SINK@", "1" if value == 0 else "0")


class PactlVolume(_CommandVolume):
    name = "pactl"
    tool = "pactl"
    package = "pulseaudio-utils"
    server = "PulseAudio"

    async def get(self, setting: str) -> SettingValue:
        if "yes" in await self._run("get-sink-mute", "@DEFAULT_SINK@"):
            return 0
        out = await self._run("get-sink-volume", "@DEFAULT_SINK@")
        match = re.search(r"([0-9]+)%", out)
        if match is None:
            raise AgentError(f"pactl printed no volume: {out!r}")
        return min(100, int(match[1]))

    async def set(self, setting: str, value: SettingValue) -> None:
        await self._run("set-sink-volume", "@DEFAULT_SINK@", f"{int(value)}%")
        await self._run("set-sink-mute", "@DEFAULT_SINK@", "1" if value == 0 else "0")
