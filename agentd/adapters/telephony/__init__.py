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


MIN_SHARED_DIGITS = 7  # a subscriber number without its area code is this long or longer


def same_number(a: str, b: str) -> bool:
    """Whether two written numbers reach the same phone: the same digits, or one written
    nationally and the other with its country code ("0170 1234567" and "+49 170 1234567"),
    when they share at least ``MIN_SHARED_DIGITS`` final digits. Two international numbers
    must be equal; a sender ID ("DHL") is no number and matches nothing."""
    if not (is_phone_number(a) and is_phone_number(b)):
        return False
    x, y = phone_number(a), phone_number(b)
    if x == y:
        return True
    if x.startswith("+") and y.startswith("+"):
        return False
    short, long = sorted((x.lstrip("+0"), y.lstrip("+0")), key=len)
    return len(short) >= MIN_SHARED_DIGITS and long.endswith(short)


# The typed handle tools select backends with (``AdapterRegistry.select``).
TELEPHONY_CAPABILITY = Capability[Telephony](CAPABILITY)
