"""vCard text (3.0 and 4.0) to ``Contact``s, with vobject.

Read: FN (or N put together), N's parts, NICKNAME (every comma-separated value: vobject
keeps only the first, so the raw line is split here with vobject's own unescaping) and
each TEL with its TYPE (``cell`` is preferred when calling). Relations (RELATED,
X-ABRELATEDNAMES) are not read: they say who the card's *owner* is related to, and a
vCard folder has no "me" card, so only a nickname ("Mom") makes a contact the user's mom.
"""

from __future__ import annotations

import io
from typing import Any

import vobject
from vobject.base import getLogicalLines, parseLine
from vobject.icalendar import stringToTextValues

from agentd.adapters.contacts import Contact, PhoneNumber


class MalformedVCard(ValueError):
    """The text is not vCard that can be read."""


def parse_vcards(text: str) -> list[Contact]:
    """Every card in ``text``; ``MalformedVCard`` when any of it cannot be read."""
    try:
        cards = list(vobject.readComponents(text))
        nicknames = _raw_nicknames(text)
    except Exception as exc:  # vobject raises ParseError, and others on odd input
        raise MalformedVCard(str(exc) or type(exc).__name__) from None
    if len(nicknames) != len(cards) or any(card.name != "VCARD" for card in cards):
        raise MalformedVCard("not a sequence of VCARDs")
    return [_contact(card, said) for card, said in zip(cards, nicknames, strict=True)]


def _raw_nicknames(text: str) -> list[list[str]]:
    """Per top-level card, its NICKNAME values (vobject's own line reader, unescaped)."""
    cards: list[list[str]] = []
    depth = 0
    for line, _ in getLogicalLines(io.StringIO(text)):
        name, _params, value, _group = parseLine(line)
        if name == "BEGIN":
            depth += 1
            if depth == 1:
                cards.append([])
        elif name == "END":
            depth -= 1
        elif name == "NICKNAME" and depth == 1:
            cards[-1].extend(v.strip() for v in stringToTextValues(value) if v.strip())
    return cards


def _contact(card: Any, nicknames: list[str]) -> Contact:
    contents: dict[str, list[Any]] = card.contents
    parts: tuple[str, ...] = ()
    if "n" in contents:
        n = contents["n"][0].value
        parts = tuple(p for field in ("prefix", "given", "additional", "family", "suffix")
                      for p in _strings(getattr(n, field, "")) if p)
    name = " ".join(str(line.value).strip() for line in contents.get("fn", [])[:1])
    name = name or " ".join(parts)
    numbers = tuple(PhoneNumber(_number(str(line.value)), _types(line.params))
                    for line in contents.get("tel", []) if _number(str(line.value)))
    return Contact(name, numbers, tuple(nicknames), parts)


def _number(value: str) -> str:
    """A TEL value as written; vCard 4.0's ``tel:`` URI form without its scheme."""
    value = value.strip()
    return value[4:].split(";")[0] if value.casefold().startswith("tel:") else value


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _types(params: dict[str, list[str]]) -> frozenset[str]:
    types = {t.strip().casefold() for value in params.get("TYPE", []) for t in value.split(",")}
    return frozenset(t for t in types if t)
