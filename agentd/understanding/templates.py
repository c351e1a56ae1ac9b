"""Tier 1 understanding: sentence templates (hassil) turned into validated plans.

The templates are data: YAML files in hassil's format under ``sentences/<language>/``.
Each intent is named after the catalogue tool it calls (``timer.start``); its slots
become the tool's arguments. Conversions happen here, after matching: durations to
integer seconds, clock times to 24-hour "HH:MM", "on"/"off" to booleans, numbers to
ints, and free text is cut from the request exactly as the user wrote it.

Every step is checked with ``ToolSpec.validate`` before it is returned; a step that
fails is no match. A request that no template matches gets an empty plan: this tier
never guesses. Several commands in one sentence ("turn off wifi and then take a
screenshot") are split at conjunctions when the whole sentence is not one command.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hassil import Intents, RecognizeResult, recognize_all
from hassil.expression import ListReference, RuleReference
from hassil.models import MatchEntity

from agentd.errors import AgentError
from agentd.tools.registry import Arg, ArgValue, Kind, ToolRegistry, ToolSpec
from agentd.understanding import numbers, sampling
from agentd.understanding.plan import Plan, PlannedStep
from agentd.understanding.sentence_files import SentenceFileError, load_sentence_files

TIER = "templates"
MAX_REQUEST_CHARS = 1000
MAX_STEPS = 8
# Most single-command matches one request may try while looking for a split.
MAX_MATCHES = 48

# Slots holding parts of a duration or a time of day (see sentences/en/_common.yaml):
# they fill the tool's one argument of kind duration, or clock time / period.
DURATION_SLOTS = frozenset({"d_hours", "d_minutes", "d_seconds", "d_h_half", "d_m_half", "d_fixed"})
TIME_SLOTS = frozenset({"t_hour", "t_minute", "t_ampm", "t_fixed", "t_rel", "t_past", "t_to"})
# Slots holding a date ("the 24th of december"): they fill the argument of kind said day.
DATE_SLOTS = frozenset({"dy_dom", "dy_month"})
# Slots that fill an argument of another name, or two ("message": to and text).
ARG_NAME = {"app_name": "app", "percent": "value", "state": "value", "setting2": "setting",
            "since_hours": "since", "since_days": "since"}
SPLIT_SLOTS = {"message": ("to", "text")}
# The English word lists, beside the sentences (sentences/en/_words.yaml).
WORDS = load_sentence_files("en")
NOT_APPS = WORDS.word_set("not_apps")
FILLER_WORDS = WORDS.word_set("filler_words")
NOT_CONTACTS = WORDS.word_set("not_contacts")
NOT_CONTACT_ENDS = WORDS.word_set("not_contact_ends")
NOT_MESSAGES = WORDS.word_set("not_messages")
# Leading words dropped from names ("the tea timer" -> "tea").
DETERMINERS = re.compile(rf"^(?:(?:{WORDS.alternation('determiners')})(?:\s+|$))+",
                         re.IGNORECASE)
PHONE_NUMBER = re.compile(r"^\+?\d[\d\s\-().]*\d$")
PHONE_PREFIX = re.compile(r"^(\+?\d[\d\s\-().]*\d)(?=\s)\s*(.*)$", re.DOTALL)
FILENAME = re.compile(r"(?:.*/.*|.*\S\.[A-Za-z0-9]{1,5})")
FINAL_PUNCTUATION = re.compile(r"[.?!…]*")
WORD_CHAR = re.compile(r"\w")
# A word goes on past a wildcard's end, except for a possessive ("mom" of "mom's number").
WORD_CONTINUES = re.compile(r"\w|['’](?![sS]\b)\w|[.-]\w")
CONJUNCTION = re.compile(r"\b(?:and|then|also)\b|[,;]", re.IGNORECASE)
# Where a request with several commands may be split, tried left to right.
SEPARATOR = re.compile(
    rf"\s*(?:[,;]\s*|\.\s+)?\b(?:{WORDS.alternation('separators')})\b\s*|\s*[;,]\s*"
    r"|(?<=[^\s.])[.!?]\s+"
    # Speech recognizers often leave out the punctuation between two commands.
    rf"|\s+(?=(?:{WORDS.alternation('command_starts')})\b)",
    re.IGNORECASE,
)
LEADING_SEPARATORS = re.compile(
    r"^(?:\s|[,;.!?]|\b(?:and|then|also|plus|after\s+that)\b)+", re.IGNORECASE
)
TRAILING_SEPARATORS = re.compile(r"(?:\s|[,;]|\b(?:and|then|also)\b)+$", re.IGNORECASE)
# Same-length rewrites before matching, so entity spans still index the request.
AM_PM = re.compile(r"\b([ap])\.\s?m\b\.?", re.IGNORECASE)
NUMBER_HYPHEN = re.compile(r"(?<=\d)-(?=[a-z])", re.IGNORECASE)
CLOCK_COLON = re.compile(r"(?<=\b\d):(?=[0-5]\d\b)|(?<=\b\d\d):(?=[0-5]\d\b)")
# "7.15" and "19.45" (how recognizers and many countries write times); "1.5" stays.
CLOCK_DOT = re.compile(r"(?<=\b\d)\.(?=[0-5]\d\b)|(?<=\b[01]\d)\.(?=[0-5]\d\b)"
                       r"|(?<=\b2[0-3])\.(?=[0-5]\d\b)")
# A word the templates do not know may be a typo of one they do ("trun off wifi").
SPELLING_WORD = re.compile(r"[a-z]{3,}")
MAX_CORRECTIONS = 2
MAX_HEARD_WORDS = 12  # longer transcripts are not repaired (too many readings)


class NoMatch(Exception):
    """A template matched but its slots do not make valid tool arguments."""


@dataclass(frozen=True)
class Match:
    """The best reading of one command: its steps and how good the match was."""

    steps: tuple[PlannedStep, ...]
    score: tuple[int, int, int]
    swallowed_conjunction: bool  # a wildcard slot contains "and", "then", ",", ...


class TemplateTier:
    """Tier 1: matches a request against sentence templates and returns a plan."""

    def __init__(self, registry: ToolRegistry, language: str = "en") -> None:
        self._registry = registry
        self.language = language
        self._intents = load_intents(language)
        check_slots(self._intents, registry)
        self._speller = Speller(frozenset().union(*sampling.vocabulary(self._intents).values()))
        self._warm_up()

    def understand(self, text: str) -> Plan:
        """The plan for ``text``, or an empty plan (reply CANNOT_DO) when nothing matches."""
        if not text or len(text) > MAX_REQUEST_CHARS:
            return Plan.nothing(tier=TIER)
        memo: dict[str, Match | None] = {}
        steps = self._plan(text, memo, MAX_STEPS)
        if not steps:
            steps = self._plan_corrected(text)
        if not steps:
            return Plan.nothing(tier=TIER)
        return Plan(steps=tuple(steps), tier=TIER)

    def understand_heard(self, text: str) -> Plan:
        """A spoken request: as ``understand``; when nothing matches, the transcript with
        one word dropped or changed into a template word that sounds alike (the
        recogniser drops, adds and swaps single words: "what ive is it", "read my old
        notifications"). Taken only when exactly one repaired reading has a plan, and
        marked ``understood_as`` so that a step that changes anything asks first."""
        plan = self.understand(text)
        if not plan.is_empty or not text or len(text) > MAX_REQUEST_CHARS:
            return plan
        plans: dict[str, tuple[str, list[PlannedStep]]] = {}
        for reading in self._speller.heard_readings(text):
            steps = self._plan(reading, {}, MAX_STEPS)
            if steps:
                plans.setdefault(repr([(s.tool, s.args) for s in steps]), (reading, steps))
        if len(plans) != 1:
            return plan
        ((reading, steps),) = plans.values()
        return Plan(steps=tuple(steps), tier=TIER, understood_as=reading)

    def _plan_corrected(self, text: str) -> list[PlannedStep] | None:
        """The plan for ``text`` with typos fixed, when exactly one fixed reading has one.

        Only words the templates do not know are changed, each into a known word one
        edit away (same first letter); a request whose fixes lead to different plans,
        or to none, stays unmatched.
        """
        plans: dict[str, list[PlannedStep]] = {}
        for fixed in self._speller.readings(text):
            steps = self._plan(fixed, {}, MAX_STEPS)
            if steps:
                plans[repr([(s.tool, s.args) for s in steps])] = steps
        return next(iter(plans.values())) if len(plans) == 1 else None

    # -- splitting ------------------------------------------------------------

    def _plan(
        self, text: str, memo: dict[str, Match | None], budget: int
    ) -> list[PlannedStep] | None:
        """Steps for ``text`` as one command, or as several split at conjunctions."""
        text = strip_separators(text)
        if not text or budget <= 0:
            return None
        whole = self._match_cached(text, memo)
        if whole is not None and not whole.swallowed_conjunction:
            return list(whole.steps)
        if budget > 1 and len(memo) < MAX_MATCHES:
            for sep in SEPARATOR.finditer(text):
                split = self._split_at(text, sep, memo, budget)
                if split is not None:
                    return split
        return list(whole.steps) if whole is not None else None

    def _split_at(
        self, text: str, sep: re.Match[str], memo: dict[str, Match | None], budget: int
    ) -> list[PlannedStep] | None:
        """One command before ``sep`` and one or more after it, or ``None``."""
        left = strip_separators(text[: sep.start()])
        if not left or len(memo) >= MAX_MATCHES:
            return None
        first = self._match_cached(left, memo)
        if first is None:
            return None
        rest = self._plan(text[sep.end() :], memo, budget - len(first.steps))
        if rest is None:
            return None
        return [*first.steps, *rest]

    def _match_cached(self, text: str, memo: dict[str, Match | None]) -> Match | None:
        """``match_one`` remembered for this request: splits try the same parts often."""
        if text not in memo:
            memo[text] = self.match_one(text)
        return memo[text]

    # -- one command ------------------------------------------------------------

    def match_one(self, text: str) -> Match | None:
        """The best valid reading of ``text`` as a single command, or ``None``."""
        matched = normalize(text)
        best: Match | None = None
        for result in recognize_all(matched, self._intents, language=self.language):
            try:
                steps = self._steps(result, text)
            except NoMatch:
                continue
            candidate = Match(steps, score(result), swallowed(result, text))
            if best is None or candidate.score < best.score:
                best = candidate
        return best

    def _steps(self, result: RecognizeResult, text: str) -> tuple[PlannedStep, ...]:
        """Validated steps for one hassil result; raises ``NoMatch`` if they are not valid."""
        tool = result.intent.name
        slots = {entity.name: entity for entity in result.entities_list}
        metadata = result.intent_metadata or {}
        args = build_args(self._registry.spec(tool), slots, text, metadata)
        steps = [self._validated(tool, args)]
        if "setting2" in slots:  # "turn off wifi and bluetooth"
            second = {**args, "setting": slots["setting2"].value}
            steps.append(self._validated(tool, second))
        return tuple(steps)

    def _validated(self, tool: str, args: Mapping[str, object]) -> PlannedStep:
        """The step if ``ToolSpec.validate`` accepts it (arguments in declared order)."""
        try:
            spec = self._registry.spec(tool)
            declared = [a.name for a in spec.args]
            ordered = {name: args[name] for name in declared if name in args}
            clean = spec.validate({**ordered, **args})
        except AgentError as error:
            raise NoMatch(str(error)) from error
        return PlannedStep(tool=tool, args=clean)

    def _warm_up(self) -> None:
        """Build hassil's number-word tries now, not on the first request."""
        for text in (
            "set a timer for one hour ten minutes and five seconds",
            "set an alarm for seven thirty",
            "set an alarm for seven oh five",
            "set an alarm for ten past seven",
            "set the volume to fifty percent",
            "what did you do in the last two hours",
        ):
            self.match_one(text)


class Speller:
    """Readings of a request with unknown words replaced by known ones one edit away."""

    def __init__(self, vocabulary: frozenset[str]) -> None:
        self.vocabulary = vocabulary
        self._by_first: dict[str, list[str]] = {}
        for word in vocabulary:
            if word.isalpha():
                self._by_first.setdefault(word[0], []).append(word)

    def candidates(self, word: str) -> list[str]:
        return sorted(w for w in self._by_first.get(word[0], ())
                      if abs(len(w) - len(word)) <= 1 and one_edit(word, w))

    def heard_readings(self, text: str) -> list[str]:
        """``text`` with one word dropped, or one word the templates do not know changed
        into a known one at most two letters away ("ive" → "time", "five", ...); never
        the first."""
        words = text.split()
        if len(words) > MAX_HEARD_WORDS:
            return []
        # The first word (the verb: what to do) is never dropped or changed: an unknown
        # verb is a request agentd cannot do ("pay my bill" is not "tap my bill").
        out = [" ".join(words[:i] + words[i + 1:]) for i in range(1, len(words))]
        for i, word in enumerate(words[1:], 1):
            bare = word.lower().strip(".,!?")
            if not bare.isalpha() or bare in self.vocabulary:
                continue
            out += [" ".join([*words[:i], known, *words[i + 1:]])
                    for known in sorted(self.vocabulary)
                    if known.isalpha() and edit_distance(bare, known) <= 2]
        return out

    def readings(self, text: str) -> list[str]:
        """``text`` with each combination of fixes (none if no word needs one)."""
        unknown = [m for m in SPELLING_WORD.finditer(text.lower())
                   if m.group() not in self.vocabulary]
        if not unknown or len(unknown) > MAX_CORRECTIONS:
            return []
        readings = [text]
        for match in reversed(unknown):  # from the end, so earlier offsets stay valid
            fixes = self.candidates(match.group())
            if not fixes:
                return []
            readings = [r[:match.start()] + fix + r[match.end():]
                        for r in readings for fix in fixes]
        return readings


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance, or ``limit + 1`` once it is known to be larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
        if min(row) > limit:
            return limit + 1
    return row[-1]


def one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one insertion, deletion, change or swap."""
    if a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if len(long) - len(short) != 1:
        return False
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[i:] == long[i + 1:]


# -- loading -------------------------------------------------------------------


def load_intents(language: str, folder: Path | None = None) -> Intents:
    """All sentence files for ``language``, merged into one hassil ``Intents``
    (``sentence_files`` checks them: names defined twice, unknown keys)."""
    files = load_sentence_files(language, folder)
    return Intents.from_dict(copy.deepcopy(dict(files.data)))


def slot_arguments(slot: str, spec: ToolSpec) -> tuple[str, ...]:
    """The arguments of ``spec`` a slot fills: by kind for durations and times, else by
    name (``ARG_NAME``, ``SPLIT_SLOTS``)."""
    if slot in DATE_SLOTS:
        return tuple(a.name for a in spec.args if a.kind is Kind.SAID_DAY)[:1]
    if slot in DURATION_SLOTS or slot in TIME_SLOTS:
        kinds = (Kind.DURATION,) if slot in DURATION_SLOTS else (Kind.CLOCK_TIME, Kind.PERIOD)
        return tuple(a.name for a in spec.args if a.kind in kinds)[:1]
    return SPLIT_SLOTS.get(slot, (ARG_NAME.get(slot, slot),))


def check_slots(intents: Intents, registry: ToolRegistry) -> None:
    """Every intent names a tool, and every slot of its sentences an argument of it."""
    for intent in intents.intents.values():
        if intent.name not in registry:
            raise SentenceFileError(f"intent {intent.name!r} names no tool "
                                    "(`agentctl tools` lists them)")
        spec = registry.spec(intent.name)
        declared = {a.name for a in spec.args}
        for data in intent.data:
            slots = set(data.slots) | {ref.slot_name for sentence in data.sentences
                                       for ref in _list_references(sentence.expression,
                                                                   intents, data)}
            for slot in sorted(slots):
                filled = slot_arguments(slot, spec)
                if not filled or not set(filled) <= declared:
                    raise SentenceFileError(
                        f"intent {intent.name}: slot {{{slot}}} names no argument of the tool "
                        f"(it takes {', '.join(sorted(declared)) or 'none'})")


def _list_references(expression: Any, intents: Intents, data: Any,
                     seen: frozenset[str] = frozenset()) -> list[ListReference]:
    """The slots an expression fills, through its expansion rules."""
    if isinstance(expression, ListReference):
        return [expression]
    if isinstance(expression, RuleReference):
        rules = {**intents.expansion_rules, **data.expansion_rules}
        rule = rules.get(expression.rule_name)
        if rule is None or expression.rule_name in seen:
            return []
        return _list_references(rule.expression, intents, data, seen | {expression.rule_name})
    found: list[ListReference] = []
    for item in getattr(expression, "items", ()):
        found += _list_references(item, intents, data, seen)
    return found


# -- text helpers --------------------------------------------------------------


def normalize(text: str) -> str:
    """Rewrites hassil needs ("p.m." -> "pm", "7:30" -> "7 30"), keeping the length."""
    text = AM_PM.sub(lambda m: (m.group(1) + "m").ljust(len(m.group(0))), text)
    text = CLOCK_COLON.sub(" ", text)
    text = CLOCK_DOT.sub(" ", text)
    return NUMBER_HYPHEN.sub(" ", text)


def strip_separators(text: str) -> str:
    """``text`` without conjunctions or punctuation left over from a split."""
    text = LEADING_SEPARATORS.sub("", text)
    return TRAILING_SEPARATORS.sub("", text).strip()


def score(result: RecognizeResult) -> tuple[int, int, int]:
    """Sort key, best first: least text in wildcards, fewest wildcards, most literal text.

    Text matched by templates and lists is understood; text a wildcard swallowed is
    only copied. So "text mom saying hi" is to="mom", text="hi", not text="saying hi".
    """
    wildcards = [e for e in result.entities_list if e.is_wildcard]
    return (
        sum(len(e.text or "") for e in wildcards),
        len(wildcards),
        -result.text_chunks_matched,
    )


def swallowed(result: RecognizeResult, text: str) -> bool:
    """True when a wildcard slot took in a conjunction: maybe two commands in one."""
    return any(
        CONJUNCTION.search(span_text(e, text)) for e in result.entities_list if e.is_wildcard
    )


def on_word_boundaries(entity: MatchEntity, text: str) -> bool:
    """False when a wildcard cut a word ("report" of "report.pdf")."""
    if entity.text_span is None:
        return True
    start, end = entity.text_span
    before = text[start - 1 : start] if start > 0 else ""
    return not (WORD_CHAR.match(before) or WORD_CONTINUES.match(text, end))


def span_text(entity: MatchEntity, text: str, final: bool = False) -> str:
    """The entity's text exactly as the user wrote it (case and punctuation kept).

    hassil drops punctuation before matching, so a span never includes the "?" or "!"
    that ends a message; with ``final`` it is put back.
    """
    if entity.text_span is None:
        return str(entity.text)
    start, end = entity.text_span
    if final and (punctuation := FINAL_PUNCTUATION.match(text, end)) is not None:
        end = punctuation.end()
    return text[start:end]


# -- slots to arguments --------------------------------------------------------


def build_args(
    spec: ToolSpec, slots: Mapping[str, MatchEntity], text: str, metadata: Mapping[str, Any]
) -> dict[str, ArgValue]:
    """Tool arguments from matched slots; raises ``NoMatch`` when they make no sense.
    Each wildcard is cleaned as its argument's kind says (free text, contact, path, name)."""
    args: dict[str, ArgValue] = {}
    if DURATION_SLOTS & slots.keys():
        args[slot_arguments("d_fixed", spec)[0]] = duration_arg(slots)
    if TIME_SLOTS & slots.keys():
        args[slot_arguments("t_fixed", spec)[0]] = time_arg(slots, bool(metadata.get("daytime")))
    if DATE_SLOTS & slots.keys():
        args[slot_arguments("dy_dom", spec)[0]] = date_arg(slots)
    for name, entity in slots.items():
        if (name in DURATION_SLOTS or name in TIME_SLOTS or name in DATE_SLOTS
                or name == "setting2"):
            continue
        if entity.is_wildcard and not on_word_boundaries(entity, text):
            raise NoMatch(f"{name} starts or ends inside a word")
        if name in SPLIT_SLOTS:  # "mom I'm running late": a contact, then the message
            to, message = SPLIT_SLOTS[name]
            args[to], args[message] = split_contact(span_text(entity, text, final=True))
        elif entity.is_wildcard:
            arg = spec.arg(ARG_NAME.get(name, name))
            final = arg.kind is Kind.TEXT
            args[arg.name] = clean_slot(arg, span_text(entity, text, final=final))
        else:
            args.update(list_arg(name, entity.value))
    checked = metadata.get("filename")
    if checked and not FILENAME.fullmatch(str(args.get(checked, ""))):
        raise NoMatch(f"{checked} does not look like a file name")
    return args


def list_arg(name: str, value: object) -> dict[str, ArgValue]:
    """One argument from a list or range slot (or a fixed slot of the template)."""
    arg = ARG_NAME.get(name, name)
    if name == "state":
        return {arg: to_bool(value)}
    if name in ("since_hours", "since_days"):
        count = require_int(value)
        return {arg: f"{count * 24 if name == 'since_days' else count}h"}
    if name in ("percent", "x", "y"):
        return {arg: require_int(value)}
    if isinstance(value, bool | str):
        return {arg: value}
    return {arg: require_int(value)}


def require_int(value: object) -> int:
    """``value`` as an int, or ``NoMatch`` ("7.5" is not an hour)."""
    number = numbers.as_int(value)
    if number is None:
        raise NoMatch(f"{value!r} is not a whole number")
    return number


def to_bool(value: object) -> bool:
    """ "on"/"off" (and friends) as a boolean."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("on", "true", "yes", "enable", "enabled"):
        return True
    if word in ("off", "false", "no", "disable", "disabled"):
        return False
    raise NoMatch(f"{value!r} is not on or off")


def duration_arg(slots: Mapping[str, MatchEntity]) -> int:
    """Whole seconds from the duration slots ("an hour and a half" -> 5400)."""

    def number(name: str) -> float:
        entity = slots.get(name)
        if entity is None:
            return 0.0
        value = numbers.as_number(entity.value)
        if value is None:
            raise NoMatch(f"{name} is not a number")
        return value

    parts = numbers.DurationParts(
        hours=number("d_hours"),
        minutes=number("d_minutes"),
        seconds=number("d_seconds"),
        half_hour="d_h_half" in slots,
        half_minute="d_m_half" in slots,
        fixed_seconds=int(number("d_fixed")),
    )
    total = parts.total_seconds()
    if total is None:
        raise NoMatch("not a duration")
    return total


def time_arg(slots: Mapping[str, MatchEntity], daytime: bool = False) -> str:
    """ "HH:MM" from the clock-time slots ("seven thirty in the morning" -> "07:30").
    ``daytime`` (an intent's metadata, for appointments): an hour from 1 to 6 said
    without am or pm is in the afternoon ("a meeting at 3" is 15:00)."""
    if "t_fixed" in slots:
        return str(slots["t_fixed"].value)
    ampm = str(slots["t_ampm"].value) if "t_ampm" in slots else None
    hour = require_int(slots["t_hour"].value)
    offset = 0
    for name, sign in (("t_rel", 1), ("t_past", 1), ("t_to", -1)):
        if name in slots:
            offset = sign * require_int(slots[name].value)
    if offset:
        result = numbers.relative_hhmm(hour, offset, ampm)
    else:
        minute = require_int(slots["t_minute"].value) if "t_minute" in slots else 0
        if daytime and ampm is None and 1 <= hour <= 6:
            ampm = "pm"
        result = numbers.clock_hhmm(hour, minute, ampm)
    if result is None:
        raise NoMatch("not a time of day")
    return result


def date_arg(slots: Mapping[str, MatchEntity], today: dt.date | None = None) -> str:
    """ "MM-DD" from the date slots ("the 24th of december" -> "12-24"). A day of the
    month without a month ("the 24th") is the next such day, today included."""
    day = require_int(slots["dy_dom"].value)
    if "dy_month" in slots:
        month = require_int(slots["dy_month"].value)
        try:
            dt.date(2028, month, day)  # a leap year: 02-29 is a day
        except ValueError:
            raise NoMatch(f"there is no day {day} in month {month}") from None
        return f"{month:02d}-{day:02d}"
    today = today or dt.datetime.now().astimezone().date()
    year, month = today.year, today.month
    for _ in range(13):
        if day >= today.day or (year, month) != (today.year, today.month):
            try:
                return f"{dt.date(year, month, day):%m-%d}"
            except ValueError:
                pass
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise NoMatch(f"there is no day {day} in a month")


def clean_slot(arg: Arg, raw: str) -> str:
    """A wildcard's text as an argument, by its kind: trimmed, checked, never empty."""
    if arg.kind is Kind.TEXT:
        value = clean_free_text(raw)
    elif arg.kind is Kind.CONTACT:
        value = clean_contact(raw)
    elif arg.kind is Kind.PATH:
        value = raw.strip().strip("\"'“”‘’").rstrip(",;:!?").strip()
    else:
        value = DETERMINERS.sub("", trim_punctuation(raw))
    if not value or (arg.name == "app" and value.lower() in NOT_APPS):
        raise NoMatch(f"{arg.name} is empty")
    if arg.kind is not Kind.TEXT and FILLER_WORDS.issuperset(value.lower().split()):
        raise NoMatch(f"{arg.name} {value!r} is only filler words")
    if arg.max_words is not None and len(value.split()) > arg.max_words:
        raise NoMatch(f"{arg.name} is too long to be a name")
    return value


def trim_punctuation(raw: str) -> str:
    """``raw`` without surrounding whitespace and punctuation."""
    return re.sub(r"^[\W_]+|[\W_]+$", "", raw.strip())


def clean_free_text(raw: str) -> str:
    """A message as written: surrounding space, separators and matching quotes removed."""
    value = raw.strip().lstrip(",:;-–— ").rstrip(",;:-–— ").strip()
    if len(value) >= 2 and value[0] in "\"'“‘" and value[-1] in "\"'”’":
        value = value[1:-1].strip()
    return value


def clean_contact(raw: str) -> str:
    """A contact name or phone number; numbers lose their separators ("555 0100")."""
    value = raw.strip().strip(",;:.!?\"'“”").strip()
    if PHONE_NUMBER.fullmatch(value):
        digits = re.sub(r"[^\d+]", "", value)
        if sum(c.isdigit() for c in digits) < 3:
            raise NoMatch("too few digits for a phone number")
        return digits
    value = re.sub(r"^(?:my|the)\s+", "", trim_punctuation(value), flags=re.IGNORECASE)
    first = value.split()[0].lower() if value else ""
    last = value.split()[-1].lower() if value else ""
    if not value or first in NOT_CONTACTS or value.lower() in NOT_CONTACTS or (
            len(value.split()) > 1 and last in NOT_CONTACT_ENDS):
        raise NoMatch(f"{raw!r} is not a contact")
    return value


def split_contact(raw: str) -> tuple[str, str]:
    """ "mom I'm running late" -> ("mom", "I'm running late"); a number may lead."""
    raw = raw.strip()
    phone = PHONE_PREFIX.match(raw)
    if phone is not None:
        to, message = phone.group(1), phone.group(2)
    else:
        words = raw.split(None, 2)
        take = 2 if words and words[0].lower() == "my" else 1
        to = " ".join(words[:take])
        message = raw.split(None, take)[take] if len(words) > take else ""
    text = clean_free_text_required(message)
    if NOT_MESSAGES.issuperset(trim_punctuation(text).lower().split()):
        raise NoMatch(f"{text!r} says no message")
    return clean_contact(to), text


def clean_free_text_required(raw: str) -> str:
    """``clean_free_text`` that refuses an empty message."""
    value = clean_free_text(raw)
    if not value:
        raise NoMatch("the message is empty")
    return value
