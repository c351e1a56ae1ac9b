"""Spoken forms of durations and clock times, shared by tools and summaries."""

from __future__ import annotations

import datetime as dt


def say_duration(seconds: object) -> str:
    """600 -> "10 minutes", 5400 -> "1 hour 30 minutes"."""
    parts = []
    hours, rest = divmod(int(seconds), 3600)  # type: ignore[call-overload]
    minutes, secs = divmod(rest, 60)
    for amount, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts) or "0 seconds"


def say_clock(when: dt.datetime) -> str:
    return when.strftime("%H:%M")
