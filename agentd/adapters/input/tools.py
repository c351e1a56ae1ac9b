"""input.tap, input.type and input.key: each takes the first available input backend that
can do the operation (``atspi`` for widgets by name and text fields, ``uinput`` for
points, keys and typing as a keyboard)."""

from __future__ import annotations

from agentd.adapters.base import AdapterRegistry, Availability, Check
from agentd.adapters.input import INPUT_CAPABILITY, Input, Operation
from agentd.errors import NotFound, Unavailable
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult


def can(operation: Operation) -> Check[Input]:
    """A backend serves ``operation`` if it has it and works here."""
    async def check(backend: Input) -> Availability:
        if operation not in backend.operations:
            return Availability.no(f"cannot {operation}")
        return await backend.availability()
    return check


async def backends_for(adapters: AdapterRegistry, operation: Operation
                       ) -> tuple[list[Input], list[str]]:
    """The available backends that can do ``operation``, preferred first; and why the
    others cannot."""
    return await adapters.usable(INPUT_CAPABILITY, can(operation))


async def first_for(adapters: AdapterRegistry, operation: Operation) -> Input:
    return await adapters.select(
        INPUT_CAPABILITY, can(operation),
        lambda reasons: f"nothing here can {operation} "
                        f"({'; '.join(reasons) or 'no input backend is installed'})")


def install_input_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def tap(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        if "target" in args:
            backend = await first_for(adapters, Operation.TAP_TARGET)
            what = await backend.tap_target(str(args["target"]))
            return ToolResult(f"Tapped {what}.", {"target": args["target"],
                                                   "backend": backend.name})
        x, y = int(args["x"]), int(args["y"])
        backend = await first_for(adapters, Operation.TAP_POINT)
        await backend.tap_point(x, y)
        return ToolResult(f"Tapped the screen at {x}, {y}.",
                          {"x": x, "y": y, "backend": backend.name})

    async def type_text(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        text = str(args["text"])
        usable, reasons = await backends_for(adapters, Operation.TYPE)
        if not usable:
            raise Unavailable(f"nothing here can {Operation.TYPE} ({'; '.join(reasons)})")

        def typed(backend: Input, where: str) -> ToolResult:
            return ToolResult(f"Typed {len(text)} character(s) into {where}.",
                              {"characters": len(text), "backend": backend.name})

        for backend in usable[:-1]:
            try:  # atspi finds no focused field: a keyboard types wherever the focus is
                return typed(backend, await backend.type_text(text))
            except NotFound:
                continue
        return typed(usable[-1], await usable[-1].type_text(text))

    async def key(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        backend = await first_for(adapters, Operation.KEY)
        await backend.press_key(str(args["key"]))
        return ToolResult(f"Pressed {args['key']}.", {"key": args["key"],
                                                       "backend": backend.name})

    tools.implement("input.tap", tap)
    tools.implement("input.type", type_text)
    tools.implement("input.key", key)
