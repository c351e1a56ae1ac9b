"""Evolution Data Server's source registry, for the backends that read EDS (contacts,
calendar): which address books and calendars there are, and their names.

The registry (``org.gnome.evolution.dataserver.Sources5``) exports every data source under
``/org/gnome/evolution/dataserver/SourceManager`` (``GetManagedObjects``); each has a
``UID`` and its key file (``Data``): ``[Data Source]`` (``DisplayName``, ``Enabled``,
``Parent``) and one group per kind (``[Address Book]``, ``[Calendar]``, ...). A source is
enabled when it and every source above it (a disabled Google account disables its
calendars) are not ``Enabled=false``.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass

from dbus_fast.aio import MessageBus

from agentd.adapters.dbuscalls import CHECK_TIMEOUT_S, call, has_service
from agentd.bus.names import OBJECT_MANAGER_IFACE
from agentd.errors import AgentError, Unavailable

EDS = "org.gnome.evolution.dataserver"
SOURCES_NAME = f"{EDS}.Sources5"
SOURCES_PATH = "/org/gnome/evolution/dataserver/SourceManager"
SOURCES_IFACE = f"{EDS}.SourceManager"
SOURCE_IFACE = f"{EDS}.Source"
NOT_ON_THE_BUS = ("Evolution Data Server is not on the session bus "
                  "(Debian package evolution-data-server)")


@dataclass(frozen=True)
class Source:
    """One data source: its UID, its display name, and its key file."""

    uid: str
    name: str
    keys: configparser.ConfigParser

    def flag(self, group: str, key: str, default: bool = True) -> bool:
        try:
            return self.keys.getboolean(group, key, fallback=default)
        except ValueError:  # not a boolean: as if absent
            return default

    def called(self, said: str) -> bool:
        """Whether ``said`` is this source's UID or one of its display names (any
        language; case ignored)."""
        if said == self.uid:
            return True
        folded = said.strip().casefold()
        section = self.keys["Data Source"] if self.keys.has_section("Data Source") else {}
        return any(key.startswith("displayname") and value.strip().casefold() == folded
                   for key, value in section.items())


def _source(uid: str, data: str) -> Source | None:
    keys = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        keys.read_string(data)
    except configparser.Error:
        return None
    return Source(uid, keys.get("Data Source", "DisplayName", fallback=uid), keys)


async def sources(bus: MessageBus, group: str) -> list[Source]:
    """The enabled sources whose key file has ``group`` ("Calendar", "Address Book"), by
    name; ``Unavailable`` when EDS is not on the bus or does not answer."""
    if not await has_service(bus, SOURCES_NAME):
        raise Unavailable(NOT_ON_THE_BUS)
    try:
        (objects,) = await call(bus, SOURCES_NAME, SOURCES_PATH, OBJECT_MANAGER_IFACE,
                                "GetManagedObjects", timeout=CHECK_TIMEOUT_S * 2)
    except AgentError as exc:
        raise Unavailable(f"the Evolution source registry did not answer ({exc})") from None
    every: dict[str, Source] = {}
    for interfaces in objects.values():
        exported = interfaces.get(SOURCE_IFACE)
        if exported is None:
            continue
        source = _source(str(exported["UID"].value), str(exported["Data"].value))
        if source is not None:
            every[source.uid] = source
    return sorted((s for s in every.values() if s.keys.has_section(group) and
                   _enabled(s, every)), key=lambda s: (s.name.casefold(), s.uid))


def _enabled(source: Source, every: dict[str, Source]) -> bool:
    seen: set[str] = set()
    current: Source | None = source
    while current is not None and current.uid not in seen:
        if not current.flag("Data Source", "Enabled"):
            return False
        seen.add(current.uid)
        parent = current.keys.get("Data Source", "Parent", fallback="")
        current = every.get(parent) if parent else None
    return True
