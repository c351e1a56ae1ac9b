"""What the sentence templates say, as data for the model tier's checks.

* ``sample_sentences``: random sentences per intent (seeded, so the same templates give
  the same sample), wildcards filled with a plain example value. The semantic router
  embeds them: a request close to none of them is not something agentd can do.
* ``vocabulary``: every word each intent's templates (and the lists they use) contain.
* ``synonyms``: for a list value ("wifi", "volume_up", "downloads"), every way the
  templates let a user say it. A model's choice of such a value counts as grounded only
  when the request says one of them.
* ``openers``: the words each intent's sentences can start with (its verbs: "set",
  "text", "what's"), so that the model tier acts only on a request that starts as one
  of the tool's sentences can.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from hassil import Intents
from hassil.expression import (
    Alternative,
    Expression,
    ListReference,
    Permutation,
    RuleReference,
    Sequence,
    TextChunk,
)
from hassil.intents import RangeSlotList, TextSlotList, WildcardSlotList

# Plain values for wildcard slots in sampled sentences, by list name.
WILDCARD_EXAMPLES = {
    "label": ("tea", "pasta", "gym", "laundry"),
    "app_name": ("fractal", "podcasts", "notes"),
    "target": ("OK", "send", "next"),
    "text": ("hello", "see you soon", "on my way"),
    "message": ("mom I'm on my way", "alex see you soon"),
    "to": ("mom", "alex", "555 0100"),
    "query": ("holiday", "invoice", "lease"),
    "path": ("notes.txt", "report.pdf", "photo.jpg"),
    "summary": ("drink water", "call back"),
    "body": ("in ten minutes", "done"),
}
WORD = re.compile(r"[a-z0-9']+")
MAX_DEPTH = 40


class _Sampler:
    def __init__(self, intents: Intents, rng: random.Random) -> None:
        self.intents = intents
        self.rng = rng

    def text(self, expr: Expression, rules: dict[str, object], depth: int = 0) -> str:
        if depth > MAX_DEPTH:
            return ""
        if isinstance(expr, TextChunk):
            return expr.original_text or expr.text
        if isinstance(expr, Alternative):
            if expr.is_optional and self.rng.random() < 0.5:
                return ""
            items = [i for i in expr.items if not (isinstance(i, TextChunk) and not i.text)]
            return self.text(self.rng.choice(items or expr.items), rules, depth + 1)
        if isinstance(expr, Sequence | Permutation):
            return "".join(self.text(i, rules, depth + 1) for i in expr.items)
        if isinstance(expr, RuleReference):
            rule = rules[expr.rule_name]
            return self.text(rule.expression, rules, depth + 1)  # type: ignore[attr-defined]
        if isinstance(expr, ListReference):
            return self.list_value(expr.list_name, rules, depth)
        return ""

    def list_value(self, name: str, rules: dict[str, object], depth: int) -> str:
        slot_list = self.intents.slot_lists.get(name)
        if isinstance(slot_list, TextSlotList) and slot_list.values:
            value = self.rng.choice(slot_list.values)
            return self.text(value.text_in, rules, depth + 1)
        if isinstance(slot_list, RangeSlotList):
            return str(self.rng.randrange(max(slot_list.start, 1), slot_list.stop + 1))
        if isinstance(slot_list, WildcardSlotList):
            return self.rng.choice(WILDCARD_EXAMPLES.get(name, ("this",)))
        return ""


def _sentences(intents: Intents) -> Iterator[tuple[str, Expression, dict[str, Any]]]:
    for name, intent in intents.intents.items():
        for data in intent.data:
            rules = {**intents.expansion_rules, **(data.expansion_rules or {})}
            for sentence in data.sentences:
                yield name, sentence.expression, rules


def sample_sentences(intents: Intents, per_intent: int = 40,
                     seed: int = 15) -> list[tuple[str, str]]:
    """About ``per_intent`` distinct sentences per intent, as (intent, sentence). Each
    intent draws from a generator of its own (seeded by ``seed`` and its name), so adding
    a tool's sentences leaves every other tool's sample as it was."""
    by_intent: dict[str, list[tuple[Expression, dict[str, object]]]] = defaultdict(list)
    for name, expr, rules in _sentences(intents):
        by_intent[name].append((expr, rules))
    out: list[tuple[str, str]] = []
    for name, templates in by_intent.items():
        rng = random.Random(f"{seed}:{name}")
        sampler = _Sampler(intents, rng)
        seen: set[str] = set()
        for _ in range(per_intent * 6):
            if len(seen) >= per_intent:
                break
            expr, rules = templates[len(seen) % len(templates)] if len(seen) < len(
                templates) else rng.choice(templates)
            text = " ".join(sampler.text(expr, rules).split())
            if text and text not in seen:
                seen.add(text)
                out.append((name, text))
    return out


def _words(expr: Expression, intents: Intents, rules: dict[str, object], out: set[str],
           lists: bool, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(expr, TextChunk):
        out.update(WORD.findall((expr.original_text or expr.text).lower()))
    elif isinstance(expr, Alternative | Sequence | Permutation):
        for item in expr.items:
            _words(item, intents, rules, out, lists, depth + 1)
    elif isinstance(expr, RuleReference):
        rule = rules[expr.rule_name].expression  # type: ignore[attr-defined]
        _words(rule, intents, rules, out, lists, depth + 1)
    elif isinstance(expr, ListReference) and lists:
        slot_list = intents.slot_lists.get(expr.list_name)
        if isinstance(slot_list, TextSlotList):
            for value in slot_list.values:
                _words(value.text_in, intents, rules, out, lists, depth + 1)


def vocabulary(intents: Intents, lists: bool = True) -> dict[str, frozenset[str]]:
    """Every word each intent's templates can say (wildcard and number slots excluded).

    With ``lists=False``, only the templates' own words ("set", "alarm", "for"): the
    words of the command itself, not of the values it takes.
    """
    words: dict[str, set[str]] = defaultdict(set)
    for name, expr, rules in _sentences(intents):
        _words(expr, intents, rules, words[name], lists)
    if lists:
        for phrase in intents.skip_words:
            for name in words:
                words[name].update(WORD.findall(phrase.lower()))
    return {name: frozenset(w) for name, w in words.items()}


def block_vocabulary(intents: Intents
                     ) -> dict[str, list[tuple[Mapping[str, Any], frozenset[str]]]]:
    """Per intent, each block of sentences: the slot values it fixes and the words it says.

    "turn the sound down" is a volume-key sentence: its words explain ``key=volume_down``,
    not ``key=down``.
    """
    blocks: dict[str, list[tuple[Mapping[str, Any], frozenset[str]]]] = defaultdict(list)
    for name, intent in intents.intents.items():
        for data in intent.data:
            rules: dict[str, Any] = {**intents.expansion_rules, **(data.expansion_rules or {})}
            said: set[str] = set()
            captured: set[str] = set()
            for sentence in data.sentences:
                _words(sentence.expression, intents, rules, said, True)
                _slot_names(sentence.expression, rules, captured)
            # A slot a sentence captures is not fixed by the block, whatever its default.
            fixed = {k: v for k, v in (data.slots or {}).items() if k not in captured}
            blocks[name].append((fixed, frozenset(said)))
    return dict(blocks)


def _slot_names(expr: Expression, rules: dict[str, Any], out: set[str], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(expr, Alternative | Sequence | Permutation):
        for item in expr.items:
            _slot_names(item, rules, out, depth + 1)
    elif isinstance(expr, RuleReference):
        _slot_names(rules[expr.rule_name].expression, rules, out, depth + 1)
    elif isinstance(expr, ListReference):
        out.add(expr.slot_name)


ANY_WORD = "*"  # an opener: the sentence starts with a wildcard (a name, a label)
A_NUMBER = "#"  # an opener: the sentence starts with a number


def openers(intents: Intents) -> dict[str, frozenset[str]]:
    """Per intent, the first words its sentences can have (through optional parts, rules
    and lists); ``ANY_WORD`` when one starts with a wildcard, ``A_NUMBER`` with a number."""
    found: dict[str, set[str]] = defaultdict(set)
    for name, expr, rules in _sentences(intents):
        found[name] |= _firsts(expr, intents, rules)[0]
    return {name: frozenset(words) for name, words in found.items()}


def _firsts(expr: Expression, intents: Intents, rules: dict[str, Any],
            depth: int = 0) -> tuple[set[str], bool]:
    """The words ``expr`` can start with, and whether it can say nothing at all."""
    if depth > MAX_DEPTH:
        return set(), True
    if isinstance(expr, TextChunk):
        said = WORD.findall((expr.original_text or expr.text).lower())
        return set(said[:1]), not said
    if isinstance(expr, Alternative):
        out, empty = set(), bool(expr.is_optional)
        for item in expr.items:
            first, nothing = _firsts(item, intents, rules, depth + 1)
            out |= first
            empty |= nothing
        return out, empty
    if isinstance(expr, Sequence | Permutation):
        out = set()
        for item in expr.items:
            first, nothing = _firsts(item, intents, rules, depth + 1)
            out |= first
            if not nothing:
                return out, False
        return out, True
    if isinstance(expr, RuleReference):
        return _firsts(rules[expr.rule_name].expression, intents, rules, depth + 1)
    if isinstance(expr, ListReference):
        slot_list = intents.slot_lists.get(expr.list_name)
        if isinstance(slot_list, TextSlotList):
            out, empty = set(), False
            for value in slot_list.values:
                first, nothing = _firsts(value.text_in, intents, rules, depth + 1)
                out |= first
                empty |= nothing
            return out, empty
        return {A_NUMBER if isinstance(slot_list, RangeSlotList) else ANY_WORD}, False
    return set(), True


def synonyms(intents: Intents) -> dict[str, frozenset[str]]:
    """For each list value (``value_out``), the phrases that say it, lower case."""
    found: dict[str, set[str]] = defaultdict(set)
    sampler = _Sampler(intents, random.Random(0))
    for slot_list in intents.slot_lists.values():
        if not isinstance(slot_list, TextSlotList):
            continue
        for value in slot_list.values:
            if not isinstance(value.value_out, str):
                continue
            for _ in range(4):  # values are short; a few draws cover their alternatives
                phrase = " ".join(sampler.text(value.text_in, {}).lower().split())
                if phrase:
                    found[value.value_out].add(phrase)
    return {value: frozenset(phrases) for value, phrases in found.items()}
