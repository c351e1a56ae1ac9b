"""messages.list: received text messages, newest first, with who sent them and when.

``from`` is a number, or a name looked up in the user's contacts (every number of every
contact the name finds; a sender ID such as "DHL" said as its name matches too). Senders
are named by the user's contacts where a contact has their number, else by the number or
sender ID the message came with. The result quotes what others wrote: untrusted, it
taints the task, and its provenance names the senders.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.calendar.ical import local_zone
from agentd.adapters.contacts import CONTACTS_CAPABILITY, Contact, with_number, words
from agentd.adapters.messages import MESSAGES_CAPABILITY, TextMessage
from agentd.adapters.telephony import is_phone_number, phone_number, same_number
from agentd.errors import NotFound, Unavailable
from agentd.policy.content import claim, one_line
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult

log = logging.getLogger(__name__)
DEFAULT_LIMIT = 5
MAX_TEXT = 480  # characters of one message in the sentence (the data has all of it)


class Senders:
    """Who ``from`` means: numbers, and the contacts they belong to; or a sender ID."""

    def __init__(self, said: str, contacts: Sequence[Contact] = (),
                 numbers: Sequence[str] = (), no_book: str = "") -> None:
        self.said = said
        self.contacts = contacts
        self.no_book = no_book  # why no address book could be read, if none could
        self.numbers = tuple(numbers) + tuple(p.number for c in contacts for p in c.numbers)

    def __call__(self, sender: str) -> bool:
        if any(same_number(sender, number) for number in self.numbers):
            return True
        return not is_phone_number(sender) and words(sender) == words(self.said)

    @property
    def named(self) -> str:
        """How the reply names them: the contacts' names, else what was said."""
        return " or ".join(c.name for c in self.contacts) or self.said


async def _senders(adapters: AdapterRegistry, said: str) -> Senders:
    if is_phone_number(said):
        return Senders(said, numbers=[phone_number(said)])
    try:
        contacts = await adapters.select(CONTACTS_CAPABILITY)
        found = [c for c in await contacts.find(said) if c.numbers]
    except Unavailable as exc:
        return Senders(said, no_book=exc.message)
    return Senders(said, found)


async def _address_book(adapters: AdapterRegistry) -> list[Contact]:
    """The contacts with numbers, to name senders; none when no address book answers."""
    try:
        contacts = await adapters.select(CONTACTS_CAPABILITY)
        return await contacts.with_numbers()
    except Unavailable as exc:
        log.info("messages: senders are shown by number: %s", exc)
        return []


def say_when(time: dt.datetime, now: dt.datetime) -> str:
    """ "today 09:15", "yesterday 18:02", "Monday 14:00", "3 December 14:00" (with the
    year when it is not this one), in the zone of ``now``."""
    local = time.astimezone(now.tzinfo)
    days = (now.date() - local.date()).days
    clock = f"{local:%H:%M}"
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"yesterday {clock}"
    if 1 < days < 7:
        return f"{local:%A} {clock}"
    year = f" {local.year}" if local.year != now.year else ""
    return f"{local.day} {local:%B}{year} {clock}"


def _quoted(text: str) -> str:
    flat = one_line(text)
    return "“" + (flat if len(flat) <= MAX_TEXT else flat[:MAX_TEXT - 1] + "…") + "”"


def install_messages_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def list_messages(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        backend = await adapters.select(MESSAGES_CAPABILITY)
        limit = int(args.get("limit") or DEFAULT_LIMIT)
        said = str(args.get("from") or "").strip()
        senders = await _senders(adapters, said) if said else None
        found = await backend.received(limit, senders)
        if senders is not None and not found and not senders.contacts \
                and not is_phone_number(said):
            if senders.no_book:
                raise Unavailable(f"“{said}” is not a phone number, and no address book "
                                  f"could be read to find it ({senders.no_book}); say the "
                                  "number")
            raise NotFound(f"no contact called “{said}” and no text messages from a sender "
                           f"of that name; `agentctl ask \"find {said}\"` lists the contacts "
                           "a name finds, or say the number")
        book = list(senders.contacts) if senders else []
        if any(with_number(book, m.sender) is None for m in found) or (
                senders and is_phone_number(said)):  # a number said: whose is it?
            book += await _address_book(adapters)
        if not found:
            return ToolResult(f"No text messages{_whom(senders, book)}.", {
                "messages": [], "backend": backend.name, "provenance": ""})
        return _listing(found, book, senders, limit, backend.name)

    tools.implement("messages.list", list_messages)


def _whom(senders: Senders | None, book: Sequence[Contact]) -> str:
    """ " from Anna Berg", " from +15550199" (a number nobody in the book has), or ""."""
    if senders is None:
        return ""
    contact = None if senders.contacts else with_number(book, senders.said)
    return f" from {contact.name if contact else senders.named}"


def _listing(found: list[TextMessage], book: Sequence[Contact], senders: Senders | None,
             limit: int, backend: str) -> ToolResult:
    now = dt.datetime.now(local_zone())
    items: list[str] = []
    data: list[dict[str, str]] = []
    named: dict[str, None] = {}  # who sent them, in order, once each
    for message in found:
        contact = with_number(book, message.sender)
        who = contact.name if contact else (message.sender if is_phone_number(
            message.sender) else claim(message.sender))
        named[who] = None
        items.append(f"{who}, {say_when(message.time, now)}: {_quoted(message.text)}")
        data.append({"from": message.sender, "name": contact.name if contact else "",
                     "time": message.time.isoformat(), "text": message.text,
                     "conversation": message.conversation})
    whom = _whom(senders, book)
    if len(found) == 1:
        head = f"The latest text message{whom}: " if limit == 1 else \
            f"1 text message{whom}: "
    else:
        head = f"{len(found)} text messages{whom}, newest first: "
    return ToolResult(head + "; ".join(items) + ".", {
        "messages": data, "backend": backend,
        "provenance": f"text messages from {', '.join(named)} (others wrote them)"})
