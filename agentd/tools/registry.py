"""Tool declarations: name, description, typed arguments and risk, declared once.

A ``ToolSpec`` is the single source of truth for a tool. Its arguments have a ``Kind``
(a duration, a clock time, a contact, a toggle, a percent, free text, a choice...), made
by the constructors below, and cross-argument shapes are ``variants`` (settings.set: a
toggle setting takes on/off, a level a percent). Everything else derives from it: the
template tier cleans a slot by its argument's kind, the model tier renders
``ToolSpec.json_schema()`` and a grammar from the same arguments and variants, the policy
reads ``risk``, ``docs/tools-v1.md``'s table is generated from it (``agentd.tools.docs``),
and the executor validates every step against ``ToolSpec.validate()`` right before
running it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from agentd.errors import InvalidArguments, NotFound, Unavailable

if TYPE_CHECKING:
    from agentd.tools.context import ToolContext

ArgValue = str | int | bool


class Risk(StrEnum):
    """What running a tool can do to the world."""

    READ = "read"  # looks: screen, files, notifications
    LOCAL = "local"  # reversible change on the phone
    EXTERNAL = "external"  # data leaves the phone: SMS, calls, network
    # A tool that cannot be undone (delete for good, pay) would add a risk above external,
    # which asks every time and cannot be granted; no tool is one today.

    @property
    def needs_confirmation(self) -> bool:
        """The default policy: read and local run, external asks the user."""
        return self is Risk.EXTERNAL


HHMM = r"([01][0-9]|2[0-3]):[0-5][0-9]"
YYYY_MM_DD = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# A day as the user said it (shared/TOOLS-v2.md, "Days"): resolved when the step runs.
SAID_DAY = ("(?:today|tomorrow|" + "|".join(WEEKDAYS)
            + rf"|(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])|{YYYY_MM_DD})")
DAY_S = 24 * 3600


class Kind(StrEnum):
    """What an argument holds, beyond its JSON type: how it is said, cleaned and shown."""

    DURATION = "duration"  # whole seconds
    CLOCK_TIME = "clock time"  # "HH:MM", 24-hour
    DAY = "day"  # "YYYY-MM-DD"
    SAID_DAY = "said day"  # "today", "tomorrow", "friday", "MM-DD" or "YYYY-MM-DD"
    PERIOD = "period"  # how far back: "today", "HH:MM", "2h", ...
    CONTACT = "contact"  # a contact's name as the user said it, or a phone number
    TOGGLE = "toggle"  # on/off: true/false
    PERCENT = "percent"  # 0-100
    COORDINATE = "coordinate"  # screen pixels
    TEXT = "text"  # free text, kept as written (messages, notification text)
    NAME = "name"  # a name the user said (app, label, widget, search words): trimmed
    PATH = "path"  # a file path, as files.find reported it
    CHOICE = "choice"  # one of a fixed list
    BY_VARIANT = "by variant"  # depends on another argument: see the tool's variants

    @property
    def describe(self) -> str:
        """How the kind reads in an error: "wifi is on or off (true/false)"."""
        return _KIND_WORDS.get(self, f"a {self.value}")


_KIND_WORDS = {Kind.TOGGLE: "on or off (true/false)", Kind.PERCENT: "a percentage 0-100",
               Kind.DURATION: "a number of seconds", Kind.CLOCK_TIME: 'a time "HH:MM"'}


@dataclass(frozen=True)
class Arg:
    """One typed argument of a tool; made with the constructors below (``duration``,
    ``text``, ``choice``, ...), which set the JSON type and bounds from the kind."""

    name: str
    types: tuple[type, ...]
    description: str
    required: bool = True
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 500
    kind: Kind = Kind.TEXT
    # For names the user says: more words than this is a misparse, not a name.
    max_words: int | None = None

    def check(self, tool: str, value: object) -> ArgValue:
        """Return ``value`` if it fits this argument, else raise ``InvalidArguments``."""
        # bool is a subclass of int: a bool is only an int where bool is allowed.
        type_ok = any(
            isinstance(value, t) and (t is bool or not isinstance(value, bool))
            for t in self.types
        )
        if not type_ok:
            wanted = " or ".join(t.__name__ for t in self.types)
            raise InvalidArguments(
                f"{tool}: argument '{self.name}' must be {wanted}, got {value!r}"
            )
        if isinstance(value, str):
            if len(value) > self.max_length:
                raise InvalidArguments(
                    f"{tool}: argument '{self.name}' is longer than {self.max_length} characters"
                )
            if self.choices and value not in self.choices:
                raise InvalidArguments(
                    f"{tool}: argument '{self.name}' must be one of "
                    f"{', '.join(self.choices)}; got {value!r}"
                )
            if self.pattern and not re.fullmatch(self.pattern, value):
                raise InvalidArguments(
                    f"{tool}: argument '{self.name}' must match {self.pattern}; got {value!r}"
                )
        elif isinstance(value, int) and not isinstance(value, bool):
            if self.minimum is not None and value < self.minimum:
                raise InvalidArguments(
                    f"{tool}: argument '{self.name}' must be at least {self.minimum}"
                )
            if self.maximum is not None and value > self.maximum:
                raise InvalidArguments(
                    f"{tool}: argument '{self.name}' must be at most {self.maximum}"
                )
        return value  # type: ignore[return-value]

    def json_schema(self) -> dict[str, Any]:
        """This argument as a (bounded) JSON schema, for the model tier."""
        names = {str: "string", int: "integer", bool: "boolean"}
        alternatives: list[dict[str, Any]] = []
        for t in self.types:
            schema: dict[str, Any] = {"type": names[t]}
            if t is str:
                if self.choices:
                    schema["enum"] = list(self.choices)
                else:
                    schema["maxLength"] = self.max_length
                if self.pattern:
                    schema["pattern"] = self.pattern
            elif t is int:
                if self.minimum is not None:
                    schema["minimum"] = self.minimum
                if self.maximum is not None:
                    schema["maximum"] = self.maximum
            alternatives.append(schema)
        result = alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives}
        return {**result, "description": self.description}


def duration(name: str, description: str, *, maximum: int = DAY_S,
             required: bool = True) -> Arg:
    return Arg(name, (int,), description, required, minimum=1, maximum=maximum,
               kind=Kind.DURATION)


def clock_time(name: str, description: str, *, required: bool = True) -> Arg:
    return Arg(name, (str,), description, required, pattern=HHMM, kind=Kind.CLOCK_TIME)


def day(name: str, description: str, *, required: bool = True) -> Arg:
    return Arg(name, (str,), description, required, pattern=YYYY_MM_DD, kind=Kind.DAY)


def said_day(name: str, description: str, *, required: bool = True) -> Arg:
    """A day as TOOLS-v2 writes it: "today", "tomorrow", a weekday, "MM-DD", "YYYY-MM-DD"."""
    return Arg(name, (str,), description, required, pattern=SAID_DAY, max_length=10,
               kind=Kind.SAID_DAY)


def period(name: str, description: str, *, required: bool = True) -> Arg:
    return Arg(name, (str,), description, required, max_length=40, kind=Kind.PERIOD)


def contact(name: str, description: str, *, required: bool = True) -> Arg:
    return Arg(name, (str,), description, required, max_length=100, kind=Kind.CONTACT,
               max_words=4)


def toggle(name: str, description: str, *, required: bool = True) -> Arg:
    return Arg(name, (bool,), description, required, kind=Kind.TOGGLE)


def percent(name: str, description: str, *, required: bool = True) -> Arg:
    return Arg(name, (int,), description, required, minimum=0, maximum=100,
               kind=Kind.PERCENT)


def coordinate(name: str, description: str, *, required: bool = True) -> Arg:
    return Arg(name, (int,), description, required, minimum=0, maximum=10000,
               kind=Kind.COORDINATE)


def text(name: str, description: str, *, max_length: int = 500,
         required: bool = True) -> Arg:
    return Arg(name, (str,), description, required, max_length=max_length, kind=Kind.TEXT)


def name_(name: str, description: str, *, max_length: int = 100, max_words: int | None = None,
          required: bool = True) -> Arg:
    return Arg(name, (str,), description, required, max_length=max_length, kind=Kind.NAME,
               max_words=max_words)


def path(name: str, description: str, *, required: bool = True) -> Arg:
    return Arg(name, (str,), description, required, max_length=4096, kind=Kind.PATH,
               max_words=8)


def choice(name: str, description: str, choices: tuple[str, ...], *,
           required: bool = True) -> Arg:
    return Arg(name, (str,), description, required, choices=choices, kind=Kind.CHOICE)


def by_variant(name: str, description: str, *variants: Arg, required: bool = True) -> Arg:
    """An argument whose kind depends on another (settings.set's value): the union of
    ``variants``' types and bounds (for the schema); the tool's ``variants`` say which
    applies when, and check it."""
    types = tuple(dict.fromkeys(t for v in variants for t in v.types))
    lows = [v.minimum for v in variants if v.minimum is not None]
    highs = [v.maximum for v in variants if v.maximum is not None]
    return Arg(name, types, description, required, minimum=min(lows) if lows else None,
               maximum=max(highs) if highs else None, kind=Kind.BY_VARIANT)


Variant = tuple[Arg, ...]  # the tool's arguments narrowed for one case


@dataclass(frozen=True)
class ToolResult:
    """What a tool did: a sentence for the user and structured data for scripts."""

    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


ToolHandler = Callable[["ToolContext", dict[str, ArgValue]], Awaitable[ToolResult]]


@dataclass(frozen=True)
class Choice:
    """One thing a step may mean when it names several (two contacts called Sam): how the
    question lists it, the step's summary once chosen, and the values the handler uses."""

    label: str
    summary: str
    bound: Mapping[str, ArgValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """What a step turned out to mean before the user is asked about it (call.dial's
    "mom" is Anna Berg's mobile number): the summary the confirmation shows and the audit
    log keeps, and the values the handler then uses (``ToolContext.bound``), so what runs
    is what was confirmed. The step's arguments stay as planned.

    With ``choices`` the step means one of several things and agentd never guesses: the
    user is asked which one ("Call which “Sam”?"), whatever the policy and the grants
    would say, and the one chosen replaces ``summary`` and ``bound``."""

    summary: str
    bound: Mapping[str, ArgValue] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()


# Resolves a step's arguments before its policy check; None when there is nothing to
# resolve. Its errors fail the step before anyone is asked.
ToolPreparer = Callable[[dict[str, ArgValue]], Awaitable[Prepared | None]]


@dataclass(frozen=True)
class ToolSpec:
    """The one declaration of a tool."""

    name: str
    description: str
    risk: Risk
    args: tuple[Arg, ...] = ()
    # Capability (adapter) the tool needs: "screen", "input", ... or "core" for built-ins.
    capability: str = "core"
    # Sets of arguments of which exactly one must be given (input.tap: target, or x+y).
    one_of: tuple[tuple[str, ...], ...] = ()
    # How the confirmation prompt and dry runs describe a step: str.format over the args,
    # or a function of them where plain formatting reads badly.
    summary: str | Callable[[Mapping[str, ArgValue]], str] = ""
    # Where the tool's result comes from ("text on the screen", "file names"): content
    # others control, which taints the task. Every result is untrusted unless the
    # declaration says ``trusted`` (agentd's own words about what it did, or the user's);
    # a handler may still name its result's source in ``data["provenance"]``, or say ""
    # for a result that quotes nothing from outside.
    untrusted: str = ""
    trusted: bool = False
    # Shapes across arguments that types alone cannot express: a valid call fits one.
    # Each variant narrows some arguments (same names); a ``choice`` argument in it says
    # when it applies. The validator, the JSON schema and the grammar all read these.
    variants: tuple[Variant, ...] = ()

    @property
    def source(self) -> str:
        """What the result is, as the taint note names it."""
        return self.untrusted or f"results of {self.name}"

    def arg(self, name: str) -> Arg:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(name)

    def validate(self, args: Mapping[str, object]) -> dict[str, ArgValue]:
        """Check ``args`` against the declaration; return a clean copy."""
        known = {a.name for a in self.args}
        unknown = sorted(set(args) - known)
        if unknown:
            raise InvalidArguments(
                f"{self.name}: unknown argument(s) {', '.join(unknown)}; "
                f"it takes {', '.join(sorted(known)) or 'no arguments'}"
            )
        # An argument whose kind depends on another is checked by the variants below.
        clean = {name: value if self.arg(name).kind is Kind.BY_VARIANT
                 else self.arg(name).check(self.name, value) for name, value in args.items()}
        if self.one_of:
            given = [group for group in self.one_of if all(n in clean for n in group)]
            if len(given) != 1:
                options = " or ".join("+".join(g) for g in self.one_of)
                raise InvalidArguments(f"{self.name}: give exactly one of {options}")
        else:
            missing = [a.name for a in self.args if a.required and a.name not in clean]
            if missing:
                raise InvalidArguments(
                    f"{self.name}: missing required argument(s) {', '.join(missing)}"
                )
        if self.variants and not any(self._fits(v, clean) for v in self.variants):
            raise InvalidArguments(f"{self.name}: {self._misfit(clean)}")
        return clean  # type: ignore[return-value]  # by-variant values: checked just above

    def __post_init__(self) -> None:
        for arg in self.args:
            if arg.kind is Kind.BY_VARIANT and not any(
                    a.name == arg.name for v in self.variants for a in v):
                raise ValueError(f"{self.name}: {arg.name} is by variant, and no variant "
                                 "says its kind")

    def _fits(self, variant: Variant, clean: Mapping[str, object]) -> bool:
        try:
            for arg in variant:
                if arg.name in clean:
                    arg.check(self.name, clean[arg.name])
        except InvalidArguments:
            return False
        return True

    def _misfit(self, clean: Mapping[str, object]) -> str:
        """Why ``clean`` fits no variant, said by the variant its choices select."""
        for variant in self.variants:
            chosen = [a for a in variant if a.choices and clean.get(a.name) in a.choices]
            if not chosen:
                continue
            for arg in variant:
                if arg.name in clean and arg not in chosen:
                    return (f"{clean[chosen[0].name]} is {arg.kind.describe}, "
                            f"not {clean[arg.name]!r}")
        return "these arguments fit none of its forms"

    def arg_variants(self) -> list[tuple[tuple[Arg, bool], ...]]:
        """The argument shapes a valid call can take: (argument, required) in declaration
        order, one tuple per variant (or per ``one_of`` group)."""
        if self.variants:
            result = []
            for variant in self.variants:
                narrowed = {a.name: a for a in variant}
                result.append(tuple((narrowed.get(a.name, a), a.required) for a in self.args))
            return result
        if not self.one_of:
            return [tuple((a, a.required) for a in self.args)]
        grouped = {name for group in self.one_of for name in group}
        return [tuple((a, a.name in group or a.required) for a in self.args
                      if a.name in group or a.name not in grouped)
                for group in self.one_of]

    def describe(self, args: Mapping[str, object]) -> str:
        """A plain sentence saying exactly what this step will do."""
        if not self.summary:
            return self.name
        if callable(self.summary):
            return self.summary(args)  # type: ignore[arg-type]
        values = _FormatDefaults({k: _display(v) for k, v in args.items()})
        return self.summary.format_map(values).strip()

    def json_schema(self) -> dict[str, Any]:
        """The tool as a function schema: the model tier renders this into its prompt."""
        params: dict[str, Any] = {
            "type": "object",
            "properties": {a.name: a.json_schema() for a in self.args},
            "additionalProperties": False,
        }
        if self.one_of:
            params["oneOf"] = [{"required": list(group)} for group in self.one_of]
        else:
            params["required"] = [a.name for a in self.args if a.required]
        if self.variants:
            params["oneOf"] = [{"properties": {a.name: _bare(a.json_schema()) for a in variant}}
                               for variant in self.variants]
        return {"name": self.name, "description": self.description, "parameters": params}


def _bare(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "description"}


class _FormatDefaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _display(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


async def _unavailable(spec: ToolSpec) -> ToolResult:
    raise Unavailable(
        f"{spec.name} needs the '{spec.capability}' adapter, which this agentd does not "
        f"have yet; no {spec.capability} backend is installed"
    )


class ToolRegistry:
    """The tools this daemon offers: declarations plus the handlers that run them."""

    def __init__(self, specs: Iterable[ToolSpec]) -> None:
        self._specs: dict[str, ToolSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"tool {spec.name} declared twice")
            self._specs[spec.name] = spec
        self._handlers: dict[str, ToolHandler] = {}
        self._preparers: dict[str, ToolPreparer] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Any:
        return iter(self._specs.values())

    def spec(self, name: str) -> ToolSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise NotFound(
                f"there is no tool named {name!r}; `agentctl tools` lists them") from None

    def implement(self, name: str, handler: ToolHandler,
                  prepare: ToolPreparer | None = None) -> None:
        """``handler`` runs the tool; ``prepare`` (if any) resolves a step before it is
        confirmed. Implementing a tool again replaces both."""
        self.spec(name)  # must be declared first
        self._handlers[name] = handler
        if prepare is None:
            self._preparers.pop(name, None)
        else:
            self._preparers[name] = prepare

    def preparer(self, name: str) -> ToolPreparer | None:
        return self._preparers.get(name)

    async def prepare(self, name: str, args: Mapping[str, object]) -> Prepared | None:
        """What the step means, resolved (``Prepared``), or None when nothing needs it."""
        preparer = self._preparers.get(name)
        return None if preparer is None else await preparer(self.spec(name).validate(args))

    def is_implemented(self, name: str) -> bool:
        return name in self._handlers

    async def run(self, ctx: ToolContext, name: str, args: Mapping[str, object]) -> ToolResult:
        spec = self.spec(name)
        clean = spec.validate(args)
        handler = self._handlers.get(name)
        if handler is None:
            return await _unavailable(spec)
        return await handler(ctx, clean)
