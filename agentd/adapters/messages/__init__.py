"""The messages capability: the text messages the phone received, newest first.

A backend reads where the phone's messaging app keeps them (Chatty's history database
on Phosh); it says who sent each as the store has it, a number ("+491701234567") or a
sender ID ("DHL"). The tools turn numbers into the user's contact names. Message text
is written by others: it is untrusted content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from agentd.adapters.base import Capability

CAPABILITY = "messages"

# Which senders a call wants, by the sender as the store has it (a number or an ID).
SenderMatch = Callable[[str], bool]


@dataclass(frozen=True)
class TextMessage:
    sender: str  # a number or a sender ID, as the store has it
    text: str
    time: dt.datetime  # aware
    conversation: str = ""  # the thread's name in the store (its number, or numbers)


class Messages(Protocol):
    """Read the received text messages."""

    name: str

    async def received(self, limit: int, sender: SenderMatch | None = None
                       ) -> list[TextMessage]:
        """At most ``limit`` received messages, newest first; only those whose sender
        ``sender`` accepts, when given."""
        ...


# The typed handle tools select backends with (``AdapterRegistry.select``).
MESSAGES_CAPABILITY = Capability[Messages](CAPABILITY)
