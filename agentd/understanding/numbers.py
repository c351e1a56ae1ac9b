"""Turn matched number slots into tool arguments: durations in seconds, clock times.

The template tier's sentence templates capture numbers as separate slots (hours,
minutes, "and a half", "am"/"pm", ...). These pure functions combine them and say
``None`` when the combination is not a real duration or time of day, so the caller
can treat it as no match instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTES_PER_DAY = 24 * 60


def as_int(value: object) -> int | None:
    """``value`` as an int when it is a whole number (hassil gives digits as floats)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def as_number(value: object) -> float | None:
    """``value`` as a float when it is a number, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class DurationParts:
    """The parts of a spoken duration: "an hour and a half", "1 hour 30 minutes"."""

    hours: float = 0.0
    minutes: float = 0.0
    seconds: float = 0.0
    half_hour: bool = False  # "... and a half" after hours
    half_minute: bool = False  # "... and a half" after minutes
    fixed_seconds: int = 0  # "half an hour", "a quarter of an hour"

    def total_seconds(self) -> int | None:
        """Whole seconds, or ``None`` when the parts do not add up to a positive duration."""
        total = (
            (self.hours + 0.5 * self.half_hour) * 3600
            + (self.minutes + 0.5 * self.half_minute) * 60
            + self.seconds
            + self.fixed_seconds
        )
        if total <= 0 or not float(total).is_integer():
            return None
        return int(total)


def to_24h(hour: int, ampm: str | None) -> int | None:
    """The 24-hour hour for ``hour`` said with an optional "am"/"pm", or ``None``."""
    if ampm is None:
        return hour if 0 <= hour <= 23 else None
    if not 1 <= hour <= 12:
        return None
    hour %= 12
    return hour + 12 if ampm == "pm" else hour


def clock_hhmm(hour: int, minute: int = 0, ampm: str | None = None) -> str | None:
    """ "HH:MM" for a time of day ("7", "30", "pm" -> "19:30"), or ``None`` if not a time."""
    if not 0 <= minute <= 59:
        return None
    hour24 = to_24h(hour, ampm)
    if hour24 is None:
        return None
    return f"{hour24:02d}:{minute:02d}"


def relative_hhmm(hour: int, offset_minutes: int, ampm: str | None = None) -> str | None:
    """ "HH:MM" for "half past seven" (offset 30) or "ten to seven" (offset -10)."""
    if not -59 <= offset_minutes <= 59 or offset_minutes == 0:
        return None
    hour24 = to_24h(hour, ampm)
    if hour24 is None:
        return None
    total = (hour24 * 60 + offset_minutes) % MINUTES_PER_DAY
    return f"{total // 60:02d}:{total % 60:02d}"
