"""Grounding: a model-planned step may only use what the user said.

After decoding, every argument of a proposed step is checked against the request (and,
for later steps, the results already seen):

* a free-text argument (a name, a label, a message) must be a span of the request or
  of an earlier result, on word boundaries, and not only filler words;
* a number, a duration or a time of day must come from numbers the request contains;
* a choice (a setting, a key, a folder, a kind of file) must be named in the request by
  one of the ways the sentence templates say it (``sampling.synonyms``);
* on/off must be said ("on", "enable", "off", "mute", ...).

And the request itself must be explained: every word of it is part of an argument, a
word the chosen tool's templates use, or a common function word. "Send 20 dollars to
Mike" is then no alarm at 20:00, and "what's the weather" no ``clock.time``. Its first
word (after "please", "um", ...) must be one the tool's sentences can start with, as the
template tier never changes a request's verb: "text back ok" is no ``input.type``. A
contact is never one of the words the templates refuse as a name ("back", "them"). A step
that fails is not run: the model tier answers honestly that it can't do that yet.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hassil import Intents

from agentd.tools.registry import WEEKDAYS, ArgValue, Kind, ToolSpec
from agentd.understanding import sampling
from agentd.understanding.plan import PlannedStep
from agentd.understanding.sampling import A_NUMBER, ANY_WORD
from agentd.understanding.templates import ARG_NAME, NOT_CONTACTS, NOT_MESSAGES, WORDS

WORD = re.compile(r"[a-z0-9']+")
NUMBER_WORDS = {
    "zero": 0, "oh": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100,
}
UNIT_SECONDS = {
    "second": 1, "seconds": 1, "sec": 1, "secs": 1, "s": 1,
    "minute": 60, "minutes": 60, "min": 60, "mins": 60, "m": 60,
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600, "h": 3600,
}
FIXED_SECONDS = {"half an hour": 1800, "half hour": 1800, "quarter of an hour": 900,
                 "quarter hour": 900, "half a minute": 30}
ARTICLE = re.compile(r"\b(?:a|an)\b", re.IGNORECASE)
CLOCK = re.compile(r"\b([01]?\d|2[0-3])[:.]([0-5]\d)\b")
PM_WORDS = ("pm", "p m", "afternoon", "evening", "tonight", "night")
AM_WORDS = ("am", "a m", "morning")
ON_WORDS = frozenset({"on", "enable", "activate", "start", "use", "connect", "join"})
OFF_WORDS = frozenset({"off", "disable", "deactivate", "stop", "kill", "disconnect",
                       "mute", "silence", "silent", "leave", "exit", "light"})
LEVEL_WORDS = {"max": 100, "maximum": 100, "full": 100, "min": 0, "minimum": 0,
               "mute": 0, "silence": 0, "silent": 0, "half": 50, "halfway": 50}
# Words any request may have that carry no action of their own.
FUNCTION_WORDS = frozenset({
    "a", "an", "the", "my", "me", "i", "i'm", "i'd", "i'll", "you", "your", "it", "it's",
    "its", "is", "are", "was", "be", "am", "do", "does", "did", "can", "could", "would",
    "will", "should", "please", "pls", "thanks", "thank", "to", "for", "of", "in", "on", "at",
    "by", "with", "and", "or", "then", "also", "just", "now", "right", "some", "any", "all",
    "this", "that", "these", "those", "there", "here", "what", "what's", "whats", "which",
    "how", "when", "where", "who", "up", "down", "out", "into", "from", "again", "back",
    "still", "too", "so", "very", "bit", "little", "ok", "okay", "hey", "hi", "um", "uh", "oh",
    "well", "yeah", "yes", "phone", "device", "mine", "our", "us", "we", "them", "they", "he",
    "she", "have", "has", "had", "got", "need", "want", "let",
})
FILLER = WORDS.word_set("filler_words")
# Words a request may start with before its verb ("um set a timer", "so what's the time").
LEAD_INS = frozenset({"um", "uh", "er", "erm", "oh", "so", "and", "well", "yeah", "hmm",
                      "now", "just", "then", "also"})
# Arguments whose value is said with numbers.
NUMBER_KINDS = (Kind.CLOCK_TIME, Kind.DURATION)


@dataclass(frozen=True)
class Evidence:
    """What the templates know, for the checks: synonyms per choice, words per tool."""

    synonyms: Mapping[str, frozenset[str]]
    vocabulary: Mapping[str, frozenset[str]]
    # The templates' own words per tool, without list values ("set", "alarm").
    command_words: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    # Every way to say a choice of some tool ("documents", "wifi", "volume up").
    choice_phrases: frozenset[str] = frozenset()
    # (tool, argument) pairs whose value is one of listed choices.
    choice_args: frozenset[tuple[str, str]] = frozenset()
    # Per tool, each sentence block's fixed slot values and words (``block_vocabulary``),
    # and the skip words' words, which any request may have.
    blocks: Mapping[str, Sequence[tuple[Mapping[str, Any], frozenset[str]]]] = (
        dataclasses.field(default_factory=dict))
    skip: frozenset[str] = frozenset()
    # (tool, argument) -> the argument's kind, from the declarations.
    kinds: Mapping[tuple[str, str], Kind] = dataclasses.field(default_factory=dict)
    # Per tool, the words its sentences can start with (``sampling.openers``).
    openers: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)

    def explaining(self, step: PlannedStep) -> frozenset[str]:
        """The words that account for ``step``: those of the sentences that could make it."""
        blocks = self.blocks.get(step.tool)
        if not blocks:
            return self.vocabulary.get(step.tool, frozenset())
        said = [w for fixed, w in blocks if _fits(fixed, step.args)]
        return self.skip.union(*said)

    @staticmethod
    def from_intents(intents: Intents, specs: Sequence[ToolSpec]) -> Evidence:
        synonyms = sampling.synonyms(intents)
        choices = {c for spec in specs for arg in spec.args for c in arg.choices}
        phrases = frozenset(p for c in choices for p in synonyms.get(c, ()))
        skip = frozenset(w for phrase in intents.skip_words for w in words(phrase))
        return Evidence(synonyms, sampling.vocabulary(intents),
                        sampling.vocabulary(intents, lists=False), phrases,
                        frozenset((s.name, a.name) for s in specs for a in s.args if a.choices),
                        sampling.block_vocabulary(intents), skip,
                        {(s.name, a.name): a.kind for s in specs for a in s.args},
                        sampling.openers(intents))

    def starts_as(self, tool: str, request_words: Sequence[str]) -> str | None:
        """The request's first word when no sentence of ``tool`` can start with it (a
        sentence may start with a word that is also a skip word: "can i see ...")."""
        openers = self.openers.get(tool)
        if openers is None or ANY_WORD in openers:
            return None
        for word in request_words:
            if word in openers or (word.isdigit() and A_NUMBER in openers):
                return None
            if word not in self.skip and word not in LEAD_INS:
                return word
        return None


def _fits(fixed: Mapping[str, Any], args: Mapping[str, ArgValue]) -> bool:
    """True when a sentence block's fixed slots agree with ``args`` (type and value)."""
    for slot, value in fixed.items():
        if slot == "state":
            value = value == "on"
        arg = args.get(ARG_NAME.get(slot, slot))
        if type(arg) is not type(value) or arg != value:
            return False
    return True


def words(text: str) -> list[str]:
    return list(_words(text))


@lru_cache(maxsize=512)
def _words(text: str) -> tuple[str, ...]:
    return tuple(WORD.findall(text.lower().replace("’", "'")))


def _phrase_in(phrase: str, text_words: Sequence[str]) -> bool:
    target = words(phrase)
    n = len(target)
    return n > 0 and any(list(text_words[i:i + n]) == target
                         for i in range(len(text_words) - n + 1))


def numbers_in(text: str) -> list[int]:
    """Whole numbers said in ``text``, as digits or words ("twenty five" -> 25)."""
    return list(_numbers_in(text))


@lru_cache(maxsize=512)
def _numbers_in(text: str) -> tuple[int, ...]:
    found: list[int] = []
    pending: int | None = None
    for word in words(text.replace(":", " ").replace(".", " ")):
        if word.isdigit():
            if pending is not None:
                found.append(pending)
                pending = None
            found.append(int(word))
            continue
        value = NUMBER_WORDS.get(word)
        if value is None:
            if pending is not None:
                found.append(pending)
                pending = None
            continue
        if pending is not None and pending >= 20 and pending % 10 == 0 and value < 10:
            found.append(pending + value)  # "twenty five"
            found.append(pending)
            pending = None
        else:
            if pending is not None:
                found.append(pending)
            pending = value
    if pending is not None:
        found.append(pending)
    return tuple(found)


def durations_in(text: str) -> set[int]:
    """Seconds the request may mean: each number times a unit it names, and sums of two."""
    lowered = " ".join(words(text))
    fixed = {s for phrase, s in FIXED_SECONDS.items() if re.search(rf"\b{phrase}\b", lowered)}
    for phrase in FIXED_SECONDS:  # "half an hour" is not also "an hour"
        lowered = re.sub(rf"\b{phrase}\b", " ", lowered)
    text = lowered
    tokens = lowered.split()
    units = {UNIT_SECONDS[t] for t in tokens if t in UNIT_SECONDS}
    for word in tokens:  # "10min", "5mins"
        match = re.fullmatch(r"\d+([a-z]+)", word)
        if match and match.group(1) in UNIT_SECONDS:
            units.add(UNIT_SECONDS[match.group(1)])
    numbers = set(numbers_in(text)) | {int(n) for n in re.findall(r"\d+", text)}
    single = {n * u for n in numbers for u in units}
    if "and a half" in lowered or "and half" in lowered:
        single |= {n * u + u // 2 for n in numbers for u in units}
    single |= fixed
    return single | {a + b for a in single for b in single if a != b}


MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
MONTH_WORDS = {**{m: i for i, m in enumerate(MONTHS, 1)},
               **{m[:3]: i for i, m in enumerate(MONTHS, 1) if m != "may"}, "sept": 9}
ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?$")


def days_in(text: str) -> set[str]:
    """The days (TOOLS-v2 form) ``text`` says: "today", "tomorrow", weekdays, and
    "MM-DD" (and "YYYY-MM-DD" with a year said) from a month name and a day number."""
    said = words(text)
    found = {w for w in said if w in ("today", "tomorrow", "tonight", *WEEKDAYS)}
    if "tonight" in found:
        found = (found - {"tonight"}) | {"today"}
    months = {MONTH_WORDS[w] for w in said if w in MONTH_WORDS}
    numbers = {int(m.group(1)) for w in said if (m := ORDINAL.match(w))}
    numbers |= {n for n in numbers_in(text) if n <= 31}
    years = {int(w) for w in said if re.fullmatch(r"20\d\d", w)}
    for month in months:
        for day in numbers:
            if 1 <= day <= 31:
                found.add(f"{month:02d}-{day:02d}")
                found |= {f"{year}-{month:02d}-{day:02d}" for year in years}
    found |= set(re.findall(r"\b(?:\d{4}-)?\d\d-\d\d\b", text))  # written as a date
    return found


def time_grounded(value: str, text: str) -> bool:
    """``HH:MM`` only from an hour (and minutes) the request says, with a matching am/pm."""
    hour, minute = (int(p) for p in value.split(":"))
    lowered = " ".join(words(text))
    if (hour, minute) == (12, 0) and ("noon" in lowered or "midday" in lowered):
        return True
    if (hour, minute) == (0, 0) and "midnight" in lowered:
        return True
    said = set(numbers_in(ARTICLE.sub(" ", text)))  # "an alarm" says no hour 1
    pm = any(re.search(rf"\b{w}\b", lowered) for w in PM_WORDS)
    am = any(re.search(rf"\b{w}\b", lowered) for w in AM_WORDS)
    clocks = [(int(h), int(m)) for h, m in CLOCK.findall(text)]
    if clocks:  # "7.15", "19:45": the time is one of them, read as written
        return any(m == minute and (h == hour or (pm and h + 12 == hour) or (
            am and h == 12 and hour == 0)) for h, m in clocks)
    minute_ok = minute == 0 or minute in said or (
        minute == 30 and "half" in lowered) or (minute in (15, 45) and "quarter" in lowered)
    if not minute_ok:
        return False
    if hour in said:  # 24-hour, or a morning hour said as such
        return not (pm and hour < 12) and not (am and hour >= 12)
    hour12 = hour - 12 if hour > 12 else hour
    candidates = {hour12, hour12 + 1}  # "quarter to seven" is 06:45
    return (hour >= 12 and pm and bool(candidates & said)) or (
        hour < 12 and not pm and minute in (45, 50, 40) and bool(candidates & said))


def _span_of(value: str, sources: Iterable[str]) -> bool:
    target = words(value)
    if not target:
        return False
    return any(_phrase_in(value, words(source)) for source in sources)


def ungrounded(step: PlannedStep, request: str, evidence: Evidence,
               observations: Sequence[str] = (),
               earlier: Sequence[PlannedStep] = ()) -> str | None:
    """Why ``step`` is not grounded in ``request`` (and ``observations``), or None.

    ``earlier``: the steps already taken for this request, which account for their part
    of it ("find the report" before "and throw it away").
    """
    request_words = words(request)
    texts = [(n, words(v)) for n, v in step.args.items() if isinstance(v, str)]
    for i, (name, said) in enumerate(texts):  # each thing said fills one argument
        for other, other_said in texts[i + 1:]:
            if said and other_said and (_phrase_in(" ".join(said), other_said)
                                        or _phrase_in(" ".join(other_said), said)):
                return f"{step.tool}: {name} and {other} hold the same words"
    for name, value in step.args.items():
        problem = _arg_problem(step.tool, name, value, request, request_words, evidence,
                               observations, step.args)
        if problem:
            return f"{step.tool} {name}={value!r}: {problem}"
    verb = None if earlier else evidence.starts_as(step.tool, request_words)
    if verb is not None:
        return f"{step.tool}: no sentence of it starts with {verb!r}, as the request does"
    return _unexplained(step, request_words, evidence, earlier)


def _arg_problem(tool: str, name: str, value: ArgValue, request: str,
                 request_words: Sequence[str], evidence: Evidence,
                 observations: Sequence[str], other_args: Mapping[str, ArgValue]) -> str | None:
    if isinstance(value, bool):
        said = set(request_words)
        if value and not said & ON_WORDS:
            return "the request does not say on"
        if not value and not said & OFF_WORDS:
            return "the request does not say off"
        return None
    kind = evidence.kinds.get((tool, name), Kind.TEXT)
    if isinstance(value, int):
        if kind is Kind.DURATION:
            return None if value in durations_in(request) else "not a duration said"
        levels = {v for w, v in LEVEL_WORDS.items() if w in request_words}
        return None if value in numbers_in(request) or value in levels else "not said"
    if kind is Kind.CLOCK_TIME:
        return None if time_grounded(value, request) else "not a time said"
    if kind is Kind.SAID_DAY:
        return None if value.lower() in days_in(request) else "not a day said"
    if kind is Kind.PERIOD:
        if value in ("today", "yesterday"):
            return None if value in request_words else "not said"
        match = re.fullmatch(r"(\d+)h", value)
        if match:
            n = int(match.group(1))
            return None if n in numbers_in(request) or (
                n % 24 == 0 and n // 24 in numbers_in(request)) else "not said"
    if (tool, name) in evidence.choice_args:
        named: frozenset[str] = evidence.synonyms.get(
            value, frozenset({value.replace("_", " ")}))
        if any(_phrase_in(p, request_words) for p in named):
            return None
        return "the request does not name it"
    if kind is Kind.CONTACT and re.fullmatch(r"\+?\d{3,}", value):
        digits = re.sub(r"\D", "", request)
        return None if value.lstrip("+") in digits else "a number not said"
    if kind is Kind.CONTACT and _not_a_contact(value):
        return "the templates take no contact by that word"  # "back", "them", "me"
    if set(words(value)) <= FILLER:
        return "only filler words"
    if kind is Kind.TEXT and set(words(value)) <= NOT_MESSAGES and any(
            evidence.kinds.get((tool, k)) is Kind.CONTACT for k in other_args):
        return "it says no message"  # "text my sister back": no SMS that reads "back"
    if kind is not Kind.TEXT and " ".join(words(value)) in evidence.choice_phrases:
        return "it is a setting, key, folder or kind, not a name"  # "pull up my documents"
    if _span_of(value, observations) and not _span_of(value, [request]):
        return None  # copied from a result (the policy engine treats it as untrusted)
    if kind not in (Kind.TEXT, Kind.PATH):  # a name is not the command: "set alarm 7.15"
        command = (set(words(value)) & evidence.command_words.get(tool, frozenset())
                   - FUNCTION_WORDS)
        if command:
            return f"it holds the command's own words ({', '.join(sorted(command))})"
        if numbers_in(value) and any(
                isinstance(v, int) or evidence.kinds.get((tool, k)) in NUMBER_KINDS
                for k, v in other_args.items() if k != name):
            return "it holds the number another argument uses"
    if _span_of(value, [request, *observations]):
        return None
    return "not a span of the request"


def _not_a_contact(value: str) -> bool:
    """As the templates' ``clean_contact``: "back", "them", "me" name nobody."""
    said = words(re.sub(r"^(?:my|the)\s+", "", value.strip(), flags=re.IGNORECASE))
    return not said or said[0] in NOT_CONTACTS or " ".join(said) in NOT_CONTACTS


def _unexplained(step: PlannedStep, request_words: Sequence[str], evidence: Evidence,
                 earlier: Sequence[PlannedStep] = ()) -> str | None:
    """A word of the request that neither the steps' arguments nor their tools account for."""
    covered: set[int] = set()
    steps = [step, *earlier]
    for value in (v for s in steps for v in s.args.values()):
        if isinstance(value, str) and not isinstance(value, bool):
            target = words(value)
            n = len(target)
            for i in range(len(request_words) - n + 1):
                if n and list(request_words[i:i + n]) == target:
                    covered.update(range(i, i + n))
    digits = [re.sub(r"\D", "", v) for s in steps for v in s.args.values()
              if isinstance(v, str)]
    for i, word in enumerate(request_words):  # "555 0199" is the number "5550199"
        if word.isdigit() and any(word in d for d in digits):
            covered.add(i)
    known = frozenset().union(*(evidence.explaining(s) for s in steps))
    # A number the step does not use is not explained ("bump the volume up to 70" is no
    # volume key press); a step with a number, time or duration used it (checked above).
    uses_numbers = any((isinstance(v, int) and not isinstance(v, bool))
                       or evidence.kinds.get((step.tool, k)) in (Kind.CLOCK_TIME, Kind.PERIOD,
                                                                 Kind.SAID_DAY)
                       for k, v in step.args.items())
    says_a_date = any(evidence.kinds.get((step.tool, k)) is Kind.SAID_DAY
                      and re.fullmatch(r"(\d{4}-)?\d\d-\d\d", str(v))
                      for k, v in step.args.items())
    for i, word in enumerate(request_words):
        if i in covered or word in FUNCTION_WORDS:
            continue
        number = word.isdigit() or re.fullmatch(r"\d+[a-z]{1,4}", word) or (
            word in NUMBER_WORDS and word not in ("a", "an", "oh"))
        if number and not uses_numbers:
            return f"the request says {word!r}, a number {step.tool} does not use"
        if number or word in known or word in UNIT_SECONDS or (
                says_a_date and word in MONTH_WORDS):
            continue
        return f"the request says {word!r}, which {step.tool} does not explain"
    return None


# -- candidates: the grounded values, for the grammar ------------------------------------

EDGE_PUNCTUATION = ",.;:!?\"'“”‘’()"
LEADING_DETERMINERS = re.compile(rf"^(?:(?:{WORDS.alternation('determiners')})\s+)+",
                                 re.IGNORECASE)
PHONE = re.compile(r"\+?\d[\d\s\-().]*\d")


def _times_near(request: str) -> list[str]:
    """The times of day the request's numbers could spell (``time_grounded`` decides)."""
    said = numbers_in(ARTICLE.sub(" ", request))
    hours = {h % 24 for n in said if n <= 24 for h in (n, n + 12, n - 1, n + 11)} | {0, 12}
    minutes = {0, 15, 30, 45} | {n for n in said if n < 60}
    return [f"{h:02d}:{m:02d}" for h in sorted(hours) for m in sorted(minutes)]


def spans(request: str, max_words: int | None = None) -> list[str]:
    """Every run of whole words of ``request`` as written, edge punctuation trimmed."""
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", request)]
    found: dict[str, None] = {}
    for i in range(len(tokens)):
        last = len(tokens) if max_words is None else min(len(tokens), i + max_words)
        for j in range(i, last):
            text = request[tokens[i][0]:tokens[j][1]].strip(EDGE_PUNCTUATION).strip()
            if text and not set(words(text)) <= FILLER:
                found[text] = None
    return list(found)


def candidates(spec: ToolSpec, request: str, evidence: Evidence) -> dict[str, tuple[object, ...]]:
    """For each argument of ``spec``, the values the request grounds (see ``ungrounded``)."""
    said = words(request)
    numbers = numbers_in(request)
    found: dict[str, tuple[object, ...]] = {}
    for arg in spec.args:
        values: list[object] = []
        if bool in arg.types:
            values += [v for v, w in ((True, ON_WORDS), (False, OFF_WORDS)) if set(said) & w]
        if int in arg.types:
            if arg.kind is Kind.DURATION:
                values += sorted(durations_in(request))
            else:
                values += list(dict.fromkeys(
                    numbers + [v for w, v in LEVEL_WORDS.items() if w in said]))
        if str in arg.types:
            if arg.choices:
                values += [c for c in arg.choices if any(
                    _phrase_in(p, said) for p in evidence.synonyms.get(c, {c.replace("_", " ")}))]
            elif arg.kind is Kind.CLOCK_TIME:
                values += [t for t in _times_near(request) if time_grounded(t, request)]
            elif arg.kind is Kind.SAID_DAY:
                values += sorted(days_in(request))
            elif arg.kind is Kind.PERIOD:
                values += [w for w in ("today", "yesterday") if w in said]
                values += [f"{n}h" for n in numbers if 0 < n <= 72]
            else:
                # Most words a name may have, as in the templates; free text has no limit.
                limit = None if arg.kind is Kind.TEXT else arg.max_words or 6
                texts = [s for s in spans(request, limit) if len(s) <= arg.max_length]
                if arg.kind is not Kind.TEXT:  # "my sister" is "sister", as in the templates
                    texts = [LEADING_DETERMINERS.sub("", s) or s for s in texts]
                if arg.kind is Kind.CONTACT:  # a number as digits, as the templates give it
                    texts = [re.sub(r"[^\d+]", "", s) if PHONE.fullmatch(s) else s
                             for s in texts]
                values += list(dict.fromkeys(texts))
        found[arg.name] = tuple(values)
    return found
