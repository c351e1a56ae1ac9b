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


def phone_number(to: str) -> str:
    """``to`` as a dialable number ("+49 170 123-4567" → "+491701234567")."""
    to = to.strip()
    if not _NUMBER.fullmatch(to):
        raise NotFound(f"{to!r} is not a phone number, and agentd cannot look up contacts "
                       "yet; say the number")
    return ("+" if to.startswith("+") else "") + re.sub(r"[^0-9]", "", to)


# The typed handle tools select backends with (``AdapterRegistry.select``).
TELEPHONY_CAPABILITY = Capability[Telephony](CAPABILITY)
