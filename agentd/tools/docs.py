"""The catalogue's tables in ``docs/tools-v1.md`` and ``docs/tools-v2.md`` (the tools
version 2 adds), generated from the declarations.

``python -m agentd.tools.docs docs/tools-v1.md docs/tools-v2.md`` rewrites each file's
table between its markers; ``tests/test_catalogue.py`` fails when a file and the
declarations drift apart.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from agentd.tools.registry import Arg, Kind, ToolSpec

BEGIN = "<!-- tools table: generated from agentd/tools/catalogue.py (make tools-doc) -->"
END = "<!-- end of the generated table -->"
MAX_CHOICES = 6


def _type(arg: Arg) -> str:
    if arg.kind is Kind.CLOCK_TIME:
        return '"HH:MM"'
    if arg.kind is Kind.DAY:
        return '"YYYY-MM-DD"'
    if arg.kind is Kind.SAID_DAY:
        return "str"
    return " | ".join(t.__name__ for t in arg.types)


def _note(arg: Arg) -> str:
    """After the type: the choices, or the kind where the type alone does not say it."""
    if arg.choices:
        shown = [f"`{c}`" for c in arg.choices[:MAX_CHOICES]]
        return f" ({', '.join(shown)}{', …' if len(arg.choices) > MAX_CHOICES else ''})"
    if arg.kind in (Kind.CLOCK_TIME, Kind.DAY, Kind.SAID_DAY, Kind.TEXT, Kind.BY_VARIANT):
        return ""
    return f" ({arg.kind.value})"


def _arg(arg: Arg, required: bool) -> str:
    type_ = _type(arg).replace("|", "\\|")
    return f"`{arg.name}{'' if required else '?'}: {type_}`{_note(arg)}"


def render_args(spec: ToolSpec) -> str:
    if not spec.args:
        return "—"
    if spec.one_of:
        return " or ".join(", ".join(_arg(a, True) for a, _ in shape)
                           for shape in spec.arg_variants())
    return ", ".join(_arg(a, a.required) for a in spec.args)


def render_variants(spec: ToolSpec) -> str:
    """settings.set: "`wifi`, `bluetooth`, … take a toggle (bool); ... a percent (int)"."""
    parts = []
    for variant in spec.variants:
        chooser = next(a for a in variant if a.choices)
        others = [a for a in variant if a is not chooser]
        choices = ", ".join(f"`{c}`" for c in chooser.choices)
        parts.append(f"{choices}: {', '.join(f'{a.name} is {a.kind.value}' for a in others)}")
    return "; ".join(parts)


def render_table(specs: Sequence[ToolSpec]) -> str:
    lines = [BEGIN, "| tool | args | risk | what it does |", "|---|---|---|---|"]
    for spec in specs:
        what = spec.description.rstrip(".")
        if spec.variants:
            what += f" ({render_variants(spec)})"
        lines.append(f"| `{spec.name}` | {render_args(spec)} | {spec.risk.value} | {what} |")
    lines.append(END)
    return "\n".join(lines)


def rewrite(text: str, specs: Sequence[ToolSpec]) -> str:
    """``text`` with the table between the markers replaced by the declarations'."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + render_table(specs) + text[end:]


def tables() -> dict[str, Sequence[ToolSpec]]:
    """Each generated file's name and the tools its table shows."""
    from agentd.tools.catalogue import CATALOGUE_V1, CATALOGUE_V2

    return {"tools-v1.md": CATALOGUE_V1, "tools-v2.md": CATALOGUE_V2}


def main(argv: list[str]) -> int:
    for path in map(Path, argv or ["docs/tools-v1.md", "docs/tools-v2.md"]):
        specs = tables()[path.name]
        path.write_text(rewrite(path.read_text(encoding="utf-8"), specs), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
