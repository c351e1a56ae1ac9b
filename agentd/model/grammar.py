"""A GBNF grammar that lets the model write one valid tool call or a final reply, no more.

The model's whole output is one JSON object::

    {"tool": "settings.set", "args": {"setting": "wifi", "value": false}}
    {"reply": "Done: wifi is off."}

The grammar is generated from the ``ToolSpec`` declarations (the same ones the template
tier uses), and is stricter than llama-cpp-python's JSON-schema converter:

* strings admit no raw control characters and no ``\\u`` escapes (llama-cpp-python's
  ``char ::= [^"\\\\] | ...`` lets raw control characters through: invalid JSON), and
  every string is bounded (``max_string_chars``), so a confused model cannot run on;
* integers are generated digit by digit inside ``[minimum, maximum]`` (the converter
  ignores both), with no leading zeros;
* ``one_of`` groups and the declaration's ``variants`` (settings.set: toggles take
  true/false, levels a percent) become one alternative each;
* ``allowed`` (the model tier's guard) may narrow an argument to listed values, e.g. the
  spans of the request: copying a span is far easier for a small model than writing.

So every output that completes the grammar parses and passes ``ToolSpec.validate``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from agentd.errors import InvalidArguments
from agentd.tools.registry import Arg, Kind, ToolSpec
from agentd.understanding.plan import PlannedStep
from agentd.understanding.planner import FinalReply

# One JSON string character: anything but '"', '\' and control characters, or a plain
# escape. No \u escapes: they could spell control characters or lone surrogates.
CHAR_RULE = r'[^"\\\x7F\x00-\x1F] | "\\" ["\\/nt]'
WS_RULE = '" "?'
UNBOUNDED_INT = 10**9 - 1
REPLY_CHARS = 400

Variant = tuple[tuple[Arg, bool], ...]  # (argument, required) in declaration order
# (tool, argument) -> the only values the grammar admits for it.
Allowed = dict[tuple[str, str], tuple[object, ...]]


def literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def json_literal(value: object) -> str:
    """The JSON spelling of ``value`` as a GBNF literal."""
    return literal(json.dumps(value, ensure_ascii=False))


# -- integers ------------------------------------------------------------------------


def _digit_ranges(lo: int, hi: int) -> list[str]:
    """GBNF sequences matching exactly the decimal numbers lo..hi (0 <= lo <= hi)."""
    stops = {hi}
    nines = 1
    while lo <= (stop := int(str(lo)[:-nines] + "9" * nines)) < hi:
        stops.add(stop)
        nines += 1
    zeros = 1
    while lo < (stop := (hi + 1) - (hi + 1) % 10**zeros - 1) <= hi:
        stops.add(stop)
        zeros += 1
    out, start = [], lo
    for stop in sorted(stops):
        parts = []
        for a, b in zip(str(start), str(stop), strict=True):
            parts.append(f'"{a}"' if a == b else f"[{a}-{b}]")
        out.append(" ".join(parts))
        start = stop + 1
    return out


def integer_rule(minimum: int | None, maximum: int | None) -> str:
    """A GBNF expression for the JSON integers in [minimum, maximum]."""
    lo = -UNBOUNDED_INT if minimum is None else minimum
    hi = UNBOUNDED_INT if maximum is None else maximum
    if lo > hi:
        raise ValueError(f"empty integer range [{lo}, {hi}]")
    alts = []
    if lo < 0:
        alts += [f'"-" {seq}' for seq in _digit_ranges(max(1, -hi), -lo)]
    if hi >= 0:
        alts += _digit_ranges(max(0, lo), hi)
    return "( " + " | ".join(alts) + " )"


# -- patterned kinds ------------------------------------------------------------------

# GBNF for the arguments whose declaration has a pattern, by kind: written out, and
# tested to match exactly what the pattern does (tests/test_model_grammar.py).
KIND_RULES: dict[Kind, tuple[str, int]] = {  # rule (inside the quotes), most bytes
    Kind.CLOCK_TIME: ('( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9]', 7),
    Kind.DAY: ('[0-9] [0-9] [0-9] [0-9] "-" ( "0" [1-9] | "1" [0-2] ) "-" '
               '( "0" [1-9] | [12] [0-9] | "3" [01] )', 12),
    Kind.SAID_DAY: ('( "today" | "tomorrow" | "monday" | "tuesday" | "wednesday" | "thursday" '
                    '| "friday" | "saturday" | "sunday" | ( [0-9] [0-9] [0-9] [0-9] "-" )? '
                    '( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] ) )', 12),
}


def pattern_rule(arg: Arg) -> tuple[str, int]:
    """The GBNF of a patterned argument's value (quotes included) and its most bytes."""
    if arg.kind not in KIND_RULES:
        raise ValueError(f"argument {arg.name} has a pattern and kind {arg.kind.value!r}, which "
                         "the grammar has no rule for; add one to KIND_RULES")
    rule, size = KIND_RULES[arg.kind]
    return f'"\\"" {rule} "\\""', size


# -- the grammar ---------------------------------------------------------------------


@dataclass(frozen=True)
class ActionGrammar:
    """The grammar text, the tools it offers, and the most bytes an output can take."""

    gbnf: str
    tools: tuple[str, ...]
    max_bytes: int


class _Builder:
    def __init__(self, max_string_chars: int, allowed: Allowed | None = None) -> None:
        self.cap = max_string_chars
        self.allowed = allowed or {}
        self.tool_name = ""
        self.rules: dict[str, str] = {"ws": WS_RULE, "char": CHAR_RULE}

    def allowed_values(self, arg: Arg) -> list[object] | None:
        """The values ``allowed`` leaves for ``arg`` (valid ones only); None: not narrowed."""
        values = self.allowed.get((self.tool_name, arg.name))
        if values is None:
            return None
        fits = []
        for value in values:
            try:
                arg.check(self.tool_name, value)
            except InvalidArguments:
                continue
            fits.append(value)
        return fits

    def add(self, name: str, body: str) -> str:
        name = re.sub(r"[^a-zA-Z0-9-]", "-", name)
        self.rules[name] = body
        return name

    def value(self, arg: Arg) -> tuple[str, int]:
        """GBNF for one argument's value, and the most bytes it can take."""
        narrowed = self.allowed_values(arg)
        if narrowed:
            size = max(len(json.dumps(v, ensure_ascii=False).encode()) for v in narrowed)
            return "( " + " | ".join(json_literal(v) for v in narrowed) + " )", size
        alts: list[str] = []
        size = 0
        for t in arg.types:
            if t is bool:
                alts.append('( "true" | "false" )')
                size = max(size, 5)
            elif t is int:
                alts.append(integer_rule(arg.minimum, arg.maximum))
                size = max(size, 11)
            elif arg.choices:
                alts.append("( " + " | ".join(json_literal(c) for c in arg.choices) + " )")
                size = max(size, *(len(json.dumps(c).encode()) for c in arg.choices))
            elif arg.pattern:
                rule, width = pattern_rule(arg)
                alts.append(rule)
                size = max(size, width)
            else:
                n = min(arg.max_length, self.cap)
                alts.append(f'"\\"" char{{0,{n}}} "\\""')
                size = max(size, 2 + 4 * n)
        return ("( " + " | ".join(alts) + " )", size)

    def members(self, fields: Variant, first: bool) -> tuple[str, int]:
        """Object members in order; optional ones may be left out, commas in between."""
        if not fields:
            return "", 0
        (arg, required), rest = fields[0], fields[1:]
        value, size = self.value(arg)
        sep = "" if first else '"," ws '
        member = f'{sep}{json_literal(arg.name)} ws ":" ws {value}'
        tail, tail_size = self.members(rest, first=False)
        size += len(arg.name) + 8 + tail_size
        if required:
            return f"{member} {tail}".strip(), size
        if not first:
            return f"( {member} )? {tail}".strip(), size
        without, _ = self.members(rest, first=True)
        with_member = f"{member} {tail}".strip()
        return (f"( {with_member} | {without} )" if without else f"( {with_member} )?",
                size)

    def narrow(self, fields: Variant) -> Variant | None:
        """``fields`` without arguments narrowed to nothing; None if a required one is."""
        kept = []
        for arg, required in fields:
            if self.allowed_values(arg) == []:
                if required:
                    return None
                continue
            kept.append((arg, required))
        return tuple(kept)

    def tool(self, spec: ToolSpec) -> tuple[str, int] | None:
        """The rule for a call of ``spec``; None when ``allowed`` leaves no valid call."""
        self.tool_name = spec.name
        alts, size = [], 0
        for variant in spec.arg_variants():
            fields = self.narrow(variant)
            if fields is None:
                continue
            body, n = self.members(fields, first=True)
            alts.append(f'"{{" ws {body} ws "}}"' if body else '"{" ws "}"')
            size = max(size, n + 4)
        if not alts:
            return None
        args = self.add(f"args-{spec.name}", " | ".join(alts))
        rule = self.add(f"call-{spec.name}",
                        f'{json_literal(spec.name)} ws "," ws "\\"args\\"" ws ":" ws {args}')
        return rule, size + len(spec.name) + 24

    def format(self) -> str:
        return "\n".join(f"{name} ::= {body}" for name, body in self.rules.items()) + "\n"


def build_grammar(specs: Sequence[ToolSpec], max_string_chars: int = 200,
                  reply_chars: int = REPLY_CHARS, allow_reply: bool = True,
                  allowed: Allowed | None = None) -> ActionGrammar:
    """The grammar for one step: a call of one of ``specs``, or (if allowed) a reply.

    A tool that ``allowed`` leaves no valid call of is left out (see ``tools``).
    """
    builder = _Builder(max_string_chars, allowed)
    calls, biggest, offered = [], 0, []
    for spec in specs:
        built = builder.tool(spec)
        if built is None:
            continue
        rule, size = built
        calls.append(rule)
        offered.append(spec.name)
        biggest = max(biggest, size)
    alternatives = []
    if allow_reply or not calls:
        alternatives.append(f'"\\"reply\\"" ws ":" ws "\\"" char{{0,{reply_chars}}} "\\""')
    if calls:
        builder.add("call", " | ".join(calls))
        alternatives.append('"\\"tool\\"" ws ":" ws call')
    root = '"{" ws ( ' + " | ".join(alternatives) + ' ) ws "}"'
    builder.rules = {"root": root, **builder.rules}
    max_bytes = max(biggest, 4 * reply_chars + 12) + 16
    return ActionGrammar(builder.format(), tuple(offered), max_bytes)


def parse_action(text: str, specs: Sequence[ToolSpec]) -> PlannedStep | FinalReply:
    """Turn the model's output into an action; ``ValueError`` (or a subclass) if invalid."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the model's output is not a JSON object")
    if set(data) == {"reply"} and isinstance(data["reply"], str):
        return FinalReply(data["reply"])
    by_name = {s.name: s for s in specs}
    if set(data) != {"tool", "args"} or data["tool"] not in by_name:
        raise ValueError(f"the model's output is neither a call of an offered tool nor a "
                         f"reply: {text[:200]!r}")
    if not isinstance(data["args"], dict):
        raise ValueError("the model's tool arguments are not an object")
    try:
        return PlannedStep(data["tool"], by_name[data["tool"]].validate(data["args"]))
    except InvalidArguments as exc:
        raise ValueError(exc.message) from None
