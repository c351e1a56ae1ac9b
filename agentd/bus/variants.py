"""Python values to and from D-Bus variants (a{sv} dictionaries)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dbus_fast import Variant


def to_variant(value: Any) -> Variant:
    if isinstance(value, Variant):
        return value
    if isinstance(value, bool):
        return Variant("b", value)
    if isinstance(value, int):
        return Variant("x", value)
    if isinstance(value, float):
        return Variant("d", value)
    if value is None:
        return Variant("s", "")
    if isinstance(value, str):
        return Variant("s", value)
    if isinstance(value, Mapping):
        return Variant("a{sv}", to_vardict(value))
    if isinstance(value, list | tuple):
        if all(isinstance(v, str) for v in value):
            return Variant("as", list(value))
        return Variant("av", [to_variant(v) for v in value])
    return Variant("s", str(value))


def to_vardict(values: Mapping[str, Any]) -> dict[str, Variant]:
    return {str(k): to_variant(v) for k, v in values.items()}


def from_variant(value: Any) -> Any:
    """Unwrap variants recursively into plain Python values."""
    if isinstance(value, Variant):
        return from_variant(value.value)
    if isinstance(value, dict):
        return {k: from_variant(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_variant(v) for v in value]
    return value
