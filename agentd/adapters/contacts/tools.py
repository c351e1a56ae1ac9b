"""contacts.find, and the lookup sms.send and call.dial use for a name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.contacts import CONTACTS_CAPABILITY, Contact
from agentd.errors import Ambiguous, NotFound
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult

MAX_LISTED = 10
MAX_CHOICES = 5  # a "which one?" question offers at most this many


@dataclass(frozen=True)
class Recipient:
    """Who a name in ``to`` turned out to be: the contact's name and the number used."""

    name: str
    number: str


def _say(contact: Contact) -> str:
    numbers = ", ".join(p.number + (" (mobile)" if p.mobile and len(contact.numbers) > 1
                                    else "") for p in contact.numbers)
    return f"{contact.name}: {numbers or 'no phone number'}"


def _not_found(name: str) -> NotFound:
    return NotFound(f"no contact called “{name}”; `agentctl ask \"find {name}\"` lists the "
                    "contacts a name finds, or say the number")


async def find_contacts(adapters: AdapterRegistry, name: str) -> list[Contact]:
    contacts = await adapters.select(CONTACTS_CAPABILITY)
    return await contacts.find(name)


async def resolve_recipients(adapters: AdapterRegistry, name: str) -> list[Recipient]:
    """Whom ``name`` may mean, each with its number (mobile preferred): one, or several
    for the user to choose from (at most ``MAX_CHOICES``); ``NotFound`` for none,
    ``Ambiguous`` (listing them) for more than a question can offer."""
    matches = await find_contacts(adapters, name)
    found = [c for c in matches if c.number]
    if not matches:
        raise _not_found(name)
    if not found:
        raise NotFound(f"{' and '.join(c.name for c in matches[:MAX_LISTED])} "
                       f"{'has' if len(matches) == 1 else 'have'} no phone number in the "
                       "contacts; say the number")
    if len(found) > MAX_CHOICES:
        raise Ambiguous(f"{len(found)} contacts are called “{name}”: " + describe(found)
                        + " Say the full name or the number.")
    return [Recipient(c.name, c.number) for c in found if c.number is not None]


def describe(found: Sequence[Contact]) -> str:
    return "; ".join(_say(c) for c in found[:MAX_LISTED]) + (
        f" (and {len(found) - MAX_LISTED} more)" if len(found) > MAX_LISTED else "") + "."


def install_contacts_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def find(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        name = str(args["name"])
        found = await find_contacts(adapters, name)
        if not found:
            raise _not_found(name)
        return ToolResult(describe(found), {"contacts": [
            {"name": c.name, "nicknames": list(c.nicknames), "number": c.number,
             "numbers": [{"number": p.number, "types": sorted(p.types)} for p in c.numbers]}
            for c in found]})

    tools.implement("contacts.find", find)
