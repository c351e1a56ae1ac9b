"""Untrusted content: short, safe names for where it came from, and a fence it cannot break.

Content others control (a notification, the screen, a file name, a message) reaches the
model tier only inside a fence, and its source is named in confirmations. Both are built
here so that nothing in the content can end the fence early or dress up as agentd:

- ``fence`` escapes ``&``, ``<`` and ``>`` in the content (never strips them), so
  ``</DATA>`` or ``<</data>/data>`` in a message stays text inside the fence;
- ``source_name`` flattens a source to one short line without control characters;
- ``claim`` quotes a name that is only someone's claim (the app name a notification
  gives), capped, so "Signal (verified by agentd)" reads as the quote it is.
"""

from __future__ import annotations

import re
import unicodedata

MAX_SOURCE = 120
MAX_CLAIM = 40
FENCE_OPEN = "<data>"
FENCE_CLOSE = "</data>"


def one_line(text: str) -> str:
    """One line, no control or format characters (bidi overrides included)."""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c
                   for c in text)
    return re.sub(r"\s+", " ", kept).strip()


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def claim(name: str) -> str:
    """A name someone else chose, quoted and capped: “Signal”."""
    flat = one_line(name).replace("“", "\"").replace("”", "\"")
    return f"“{_cap(flat, MAX_CLAIM)}”"


def source_name(text: str) -> str:
    """A provenance fit for a confirmation question and the audit log."""
    return _cap(one_line(text), MAX_SOURCE) or "unknown source"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fence(text: str) -> str:
    """Content as data: escaped, so nothing in it can close the fence."""
    return f"{FENCE_OPEN}\n{escape(text)}\n{FENCE_CLOSE}"
