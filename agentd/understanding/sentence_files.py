"""The sentence files, read once for everyone: the template tier, the voice bias and the
model tier's guard use this loader.

``sentences/<language>/*.yaml`` hold hassil's sections (``intents``, ``lists``,
``expansion_rules``, ``skip_words``) and, in ``_words.yaml``, the word lists the Python
code reads (``WORD_LISTS``). Loading fails with the file and the reason on a name defined
twice (a merge would silently keep one), on an unknown key, and on a missing word list.
Whether each intent's slots name an argument of its tool is checked by the template tier,
which knows the tools (``TemplateTier``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SENTENCES_DIR = Path(__file__).parent / "sentences"
TOP_KEYS = frozenset({"language", "skip_words", "expansion_rules", "lists", "intents",
                      "words"})
INTENT_KEYS = frozenset({"data"})
DATA_KEYS = frozenset({"sentences", "slots", "metadata", "requires_context",
                       "excludes_context"})
WORD_LISTS = frozenset({"determiners", "filler_words", "not_apps", "not_contacts",
                        "not_contact_ends", "not_messages", "separators", "command_starts"})
_SECTIONS = {"expansion_rules": "rule", "lists": "list", "intents": "intent",
             "words": "word list"}


class SentenceFileError(ValueError):
    """A sentence file that would load wrongly: says which file and what to change."""


@dataclass(frozen=True)
class SentenceFiles:
    """All sentence files of one language, merged."""

    language: str
    data: Mapping[str, Any]  # hassil's sections, merged (no ``words``)
    words: Mapping[str, tuple[str, ...]]

    def word_set(self, name: str) -> frozenset[str]:
        return frozenset(self.words[name])

    def alternation(self, name: str) -> str:
        """A word list as a regex alternation, in file order; spaces match any space."""
        return "|".join(r"\s+".join(map(re.escape, w.split())) for w in self.words[name])


@cache
def load_sentence_files(language: str, folder: Path | None = None) -> SentenceFiles:
    """The sentence files in ``folder`` (default: this package's, for ``language``).
    Cached: callers must not change what they get (hassil gets a copy)."""
    folder = folder or SENTENCES_DIR / language
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise SentenceFileError(f"no sentence templates for language {language!r} in "
                                f"{folder}")
    merged: dict[str, Any] = {}
    defined: dict[tuple[str, str], str] = {}  # (section, name) -> the file defining it
    for path in files:
        with path.open(encoding="utf-8") as stream:
            data = yaml.safe_load(stream) or {}
        _check_keys(path, data)
        for section, what in _SECTIONS.items():
            for name in data.get(section) or {}:
                first = defined.setdefault((section, name), path.name)
                if first != path.name:
                    raise SentenceFileError(
                        f"{path}: {what} {name!r} is already defined in {first}; a name is "
                        "defined in one sentence file only (rename one of them)")
        _merge(merged, data)
    words = merged.pop("words", {}) or {}
    missing = sorted(WORD_LISTS - set(words))
    if missing:
        raise SentenceFileError(f"{folder}: word list(s) {', '.join(missing)} "
                                "missing (see en/_words.yaml)")
    return SentenceFiles(language, merged,
                         {name: tuple(str(w) for w in values) for name, values in words.items()})


def _check_keys(path: Path, data: Mapping[str, Any]) -> None:
    def refuse(keys: object, allowed: frozenset[str], where: str) -> None:
        unknown = sorted(set(keys) - allowed) if isinstance(keys, Mapping) else []
        if unknown:
            raise SentenceFileError(f"{path}: unknown key(s) {', '.join(unknown)} {where}; "
                                    f"known: {', '.join(sorted(allowed))}")

    refuse(data, TOP_KEYS, "at the top")
    refuse(data.get("words") or {}, WORD_LISTS, "in words")
    for name, intent in (data.get("intents") or {}).items():
        refuse(intent, INTENT_KEYS, f"in intent {name}")
        for block in intent.get("data") or []:
            refuse(block, DATA_KEYS, f"in a data block of intent {name}")


def _merge(base: dict[str, Any], new: Mapping[str, Any]) -> None:
    """Merge one sentence file into ``base``: dicts recursively, lists appended."""
    for key, value in new.items():
        old = base.get(key)
        if isinstance(old, dict) and isinstance(value, Mapping):
            _merge(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            old.extend(value)
        else:
            base[key] = value
