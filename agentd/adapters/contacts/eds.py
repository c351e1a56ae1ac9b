"""Backend "eds": the address books of Evolution Data Server on the session bus.

What GNOME Contacts and Chatty use on Phosh. A source of the registry
(``agentd.adapters.evolution``) whose key file has an ``[Address Book]`` group and is
enabled is an address book.
``AddressBookFactory.OpenAddressBook(uid)`` gives an ``AddressBook`` object for this
connection (gone when it closes); ``Open()`` and then ``GetContactList(query)`` with an
EDS query answer vCard strings, read by the same code as the vCard folder's files.
"""

from __future__ import annotations

import logging

from dbus_fast.aio import MessageBus

from agentd.adapters.base import Availability
from agentd.adapters.contacts import CAPABILITY, Contact, matching, words
from agentd.adapters.contacts.vcard import MalformedVCard, parse_vcards
from agentd.adapters.dbuscalls import call, session_bus
from agentd.adapters.evolution import EDS, sources
from agentd.errors import AgentError, Unavailable

log = logging.getLogger(__name__)
BOOKS_NAME = f"{EDS}.AddressBook10"
FACTORY_PATH = "/org/gnome/evolution/dataserver/AddressBookFactory"
FACTORY_IFACE = f"{EDS}.AddressBookFactory"
BOOK_IFACE = f"{EDS}.AddressBook"
FIELDS = ("full_name", "nickname", "given_name", "family_name")
# Every contact with a phone number: the query Chatty's own contact list uses
# (chatty-contact-provider.c, PHONE_SEXP).
WITH_NUMBERS = '(contains "phone" "")'
OPEN_TIMEOUT_S = 20.0  # the first open starts the factory and its backend process


def query(name: str) -> str:
    """The EDS query for contacts whose names hold every word of ``name``."""
    each = [f"(or {' '.join(f'(contains {_quoted(field)} {_quoted(word)})' for field in FIELDS)})"
            for word in words(name)]
    return each[0] if len(each) == 1 else f"(and {' '.join(each)})"


def _quoted(text: str) -> str:
    """A string in EDS's query language (an s-expression)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class EdsContacts:
    name = "eds"
    capability = CAPABILITY
    test = False

    async def availability(self) -> Availability:
        try:
            async with session_bus() as bus:
                books = await self._books(bus)
        except Unavailable as exc:
            return Availability.no(str(exc))
        return Availability.yes(f"Evolution Data Server: {', '.join(books.values())}")

    async def find(self, name: str) -> list[Contact]:
        if not words(name):
            return []
        return matching(await self._every_book(query(name)), name)

    async def with_numbers(self) -> list[Contact]:
        return [c for c in await self._every_book(WITH_NUMBERS) if c.numbers]

    async def _every_book(self, sexp: str) -> list[Contact]:
        """The contacts ``sexp`` finds in every enabled address book."""
        async with session_bus() as bus:
            contacts: list[Contact] = []
            for uid, shown in (await self._books(bus)).items():
                contacts.extend(await self._search(bus, uid, shown, sexp))
            return contacts

    async def _books(self, bus: MessageBus) -> dict[str, str]:
        """The enabled address books: uid → display name; ``Unavailable`` when none."""
        books = {source.uid: source.name for source in await sources(bus, "Address Book")}
        if not books:
            raise Unavailable("Evolution Data Server has no enabled address book")
        return books

    async def _search(self, bus: MessageBus, uid: str, shown: str,
                      sexp: str) -> list[Contact]:
        try:
            path, owner = await call(bus, BOOKS_NAME, FACTORY_PATH, FACTORY_IFACE,
                                     "OpenAddressBook", "s", [uid], timeout=OPEN_TIMEOUT_S)
            await call(bus, owner, path, BOOK_IFACE, "Open", timeout=OPEN_TIMEOUT_S)
            (cards,) = await call(bus, owner, path, BOOK_IFACE, "GetContactList", "s",
                                  [sexp])
        except AgentError as exc:
            raise Unavailable(f"the address book “{shown}” could not be read ({exc})") \
                from None
        contacts: list[Contact] = []
        for card in cards:
            try:
                contacts.extend(parse_vcards(str(card)))
            except MalformedVCard as exc:
                log.warning("contacts: skipped a card of the address book %s: %s", shown, exc)
        return contacts
