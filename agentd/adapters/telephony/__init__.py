"""The telephony capability: text messages and calls through the phone's modem."""

from __future__ import annotations

import re
from typing import Protocol

from agentd.adapters.base import Capability
from agentd.errors import NotFound

CAPABILITY = "telephony"
_NUMBER = re.compile(r"\+?[0-9][0-9 ()./-]{1,30}")


class Telephony(Protocol):
    """Send an SMS and place a call to a phone number."""

    name: str

    async def send_sms(self, number: str, text: str) -> str:
        """Send ``text`` to ``number``; an id of the sent message (a bus path)."""
        ...

    async def dial(self, number: str) -> str:
        """Start a voice call to ``number``; an id of the call (a bus path)."""
        ...


def is_phone_number(to: str) -> bool:
    """Whether ``to`` is written as a number (else it is a contact's name)."""
    return bool(_NUMBER.fullmatch(to.strip()))


def phone_number(to: str) -> str:
    """``to`` as a dialable number ("+49 170 123-4567" → "+491701234567")."""
    to = to.strip()
    if not is_phone_number(to):
        raise NotFound(f"{to!r} is not a phone number; say the number")
    return ("+" if to.startswith("+") else "") + re.sub(r"[^0-9]", "", to)


# The typed handle tools select backends with (``AdapterRegistry.select``).
TELEPHONY_CAPABILITY = Capability[Telephony](CAPABILITY)
