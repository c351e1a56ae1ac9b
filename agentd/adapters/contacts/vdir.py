"""Backend "vcard-folder": the vCard files under ``$XDG_DATA_HOME/contacts``.

The vdir layout vdirsyncer and khard keep (and Sxmo users sync into):
``~/.local/share/contacts/<address book>/<uid>.vcf``, one card (or several) per file,
read recursively. A file that cannot be read is skipped with a warning naming it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from agentd.adapters.base import Availability
from agentd.adapters.contacts import CAPABILITY, Contact, matching
from agentd.adapters.contacts.vcard import MalformedVCard, parse_vcards

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 1 << 20  # a card with a photo is large; a megabyte is not a card


class VCardFolder:
    name = "vcard-folder"
    capability = CAPABILITY
    test = False

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> VCardFolder:
        home = Path(env.get("HOME") or Path.home())
        data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
        return cls(data / "contacts")

    async def availability(self) -> Availability:
        files = await asyncio.to_thread(self._files)
        if not files:
            return Availability.no(f"no vCard files (*.vcf) in {self.root}")
        return Availability.yes(f"{len(files)} vCard file(s) in {self.root}")

    async def find(self, name: str) -> list[Contact]:
        return matching(await asyncio.to_thread(self._read_all), name)

    async def with_numbers(self) -> list[Contact]:
        return [c for c in await asyncio.to_thread(self._read_all) if c.numbers]

    def _files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.rglob("*.vcf") if p.is_file())

    def _read_all(self) -> list[Contact]:
        contacts: list[Contact] = []
        for file in self._files():
            try:
                if file.stat().st_size > MAX_FILE_BYTES:
                    raise MalformedVCard(f"larger than {MAX_FILE_BYTES} bytes")
                contacts.extend(parse_vcards(file.read_text(encoding="utf-8-sig",
                                                            errors="replace")))
            except (OSError, MalformedVCard) as exc:
                log.warning("contacts: skipped %s: %s", file, exc)
        return contacts
