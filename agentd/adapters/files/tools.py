"""files.find, files.list, files.move, files.trash over the selected files backend."""

from __future__ import annotations

import asyncio

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.files import FILES_CAPABILITY, FileEntry, Files
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult

FIND_LIMIT = 50
SAY_AT_MOST = 10


def _names(entries: list[FileEntry]) -> str:
    shown = ", ".join(e.path.name + ("/" if e.is_dir else "") for e in entries[:SAY_AT_MOST])
    more = len(entries) - SAY_AT_MOST
    return shown + (f" and {more} more" if more > 0 else "")


def install_file_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def backend() -> Files:
        return await adapters.select(FILES_CAPABILITY)

    async def find(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        files = await backend()
        kind = str(args["kind"]) if "kind" in args else None
        found = await asyncio.to_thread(files.find, str(args["query"]), kind, FIND_LIMIT)
        what = f"{kind} file" if kind else "file"
        if not found:
            return ToolResult(f"No {what}s match “{args['query']}”.",
                              {"paths": [], "files": [], "provenance": "file names"})
        plural = "" if len(found) == 1 else "s"
        return ToolResult(f"Found {len(found)} {what}{plural}: {_names(found)}.",
                          {"paths": [str(e.path) for e in found],
                           "files": [e.to_json() for e in found],
                           "provenance": "file names"})

    async def list_folder(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        files = await backend()
        folder = str(args["folder"])
        path, entries = await asyncio.to_thread(files.list_folder, folder)
        text = (f"Your {folder} folder is empty." if not entries else
                f"Your {folder} folder has {len(entries)} item(s): {_names(entries)}.")
        return ToolResult(text, {"folder": str(path), "entries": [e.to_json() for e in entries],
                                 "provenance": "file names"})

    async def move(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        files = await backend()
        folder = str(args["folder"])
        target = await asyncio.to_thread(files.move, str(args["path"]), folder)
        return ToolResult(f"Moved {target.name} to {folder}.",
                          {"path": str(target), "folder": folder})

    async def trash(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        files = await backend()
        trashed = await asyncio.to_thread(files.trash, str(args["path"]))
        name = str(args["path"]).rstrip("/").rsplit("/", 1)[-1]
        return ToolResult(f"Moved {name} to the trash.", {"trashed": str(trashed)})

    tools.implement("files.find", find)
    tools.implement("files.list", list_folder)
    tools.implement("files.move", move)
    tools.implement("files.trash", trash)
