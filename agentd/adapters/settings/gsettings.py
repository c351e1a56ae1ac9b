"""Backend "gsettings": dark mode, do not disturb and location through the GNOME/Phosh
settings keys, with the ``gsettings`` command (agentd runs without PyGObject).

- dark mode: ``org.gnome.desktop.interface color-scheme`` ``'prefer-dark'``/``'default'``
- do not disturb: ``org.gnome.desktop.notifications show-banners`` (inverted; Phosh's
  "do not disturb" toggle is this key)
- location: ``org.gnome.system.location enabled``

gsettings writes through dconf in a session (or the keyfile backend with
``GSETTINGS_BACKEND=keyfile``), so the shell and apps see the change at once.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from agentd.adapters.base import Availability
from agentd.adapters.commands import run_command
from agentd.adapters.settings import CAPABILITY, SettingValue
from agentd.errors import AgentError, Unavailable

TIMEOUT_S = 10.0
SCHEMAS_PACKAGE = "gsettings-desktop-schemas"


@dataclass(frozen=True)
class Key:
    schema: str
    key: str
    on: str  # the GVariant text meaning "on"
    off: str

    def is_on(self, text: str) -> bool:
        return text.strip() == self.on


KEYS = {
    "dark_mode": Key("org.gnome.desktop.interface", "color-scheme", "'prefer-dark'",
                     "'default'"),
    "do_not_disturb": Key("org.gnome.desktop.notifications", "show-banners", "false", "true"),
    "location": Key("org.gnome.system.location", "enabled", "true", "false"),
}


class GSettingsSettings:
    name = "gsettings"
    capability = CAPABILITY
    test = False
    settings = frozenset(KEYS)

    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        self.env = env

    async def availability(self) -> Availability:
        if self._gsettings() is None:
            return Availability.no("gsettings is not installed (Debian: libglib2.0-bin)")
        missing = [s for s in KEYS if not (await self.supports(s)).ok]
        if len(missing) == len(KEYS):
            return Availability.no(f"none of the keys is installed ({SCHEMAS_PACKAGE})")
        backend = self.env.get("GSETTINGS_BACKEND", "dconf")
        return Availability.yes(f"gsettings ({backend})" + (
            f"; missing: {', '.join(missing)}" if missing else ""))

    async def supports(self, setting: str) -> Availability:
        key = KEYS[setting]
        if self._gsettings() is None:
            return Availability.no("gsettings is not installed (Debian: libglib2.0-bin)")
        code, out = await self._run("list-keys", key.schema)
        if code != 0 or key.key not in out.split():
            return Availability.no(f"the key {key.schema} {key.key} is not installed "
                                   f"(Debian: {SCHEMAS_PACKAGE})")
        return Availability.yes(f"{key.schema} {key.key}")

    async def get(self, setting: str) -> SettingValue:
        key = KEYS[setting]
        code, out = await self._run("get", key.schema, key.key)
        if code != 0:
            raise Unavailable(f"gsettings cannot read {key.schema} {key.key}: {out.strip()}")
        return key.is_on(out)

    async def set(self, setting: str, value: SettingValue) -> None:
        key = KEYS[setting]
        code, out = await self._run("set", key.schema, key.key, key.on if value else key.off)
        if code != 0:
            raise AgentError(f"gsettings cannot change {key.schema} {key.key}: {out.strip()}")

    def _gsettings(self) -> str | None:
        return shutil.which("gsettings", path=self.env.get("PATH"))

    async def _run(self, *args: str) -> tuple[int, str]:
        tool = self._gsettings()
        if tool is None:
            raise Unavailable("gsettings is not installed (Debian: libglib2.0-bin)")
        result = await run_command([tool, *args], self.env, TIMEOUT_S)
        if result is None:
            raise AgentError(f"gsettings {' '.join(args)} did not finish in {TIMEOUT_S:.0f} s")
        return result
