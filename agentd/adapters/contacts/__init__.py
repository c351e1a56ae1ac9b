"""The contacts capability: the user's own address book, looked up by name or nickname.

Backends return every ``Contact`` a name could mean (``matching``); the tools decide
what to do with one, several or none. Names are compared case-insensitively with the
surrounding punctuation ignored ("Mom", "mom!"), as ``shared/TOOLS-v2.md`` says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from agentd.adapters.base import Capability
from agentd.adapters.telephony import same_number

CAPABILITY = "contacts"
MOBILE_TYPES = frozenset({"cell", "mobile", "iphone"})
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")


@dataclass(frozen=True)
class PhoneNumber:
    number: str  # as written in the address book
    types: frozenset[str] = frozenset()  # "cell", "home", "work", ... in lower case

    @property
    def mobile(self) -> bool:
        return bool(self.types & MOBILE_TYPES)


@dataclass(frozen=True)
class Contact:
    name: str  # the full name (FN), or the structured name put together
    numbers: tuple[PhoneNumber, ...] = ()
    nicknames: tuple[str, ...] = ()
    name_parts: tuple[str, ...] = ()  # given, family, ... (N)

    @property
    def number(self) -> str | None:
        """The number to call or text: the first mobile one, else the first one."""
        for phone in self.numbers:
            if phone.mobile:
                return phone.number
        return self.numbers[0].number if self.numbers else None


class Contacts(Protocol):
    """Look contacts up in the user's address book."""

    name: str

    async def find(self, name: str) -> list[Contact]:
        """The contacts ``name`` could mean (``matching``), best first."""
        ...

    async def with_numbers(self) -> list[Contact]:
        """Every contact that has a phone number (to name who sent a message)."""
        ...


def words(name: str) -> tuple[str, ...]:
    """A name as compared: its words in lower case, punctuation around them dropped."""
    return tuple(w.casefold() for w in _WORD.findall(name))


def matching(contacts: Iterable[Contact], name: str) -> list[Contact]:
    """The contacts ``name`` means. A full name or nickname said exactly wins ("Sam
    Berg" among two Sams); otherwise every contact whose name has all the words said
    ("Anna" finds "Anna Berg"). Several exact matches are all returned."""
    wanted = words(name)
    if not wanted:
        return []
    exact: list[Contact] = []
    partial: list[Contact] = []
    for contact in contacts:
        whole = {words(contact.name), *(words(n) for n in contact.nicknames)}
        if wanted in whole:
            exact.append(contact)
            continue
        said = {w for n in (contact.name, *contact.name_parts, *contact.nicknames)
                for w in words(n)}
        if set(wanted) <= said:
            partial.append(contact)
    return exact or partial


def with_number(contacts: Iterable[Contact], number: str) -> Contact | None:
    """The first contact with a phone number that reaches ``number`` (``same_number``)."""
    for contact in contacts:
        if any(same_number(phone.number, number) for phone in contact.numbers):
            return contact
    return None


# The typed handle tools select backends with (``AdapterRegistry.select``).
CONTACTS_CAPABILITY = Capability[Contacts](CAPABILITY)
