"""Tool declarations: name, description, typed arguments and risk, declared once.

A ``ToolSpec`` is the single source of truth for a tool. The template tier maps its
slots onto the spec's arguments, the model tier renders ``ToolSpec.json_schema()``
into its prompt and grammar, the policy reads ``risk``, and the executor validates
every step against ``ToolSpec.validate()`` right before running it.
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
    IRREVERSIBLE = "irreversible"  # cannot be undone: delete for good, pay

    @property
    def needs_confirmation(self) -> bool:
        """The default policy: read and local run, the others ask the user."""
        return self in (Risk.EXTERNAL, Risk.IRREVERSIBLE)


@dataclass(frozen=True)
class Arg:
    """One typed argument of a tool."""

    name: str
    types: tuple[type, ...]
    description: str
    required: bool = True
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 500

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


@dataclass(frozen=True)
class ToolResult:
    """What a tool did: a sentence for the user and structured data for scripts."""

    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


ToolHandler = Callable[["ToolContext", dict[str, ArgValue]], Awaitable[ToolResult]]


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
    # A check across arguments that types alone cannot express; returns why not, or None.
    check: Callable[[Mapping[str, ArgValue]], str | None] | None = None

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
        clean = {name: self.arg(name).check(self.name, value) for name, value in args.items()}
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
        if self.check is not None and (problem := self.check(clean)) is not None:
            raise InvalidArguments(f"{self.name}: {problem}")
        return clean

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
        return {"name": self.name, "description": self.description, "parameters": params}


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

    def implement(self, name: str, handler: ToolHandler) -> None:
        self.spec(name)  # must be declared first
        self._handlers[name] = handler

    def is_implemented(self, name: str) -> bool:
        return name in self._handlers

    async def run(self, ctx: ToolContext, name: str, args: Mapping[str, object]) -> ToolResult:
        spec = self.spec(name)
        clean = spec.validate(args)
        handler = self._handlers.get(name)
        if handler is None:
            return await _unavailable(spec)
        return await handler(ctx, clean)
