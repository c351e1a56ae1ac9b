"""The recogniser's prompt, built from the sentence templates: one example per intent.

Whisper continues its prompt's style and vocabulary, so a prompt of the commands agentd
understands makes "turn off wi-fi" come out as "turn off wifi", and numbers as the
templates spell them. Each intent's first sentence is expanded (first alternative of
every group and optional part, slots filled with their list's first value), and
the domain words (settings, modes) follow. Capped at ``MAX_CHARS`` (Whisper reads at
most 224 prompt tokens).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agentd.understanding.sentence_files import load_sentence_files

MAX_CHARS = 700
RULE = re.compile(r"<(\w+)>")
OPTIONAL = re.compile(r"\[([^\[\]()]*)\]")
GROUP = re.compile(r"\(([^\[\]()]*)\)")
SLOT = re.compile(r"\{(\w+)(?::(\w+))?\}")
WORD_LISTS = ("toggle_setting", "mode_setting", "level_setting")
SAMPLE_NUMBER = "ten"


def load_templates(language: str) -> Mapping[str, Any]:
    """The merged sentence files (the template tier's own loader)."""
    return load_sentence_files(language).data


class _Unfilled(Exception):
    """A slot whose list has no sample value (a wildcard)."""


def _first_value(lists: dict[str, Any], name: str) -> str:
    entry = lists.get(name)
    if isinstance(entry, dict) and "range" in entry:
        return SAMPLE_NUMBER
    values = entry.get("values") if isinstance(entry, dict) else None
    if not values:
        raise _Unfilled(name)
    first = values[0]
    return str(first.get("in", "") if isinstance(first, dict) else first)


def _first(match: re.Match[str]) -> str:
    return match.group(1).split("|")[0]


def expand_first(sentence: str, rules: dict[str, str], lists: dict[str, Any]) -> str:
    """One plain sentence a template matches (its first reading)."""
    text = sentence
    for _ in range(8):
        expanded = RULE.sub(lambda m: f"({rules.get(m.group(1), '')})", text)
        if expanded == text:
            break
        text = expanded
    while True:
        simpler = GROUP.sub(_first, OPTIONAL.sub(_first, text))
        if simpler == text:
            break
        text = simpler
    text = SLOT.sub(lambda m: _first_value(lists, m.group(2) or m.group(1)), text)
    return " ".join(text.split())


def command_examples(language: str) -> list[str]:
    templates = load_templates(language)
    rules, lists = templates["expansion_rules"], templates["lists"]
    examples: list[str] = []
    for intent in templates["intents"].values():
        sentences = [s for block in intent.get("data", []) for s in block.get("sentences", [])]
        for sentence in sentences:
            try:
                example = expand_first(sentence, rules, lists)
            except _Unfilled:
                continue
            if example and example not in examples:
                examples.append(example)
            break
    return examples


def domain_words(language: str) -> list[str]:
    lists = load_templates(language)["lists"]
    words: list[str] = []
    for name in WORD_LISTS:
        meanings: set[str] = set()
        for value in (lists.get(name) or {}).get("values", []):
            word = str(value.get("in", "") if isinstance(value, dict) else value)
            meaning = str(value.get("out", word) if isinstance(value, dict) else word)
            if word and meaning not in meanings and word not in words:
                meanings.add(meaning)  # one spelling per meaning: "wifi", not "wi fi"
                words.append(word)
    return words


def recognition_prompt(language: str) -> str:
    """The initial prompt for the recogniser: example commands, then domain words."""
    prompt = ". ".join(e[:1].upper() + e[1:] for e in command_examples(language)) + "."
    for word in domain_words(language):
        if len(prompt) + len(word) + 2 > MAX_CHARS:
            break
        prompt += f" {word.capitalize() if prompt.endswith('.') else word},"
    return prompt.rstrip(",")[:MAX_CHARS]
